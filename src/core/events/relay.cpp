#include "core/events/relay.hpp"

#include "core/log/log.hpp"
#include "core/util/ids.hpp"

#include <algorithm>
#include <unordered_set>

namespace deliveryhub::core::events {

OutboxRelay::OutboxRelay(db::Database& db, std::vector<std::string> modules, EventBus& bus, const Clock& clock,
                         std::shared_ptr<OutboxSignal> signal, RelayOptions options)
    : db_(db),
      modules_(std::move(modules)),
      bus_(bus),
      clock_(clock),
      signal_(std::move(signal)),
      options_(options),
      holder_(new_id("rly")) {}

OutboxRelay::~OutboxRelay() {
  stop();
  release_leases();  // also when dispatch_once() ran without start()
}

void OutboxRelay::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] {
    while (running_) {
      try {
        // A full batch means more may be waiting: go again without sleeping.
        if (dispatch_once() >= options_.batch_size) continue;
      } catch (const std::exception& e) {
        log::error("outbox relay pass failed", {{"error", e.what()}});
      }
      signal_->wait_for(options_.poll_interval);
    }
  });
}

void OutboxRelay::stop() {
  if (!running_.exchange(false)) return;
  signal_->notify();
  if (thread_.joinable()) thread_.join();
  // One last pass for what the final requests committed, so it is not left for the next start.
  try {
    dispatch_once();
  } catch (const std::exception& e) {
    log::warn("final outbox pass failed; the events stay for the next start", {{"error", e.what()}});
  }
  release_leases();
}

bool OutboxRelay::hold_lease(const std::string& module, std::int64_t now_ms) {
  const auto lease = options_.lease.count();
  if (auto held = lease_until_.find(module); held != lease_until_.end() && now_ms < held->second - lease / 2) {
    return true;  // held, and not yet time to renew
  }
  const bool taken = db_.write([&](db::Transaction& tx) {
    return tx.execute("UPDATE " + module +
                          "_outbox_relay SET holder = $1, lease_until = $2 "
                          "WHERE id = 1 AND (holder = $1 OR lease_until < $3)",
                      {holder_, now_ms + lease, now_ms}) == 1;
  });
  if (taken) {
    if (!lease_until_.contains(module)) log::info("relaying this outbox", {{"outbox", module}});
    lease_until_[module] = now_ms + lease;
  } else if (lease_until_.erase(module) > 0) {
    log::warn("another relay took this outbox", {{"outbox", module}});
  }
  return taken;
}

void OutboxRelay::release_leases() noexcept {
  for (const auto& held : lease_until_) {
    const std::string& module = held.first;  // not a structured binding: clang 14 cannot capture those
    try {
      db_.write([&](db::Transaction& tx) {
        tx.execute("UPDATE " + module + "_outbox_relay SET lease_until = 0 WHERE id = 1 AND holder = $1", {holder_});
      });
    } catch (const std::exception& e) {
      log::warn("could not release the outbox lease; it expires by itself", {{"outbox", module}, {"error", e.what()}});
    }
  }
  lease_until_.clear();
}

std::size_t OutboxRelay::dispatch_once() {
  std::size_t delivered = 0;
  for (const auto& module : modules_) delivered += dispatch_module(module);
  return delivered;
}

std::int64_t OutboxRelay::backlog() {
  std::int64_t total = 0;
  db_.read([&](db::Transaction& tx) {
    for (const auto& module : modules_) {
      total += tx.query_one("SELECT COUNT(*) FROM " + module + "_outbox WHERE delivered_at IS NULL")->integer(0);
    }
  });
  return total;
}

void OutboxRelay::mark_delivered(const std::string& table, const std::vector<std::int64_t>& positions) {
  // Chunks of a few fixed sizes (the last position repeated to fill one up): each size is one
  // statement prepared once per connection, however many positions a pass delivers.
  constexpr std::size_t kLargest = 64;
  if (positions.empty()) return;
  const auto now = to_unix_ms(clock_.now());
  db_.write([&](db::Transaction& tx) {
    for (std::size_t first = 0; first < positions.size(); first += kLargest) {
      const std::size_t count = std::min(kLargest, positions.size() - first);
      std::size_t size = 1;
      while (size < count) size *= 2;
      std::string sql = "UPDATE " + table + " SET delivered_at = $1 WHERE position IN (";
      db::Params params{now};
      for (std::size_t i = 0; i < size; ++i) {
        sql += (i == 0 ? "$" : ", $") + std::to_string(i + 2);
        params.emplace_back(positions[first + std::min(i, count - 1)]);
      }
      tx.execute(sql + ")", params);
    }
  });
}

