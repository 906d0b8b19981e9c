#include "core/remote/http_channel.hpp"

#include "core/errors.hpp"
#include "core/http/problem.hpp"
#include "core/log/log.hpp"
#include "core/util/deadline.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <deque>
#include <random>
#include <thread>

namespace deliveryhub::core::remote {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using SteadyClock = std::chrono::steady_clock;

namespace {

// One kept-alive connection; its own io_context runs only while a call uses it.
struct Connection {
  asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  SteadyClock::time_point idle_since{};
};

struct Answer {
  int status = 0;
  std::string body;
  bool keep_alive = false;
  std::string retry_after;
};

// Why an attempt failed, for the breaker and the retry decision.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string hex(std::uint64_t value, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, value >>= 4) out[static_cast<std::size_t>(i)] = kDigits[value & 0xF];
  return out;
}

}  // namespace

struct HttpChannel::Impl {
  Impl(std::string n, const std::string& url, ChannelOptions o, metrics::Metrics& metrics,
       std::function<std::string()> t)
      : name(std::move(n)),
        options(o),
        token(std::move(t)),
        breaker(o.breaker),
        budget(o.retry),
        calls(prometheus::BuildCounter()
                  .Name("deliveryhub_remote_calls_total")
                  .Help("Calls to a remote module, by remote and outcome (ok, client_error, failed, rejected)")
                  .Register(metrics.registry())),
        retries(prometheus::BuildCounter()
                    .Name("deliveryhub_remote_retries_total")
                    .Help("Retries of idempotent calls to a remote module")
                    .Register(metrics.registry())),
        breaker_gauge(prometheus::BuildGauge()
                          .Name("deliveryhub_remote_breaker_state")
                          .Help("Circuit breaker of a remote module: 0 closed, 1 half-open, 2 open")
                          .Register(metrics.registry())),
        random(std::random_device{}()) {
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed || parsed->scheme() != "http" || parsed->host_address().empty()) {
      throw std::invalid_argument("remote '" + name + "': '" + url + "' is not an http://HOST:PORT URL");
    }
    host = parsed->host_address();
    port = parsed->has_port() ? std::string(parsed->port()) : "80";
    breaker_gauge.Add({{"remote", name}}).Set(0);
  }

  std::string name;
  std::string host;
  std::string port;
  ChannelOptions options;
  std::function<std::string()> token;
  CircuitBreaker breaker;
  RetryBudget budget;
  prometheus::Family<prometheus::Counter>& calls;
  prometheus::Family<prometheus::Counter>& retries;
  prometheus::Family<prometheus::Gauge>& breaker_gauge;
  std::mutex pool_mutex;
  std::deque<std::unique_ptr<Connection>> idle;
  std::mutex random_mutex;
  std::mt19937_64 random;

  void publish_state() {
    const auto state = breaker.state(SteadyClock::now());
    breaker_gauge.Add({{"remote", name}})
        .Set(state == CircuitBreaker::State::closed      ? 0
             : state == CircuitBreaker::State::half_open ? 1
                                                         : 2);
  }

  std::unique_ptr<Connection> take() {
    std::lock_guard lock(pool_mutex);
    while (!idle.empty()) {
      auto connection = std::move(idle.back());
      idle.pop_back();
      if (SteadyClock::now() - connection->idle_since < options.max_idle) return connection;
    }
    return nullptr;
  }

  void give_back(std::unique_ptr<Connection> connection) {
    connection->idle_since = SteadyClock::now();
    std::lock_guard lock(pool_mutex);
    if (idle.size() < options.max_idle_connections) idle.push_back(std::move(connection));
  }

  // One HTTP exchange within `timeout`. Throws Failure when no answer came.
  Answer exchange(const RemoteCall& call, std::chrono::milliseconds timeout) {
    auto connection = take();
    const bool reused = connection != nullptr;
    if (!connection) connection = std::make_unique<Connection>();
    const auto verb = bhttp::string_to_verb(call.method);
    if (verb == bhttp::verb::unknown) throw std::invalid_argument("unknown HTTP method " + call.method);
    bhttp::request<bhttp::string_body> request{verb, call.target, 11};
    request.set(bhttp::field::host, host + ":" + port);
    request.set(bhttp::field::user_agent, "deliveryhub-remote");
    request.set(bhttp::field::accept, "application/json");
    request.keep_alive(true);
    if (auto bearer = token ? token() : std::string(); !bearer.empty()) {
      request.set(bhttp::field::authorization, "Bearer " + bearer);
    }
    if (const auto& trace = log::current().trace_id; trace.size() == 32) {
      std::uint64_t span = 0;
      {
        std::lock_guard lock(random_mutex);
        span = random() | 1;
      }
      request.set("traceparent", "00-" + trace + "-" + hex(span, 16) + "-01");
    }
    if (const auto& id = log::current().request_id; !id.empty()) request.set("X-Request-Id", id);
    if (const auto& caller = log::current().caller; !caller.empty()) request.set("X-Deliveryhub-Caller", caller);
    if (auto deadline = ScopedDeadline::current()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - SteadyClock::now());
      request.set("X-Deliveryhub-Deadline-Ms", std::to_string(std::max<std::int64_t>(left.count(), 0)));
    }
    if (call.body) {
      request.set(bhttp::field::content_type, "application/json");
      request.body() = call.body->dump();
    }
    request.prepare_payload();

    std::optional<Answer> answer;
    std::exception_ptr error;
    auto& c = *connection;
    auto run = [&]() -> asio::awaitable<void> {
      if (!reused) {
        asio::ip::tcp::resolver resolver(c.io);
        auto endpoints = co_await resolver.async_resolve(host, port, asio::use_awaitable);
        c.stream.expires_after(timeout);
        co_await c.stream.async_connect(endpoints, asio::use_awaitable);
      }
      c.stream.expires_after(timeout);
      co_await bhttp::async_write(c.stream, request, asio::use_awaitable);
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(4 * 1024 * 1024);
      co_await bhttp::async_read(c.stream, c.buffer, parser, asio::use_awaitable);
      auto& response = parser.get();
      Answer a;
      a.status = static_cast<int>(response.result_int());
      a.keep_alive = response.keep_alive();
      a.retry_after = std::string(response[bhttp::field::retry_after]);
      a.body = std::move(response.body());
      answer = std::move(a);
    };
    c.io.restart();
    asio::co_spawn(c.io, run(), [&](std::exception_ptr e) { error = e; });
    c.io.run_for(timeout + std::chrono::milliseconds(100));
    if (error || !answer) {
      std::string reason = "timed out";
      if (error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          reason = e.what();
        }
      }
      throw Failure(name + " did not answer " + call.method + " " + call.target + ": " + reason);
    }
    if (answer->keep_alive) give_back(std::move(connection));
    return std::move(*answer);
  }

  [[noreturn]] void unavailable(const std::string& detail, std::chrono::milliseconds retry_after) {
    const auto seconds = std::max<std::int64_t>(1, (retry_after.count() + 999) / 1000);
    throw Error(ErrorKind::unavailable, detail).with_header("Retry-After", std::to_string(seconds));
  }
};

