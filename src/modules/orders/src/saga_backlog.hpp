#pragma once
#include "core/db/database.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>

namespace deliveryhub::orders {

/// Back-pressure for placement (ADR 0030): how many order sagas are unfinished, known cheaply
/// enough to ask on every POST, and the rule that refuses new orders past a limit rather than
/// accepting work the saga cannot finish within its objective.
///
/// The estimate is a count of unfinished sagas read from the database (every replica's) at most
/// once per `refresh`, by whichever request finds it due, plus what this process placed since
/// minus what it finished since. Between refreshes it can be off by what other replicas did;
/// the next refresh corrects it.
class SagaBacklog {
 public:
  /// `limit` 0: no limit (admit() never refuses and never reads the database).
  SagaBacklog(core::db::Database& db, std::int64_t limit,
              std::chrono::milliseconds refresh = std::chrono::milliseconds(250));

  /// Throws core::Error(unavailable) with `Retry-After: 2` when the estimate has reached the limit.
  void admit();
  /// After a placement commits, and after a saga finishes.
  void placed() { since_.fetch_add(1, std::memory_order_relaxed); }
  void finished() { since_.fetch_sub(1, std::memory_order_relaxed); }
  /// The current estimate (refreshing it if due).
  std::int64_t estimate();
  std::int64_t limit() const { return limit_; }

 private:
  core::db::Database& db_;
  std::int64_t limit_;
  std::chrono::milliseconds refresh_;
  std::atomic<std::int64_t> counted_{0};
  std::atomic<std::int64_t> since_{0};
  std::atomic<std::int64_t> counted_at_ns_{0};  // steady clock; 0: never counted
  std::atomic<bool> counting_{false};
};

}  // namespace deliveryhub::orders
