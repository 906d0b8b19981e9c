#pragma once
#include "core/db/database.hpp"
#include "core/http/operational_routes.hpp"
#include "core/util/background_loop.hpp"

#include <chrono>

namespace deliveryhub::core::http {

/// Asks the database whether it answers (Database::ping: a connection of its own, never one of
/// the pool's) every `interval` on a thread of its own, and records in `state` when it last did,
/// for /readyz. So a probe never waits for the database, a busy pool or a hung connection: a
/// database that stops answering makes the process unready kDatabaseUnreadyAfter later.
class DatabaseMonitor {
 public:
  DatabaseMonitor(db::Database& database, OperationalState& state,
                  std::chrono::milliseconds interval = std::chrono::seconds(2));
  /// Counts the database as answering now (it just did: start-up reached it) and starts pinging.
  void start();
  void stop();

 private:
  db::Database& database_;
  OperationalState& state_;
  BackgroundLoop loop_;  // last: stopped first, before anything it uses goes
};

}  // namespace deliveryhub::core::http