HttpChannel::HttpChannel(std::string name, const std::string& base_url, ChannelOptions options,
                         metrics::Metrics& metrics, std::function<std::string()> token)
    : impl_(std::make_unique<Impl>(std::move(name), base_url, options, metrics, std::move(token))) {}

HttpChannel::~HttpChannel() = default;

CircuitBreaker::State HttpChannel::breaker_state() {
  return impl_->breaker.state(SteadyClock::now());
}

void HttpChannel::fail_fast_if_open() {
  const auto now = SteadyClock::now();
  if (impl_->breaker.state(now) == CircuitBreaker::State::open) {
    impl_->unavailable(impl_->name + " is unavailable (circuit open)", impl_->breaker.retry_after(now));
  }
}

nlohmann::json HttpChannel::call(const RemoteCall& call) {
  auto& s = *impl_;
  const auto outcome = [&](const char* what) { s.calls.Add({{"remote", s.name}, {"outcome", what}}).Increment(); };
  s.budget.on_call(SteadyClock::now());
  std::string last_failure;
  for (int attempt = 1;; ++attempt) {
    const auto now = SteadyClock::now();
    auto timeout = s.options.timeout;
    if (auto deadline = ScopedDeadline::current()) {
      if (*deadline <= now) {
        outcome("rejected");
        s.unavailable("the caller's deadline passed before calling " + s.name, std::chrono::milliseconds(0));
      }
      timeout = std::min(timeout, std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - now));
    }
    if (!s.breaker.allow(now)) {
      outcome("rejected");
      s.publish_state();
      s.unavailable(s.name + " is unavailable (circuit open)", s.breaker.retry_after(now));
    }
    bool retryable = false;
    try {
      Answer answer = s.exchange(call, timeout);
      if (answer.status >= 500) {
        s.breaker.record(false, SteadyClock::now());
        last_failure = s.name + " answered " + std::to_string(answer.status);
        retryable = call.idempotent;
      } else {
        s.breaker.record(true, SteadyClock::now());
        s.publish_state();
        auto json = answer.body.empty() ? nlohmann::json() : nlohmann::json::parse(answer.body, nullptr, false);
        if (answer.status >= 200 && answer.status < 300) {
          outcome("ok");
          if (json.is_discarded()) throw Error(ErrorKind::internal, s.name + " answered with a body that is not JSON");
          return json;
        }
        outcome("client_error");
        throw http::error_from_problem(answer.status, json.is_discarded() ? nlohmann::json() : json);
      }
    } catch (const Failure& failure) {
      s.breaker.record(false, SteadyClock::now());
      last_failure = failure.what();
      // A call that may have been applied is not repeated unless it is idempotent.
      retryable = call.idempotent;
    }
    s.publish_state();
    if (!retryable || attempt >= s.options.retry.max_attempts || !s.budget.try_retry(SteadyClock::now())) {
      outcome("failed");
      log::warn("remote call failed",
                {{"remote", s.name}, {"target", call.target}, {"attempts", attempt}, {"error", last_failure}});
      s.unavailable(s.name + " is unavailable: " + last_failure, std::chrono::milliseconds(1000));
    }
    s.retries.Add({{"remote", s.name}}).Increment();
    std::chrono::milliseconds pause;
    {
      std::lock_guard lock(s.random_mutex);
      pause = full_jitter(s.options.retry, attempt, s.random);
    }
    std::this_thread::sleep_for(pause);
  }
}

}  // namespace deliveryhub::core::remote
