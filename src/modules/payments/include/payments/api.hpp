#pragma once
// The payments module's public interface: authorizations, captures, voids and refunds of the
// payment that belongs to an order. Implemented in-process by the module (remote later).
#include "core/util/clock.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deliveryhub::payments {

enum class PaymentStatus { authorized, captured, partially_refunded, refunded, declined, voided };
enum class OperationType { authorize, capture, void_, refund };

/// One line of a payment's ledger.
struct Operation {
  OperationType type;
  std::int64_t amount = 0;
  bool succeeded = true;
  std::string reason;  // decline reason or refund reason
  core::TimePoint at;
};

struct Payment {
  std::string id;  // pay_…
  std::string order_id;
  std::string customer_id;
  std::int64_t amount = 0;  // authorized amount, minor units
  std::string currency;
  PaymentStatus status = PaymentStatus::authorized;
  std::int64_t captured_amount = 0;
  std::int64_t refunded_amount = 0;
  std::vector<Operation> operations;
  core::TimePoint created_at;
  core::TimePoint updated_at;
  std::int64_t version = 1;
};

struct AuthorizationRequest {
  std::string order_id;
  std::string customer_id;
  std::int64_t amount = 0;
  std::string currency;
  std::string payment_method;  // a test token: tok_visa, tok_declined, tok_slow, tok_flaky
};

/// Thread-safe. Every call is idempotent by order id: a repeat returns the payment as it is and
/// never charges, captures or voids twice. Errors are core::Error; `unavailable` means the
/// provider could not be reached after the retries that are safe, and the call may be repeated.
class PaymentsApi {
 public:
  virtual ~PaymentsApi() = default;
  /// Authorizes the order's total. A decline is not an error: the payment comes back `declined`.
  virtual Payment authorize(const AuthorizationRequest& request) = 0;
  /// Voids the authorization (compensation, cancellation, failed delivery). Conflict once captured.
  /// (Capturing is no other module's call: payments captures when the delivery completes.)
  virtual Payment void_authorization(std::string_view order_id) = 0;
  /// Refunds part or all of what was captured. `refund_id` makes a retry harmless.
  /// Conflict when nothing is captured; unprocessable when it would exceed the captured amount.
  virtual Payment refund(std::string_view order_id, std::int64_t amount, std::string_view reason,
                         std::string_view refund_id) = 0;
  virtual std::optional<Payment> find_by_order(std::string_view order_id) = 0;
  /// Throws core::Error(unavailable, with Retry-After) at once when payments is known to be
  /// unreachable (a remote whose circuit breaker is open), so that callers refuse new work
  /// rather than queue it. In process: never throws.
  virtual void require_available() {}
};

std::string_view to_string(PaymentStatus status);
std::string_view to_string(OperationType type);

}  // namespace deliveryhub::payments
