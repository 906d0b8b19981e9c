#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

namespace deliveryhub::payments {

/// What a payment provider answered. `transient` failures may be retried with the same
/// idempotency key; a decline is final.
struct ProviderResult {
  enum class Outcome { approved, declined, transient_failure } outcome = Outcome::approved;
  std::string reason;
};

/// A payment service provider. Every call carries an idempotency key: the provider applies a
/// key once, so repeating a call after a time-out is safe. Thread-safe.
class PaymentProvider {
 public:
  virtual ~PaymentProvider() = default;
  virtual ProviderResult authorize(std::string_view idempotency_key, std::int64_t amount, std::string_view currency,
                                   std::string_view payment_method) = 0;
  virtual ProviderResult capture(std::string_view idempotency_key, std::int64_t amount) = 0;
  virtual ProviderResult void_authorization(std::string_view idempotency_key) = 0;
  virtual ProviderResult refund(std::string_view idempotency_key, std::int64_t amount) = 0;
};

struct SimulatorOptions {
  std::chrono::milliseconds latency{0};          // added to every call
  std::chrono::milliseconds slow_latency{2000};  // tok_slow's extra delay
  double flaky_failure_rate = 0.5;               // tok_flaky's share of transient failures
  double failure_rate = 0.0;                     // transient failures of every call (chaos)
  std::uint64_t seed = 0;                        // 0: seeded from the clock
};

/// The built-in simulated provider: tok_visa approves, tok_declined declines, tok_slow answers
/// after `slow_latency`, tok_flaky fails transiently at `flaky_failure_rate`; anything else is
/// declined as an unknown payment method.
class SimulatedProvider final : public PaymentProvider {
 public:
  explicit SimulatedProvider(SimulatorOptions options);
  ProviderResult authorize(std::string_view key, std::int64_t amount, std::string_view currency,
                           std::string_view payment_method) override;
  ProviderResult capture(std::string_view key, std::int64_t amount) override;
  ProviderResult void_authorization(std::string_view key) override;
  ProviderResult refund(std::string_view key, std::int64_t amount) override;

 private:
  bool chance(double rate);
  ProviderResult plain_call();

  SimulatorOptions options_;
  std::mutex mutex_;
  std::mt19937_64 random_;
};

}  // namespace deliveryhub::payments
