#include "provider.hpp"

#include <thread>

namespace deliveryhub::payments {

SimulatedProvider::SimulatedProvider(SimulatorOptions options)
    : options_(options),
      random_(options.seed ? options.seed
                           : static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) {}

bool SimulatedProvider::chance(double rate) {
  if (rate <= 0.0) return false;
  std::lock_guard lock(mutex_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(random_) < rate;
}

ProviderResult SimulatedProvider::plain_call() {
  if (options_.latency.count() > 0) std::this_thread::sleep_for(options_.latency);
  if (chance(options_.failure_rate)) return {ProviderResult::Outcome::transient_failure, "simulated outage"};
  return {};
}

ProviderResult SimulatedProvider::authorize(std::string_view, std::int64_t, std::string_view,
                                            std::string_view payment_method) {
  auto result = plain_call();
  if (result.outcome != ProviderResult::Outcome::approved) return result;
  if (payment_method == "tok_visa") return {};
  if (payment_method == "tok_declined") return {ProviderResult::Outcome::declined, "card_declined"};
  if (payment_method == "tok_slow") {
    std::this_thread::sleep_for(options_.slow_latency);
    return {};
  }
  if (payment_method == "tok_flaky") {
    if (chance(options_.flaky_failure_rate)) return {ProviderResult::Outcome::transient_failure, "flaky network"};
    return {};
  }
  return {ProviderResult::Outcome::declined, "unknown_payment_method"};
}

ProviderResult SimulatedProvider::capture(std::string_view, std::int64_t) {
  return plain_call();
}
ProviderResult SimulatedProvider::void_authorization(std::string_view) {
  return plain_call();
}
ProviderResult SimulatedProvider::refund(std::string_view, std::int64_t) {
  return plain_call();
}

}  // namespace deliveryhub::payments
