#pragma once
#include "core/db/database.hpp"
#include "core/events/outbox.hpp"
#include "core/metrics/metrics.hpp"
#include "payments/api.hpp"
#include "provider.hpp"

#include <array>
#include <chrono>
#include <mutex>

namespace deliveryhub::payments {

struct RetryPolicy {
  int attempts = 3;                             // provider calls per operation, the first included
  std::chrono::milliseconds first_backoff{50};  // doubled after each transient failure, with jitter
};

/// The payment rules: one payment per order, calls to the provider first (keyed, so a repeat
/// after a crash or time-out is harmless) and then one transaction with the state change, its
/// ledger line and its event. Thread-safe.
class PaymentsService final : public PaymentsApi {
 public:
  PaymentsService(core::db::Database& db, const core::events::Outbox& outbox, const core::Clock& clock,
                  PaymentProvider& provider, core::metrics::Metrics& metrics, RetryPolicy retry = {});

  Payment authorize(const AuthorizationRequest& request) override;
  /// Captures the whole authorization (the delivery completed: payments' own consumer). Conflict
  /// unless authorized or already captured.
  Payment capture(std::string_view order_id);
  /// A voided payment authorized again with the same method (a redelivery was scheduled after
  /// a failed one voided it); any other payment is returned as it is.
  Payment authorize_again(std::string_view order_id);
  Payment void_authorization(std::string_view order_id) override;
  Payment refund(std::string_view order_id, std::int64_t amount, std::string_view reason,
                 std::string_view refund_id) override;
  std::optional<Payment> find_by_order(std::string_view order_id) override;
  std::optional<Payment> find(const std::string& payment_id);
  std::vector<Payment> list_by_order(const std::string& order_id, const std::optional<std::string>& customer_id);

 private:
  // Calls the provider, retrying transient failures (safe: the call carries its key). Throws
  // Error(unavailable) when they persist.
  template <class Call>
  ProviderResult call_provider(std::string_view operation, Call&& call);
  Payment apply(Payment payment, const Operation& operation, std::string_view event_type,
                const std::optional<std::string>& refund_id = std::nullopt);
  Payment require(std::string_view order_id);
  // Serialises the read-check-call-write of one payment's operations in this process, so two
  // refunds cannot both pass the limit check and both reach the provider (several processes
  // need a reservation in the ledger first: ADR 0009, issue 4).
  std::unique_lock<std::mutex> lock_payment(std::string_view order_id);

  core::db::Database& db_;
  const core::events::Outbox& outbox_;
  const core::Clock& clock_;
  PaymentProvider& provider_;
  prometheus::Family<prometheus::Counter>& operations_;
  RetryPolicy retry_;
  std::array<std::mutex, 64> payment_locks_;
};

}  // namespace deliveryhub::payments