std::size_t OutboxRelay::dispatch_module(const std::string& module) {
  const std::string table = module + "_outbox";
  const auto now = to_unix_ms(clock_.now());
  if (!hold_lease(module, now)) return 0;
  // Aggregates whose oldest undelivered event waits for a retry are left out entirely, so a
  // batch never fills up with events that cannot go yet while other aggregates starve.
  db::Rows rows = db_.read([&](db::Transaction& tx) {
    return tx.query(
        "SELECT position, id, type, aggregate_id, sequence, occurred_at, traceparent, payload, "
        "attempts, next_attempt_at FROM " +
            table + " WHERE delivered_at IS NULL AND aggregate_id NOT IN (SELECT aggregate_id FROM " + table +
            " WHERE delivered_at IS NULL AND next_attempt_at > $1) ORDER BY position LIMIT $2",
        {now, static_cast<std::int64_t>(options_.batch_size)});
  });
  std::unordered_set<std::string> blocked;  // aggregates whose earlier event is still pending
  // Delivered events are marked together, in one write at the end of the pass: a crash before
  // it delivers them again, which every consumer dedupes (at least once, as ever).
  std::vector<std::int64_t> delivered_positions;
  struct MarkDelivered {
    OutboxRelay& relay;
    const std::string& table;
    std::vector<std::int64_t>& positions;
    ~MarkDelivered() {
      try {
        relay.mark_delivered(table, positions);
      } catch (const std::exception& e) {
        log::warn("could not mark delivered events; they will be delivered again",
                  {{"outbox", table}, {"events", positions.size()}, {"error", e.what()}});
      }
    }
  } mark{*this, table, delivered_positions};
  for (const auto& row : rows) {
    const std::string& aggregate = row.text(3);
    if (blocked.contains(aggregate)) continue;
    if (auto next = row.optional_integer(9); next && *next > now) {
      blocked.insert(aggregate);
      continue;
    }
    Envelope envelope;
    envelope.id = row.text(1);
    envelope.type = row.text(2);
    envelope.source = module;
    envelope.aggregate_id = aggregate;
    envelope.sequence = row.integer(4);
    envelope.occurred_at = from_unix_ms(row.integer(5));
    envelope.traceparent = row.text(6);
    envelope.payload = nlohmann::json::parse(row.text(7), nullptr, false);
    try {
      bus_.publish(envelope);
      if (bus_down_.exchange(false)) log::info("the event bus is back; delivering the outbox");
      delivered_positions.push_back(row.integer(0));
    } catch (const BusUnavailable& e) {
      // Nothing can go now, and it is no event's fault: keep them all, unchanged, for the next pass.
      if (!bus_down_.exchange(true)) {
        log::warn("the event bus is unavailable; events wait in the outbox", {{"error", e.what()}});
      }
      return delivered_positions.size();
    } catch (const std::exception& e) {
      blocked.insert(aggregate);
      const auto attempts = row.integer(8) + 1;
      const auto backoff = std::min<std::int64_t>(
          options_.max_retry.count(), options_.first_retry.count() << std::min<std::int64_t>(attempts - 1, 20));
      log::warn("event delivery failed; will retry", {{"event_id", envelope.id},
                                                      {"event_type", envelope.type},
                                                      {"attempts", attempts},
                                                      {"retry_in_ms", backoff},
                                                      {"error", e.what()}});
      db_.write([&](db::Transaction& tx) {
        tx.execute("UPDATE " + table + " SET attempts = $1, next_attempt_at = $2, last_error = $3 WHERE position = $4",
                   {attempts, to_unix_ms(clock_.now()) + backoff, std::string(e.what()), row.integer(0)});
      });
    }
  }
  return delivered_positions.size();
}

}  // namespace deliveryhub::core::events
