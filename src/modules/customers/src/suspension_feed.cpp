#include "suspension_feed.hpp"

#include "core/log/log.hpp"

namespace deliveryhub::customers {

SuspensionFeed::SuspensionFeed(CustomersApi& customers, const core::auth::TokenValidator& tokens,
                               const core::Clock& clock, std::chrono::seconds access_token_ttl)
    : customers_(customers),
      tokens_(tokens),
      clock_(clock),
      // A token issued before a suspension lives at most access_token_ttl (+ a minute of leeway).
      watched_until_(clock.now() - access_token_ttl - std::chrono::minutes(1)),
      loop_("suspension feed", kInterval, [this] { look(); }) {}

void SuspensionFeed::start() {
  look();
  loop_.start();
}

// Runs on one thread at a time (start, then the loop). The 10 s margin covers clocks that differ
// between processes and suspensions committed out of time order.
void SuspensionFeed::look() {
  const auto now = clock_.now();
  try {
    for (const auto& suspension : customers_.suspensions_since(watched_until_ - std::chrono::seconds(10))) {
      tokens_.revoke_subject(suspension.account_id, core::to_unix_ms(suspension.at) / 1000);
    }
    watched_until_ = now;
  } catch (const std::exception& e) {
    core::log::warn("could not read suspensions; will look again", {{"error", e.what()}});
  }
}

}  // namespace deliveryhub::customers
