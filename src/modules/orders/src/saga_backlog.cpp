#include "saga_backlog.hpp"

#include "core/errors.hpp"

namespace deliveryhub::orders {

SagaBacklog::SagaBacklog(core::db::Database& db, std::int64_t limit, std::chrono::milliseconds refresh)
    : db_(db), limit_(limit), refresh_(refresh) {}

std::int64_t SagaBacklog::estimate() {
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  const auto due = counted_at_ns_.load(std::memory_order_acquire) == 0 ||
                   now - counted_at_ns_.load(std::memory_order_acquire) >=
                       std::chrono::duration_cast<std::chrono::nanoseconds>(refresh_).count();
  // One request counts; the others go on with the last count meanwhile.
  if (due && !counting_.exchange(true, std::memory_order_acq_rel)) {
    try {
      const auto count = db_.read_statement([](core::db::Transaction& tx) {
        return tx.query_one("SELECT COUNT(*) FROM orders_sagas WHERE finished_at IS NULL")->integer(0);
      });
      // What this process placed or finished while the count ran may be counted twice or not at
      // all: an error of a few orders, gone at the next count.
      counted_.store(count, std::memory_order_relaxed);
      since_.store(0, std::memory_order_relaxed);
      counted_at_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_release);
    } catch (...) {
      counting_.store(false, std::memory_order_release);
      throw;
    }
    counting_.store(false, std::memory_order_release);
  }
  return counted_.load(std::memory_order_relaxed) + since_.load(std::memory_order_relaxed);
}

void SagaBacklog::admit() {
  if (limit_ <= 0) return;
  if (estimate() >= limit_) {
    throw core::Error(core::ErrorKind::unavailable,
                      "Too many orders are still waiting for payment and delivery; try again shortly")
        .with_header("Retry-After", "2");
  }
}

}  // namespace deliveryhub::orders
