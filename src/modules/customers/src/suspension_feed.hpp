#pragma once
#include "core/auth/token_validator.hpp"
#include "core/util/background_loop.hpp"
#include "core/util/clock.hpp"
#include "customers/api.hpp"

#include <chrono>

namespace deliveryhub::customers {

/// Keeps a process's TokenValidator refusing the tokens of suspended accounts (ADR 0021): at
/// start it learns of every suspension young enough to have live tokens, then every 5 s of new
/// ones, from `customers` — the local service, or the remote one in a process without customers.
/// A failed look is logged and retried at the next tick.
class SuspensionFeed {
 public:
  SuspensionFeed(CustomersApi& customers, const core::auth::TokenValidator& tokens, const core::Clock& clock,
                 std::chrono::seconds access_token_ttl);

  /// Looks once now, then every `kInterval` in the background.
  void start();
  void stop() { loop_.stop(); }

  static constexpr std::chrono::seconds kInterval{5};

 private:
  void look();

  CustomersApi& customers_;
  const core::auth::TokenValidator& tokens_;
  const core::Clock& clock_;
  core::TimePoint watched_until_;
  core::BackgroundLoop loop_;  // last: stopped first
};

}  // namespace deliveryhub::customers
