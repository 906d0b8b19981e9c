-- wrk script of bench/orders_post.sh: POST /api/v1/orders spread over several customers.
--
--   wrk ... -s bench/orders_post.lua http://127.0.0.1:PORT/api/v1/orders -- CUSTOMERS_FILE SKU
--
-- CUSTOMERS_FILE has one customer a line: "ACCESS_TOKEN ADDRESS_ID". Every request places an
-- order of one item (SKU, quantity 1) paid with tok_visa, by the next customer in turn; each
-- thread starts at a different customer. The status codes are counted per thread and summed in
-- done(), which prints one line: "orders_post: status_201 N other N duration_us N".

local threads = {}
local next_id = 0

-- Main state, once per thread before it starts.
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- Thread state: the requests are formatted once.
function init(args)
  local file, sku = args[1], args[2]
  assert(file and sku, "usage: -- CUSTOMERS_FILE SKU")
  prepared = {}
  for line in io.lines(file) do
    local token, address = line:match("^(%S+)%s+(%S+)$")
    if token then
      local body = '{"items":[{"sku":"' .. sku .. '","quantity":1}],"address_id":"' .. address
        .. '","payment_method":"tok_visa"}'
      prepared[#prepared + 1] = wrk.format("POST", wrk.path, {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "application/json",
      }, body)
    end
  end
  assert(#prepared > 0, "no customers in " .. file)
  turn = id % #prepared
  status_201 = 0
  other = 0
end

function request()
  turn = turn % #prepared + 1
  return prepared[turn]
end

function response(status, headers, body)
  if status == 201 then
    status_201 = status_201 + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local accepted, rest = 0, 0
  for _, thread in ipairs(threads) do
    accepted = accepted + thread:get("status_201")
    rest = rest + thread:get("other")
  end
  io.write(string.format("orders_post: status_201 %d other %d duration_us %d\n", accepted, rest, summary.duration))
end
