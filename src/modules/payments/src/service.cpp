#include "service.hpp"

#include "core/errors.hpp"
#include "core/log/log.hpp"
#include "core/util/ids.hpp"
#include "payments/events.hpp"
#include "repository.hpp"

#include <algorithm>
#include <random>
#include <thread>

namespace deliveryhub::payments {

using core::Error;
using core::ErrorKind;

std::string_view to_string(PaymentStatus status) {
  switch (status) {
    case PaymentStatus::authorized:
      return "authorized";
    case PaymentStatus::captured:
      return "captured";
    case PaymentStatus::partially_refunded:
      return "partially_refunded";
    case PaymentStatus::refunded:
      return "refunded";
    case PaymentStatus::declined:
      return "declined";
    case PaymentStatus::voided:
      return "voided";
  }
  return "authorized";
}

std::string_view to_string(OperationType type) {
  switch (type) {
    case OperationType::authorize:
      return "authorize";
    case OperationType::capture:
      return "capture";
    case OperationType::void_:
      return "void";
    case OperationType::refund:
      return "refund";
  }
  return "authorize";
}

namespace {

nlohmann::json event_payload(const Payment& p, std::int64_t amount, const std::string& reason = "") {
  nlohmann::json payload = {
      {"payment_id", p.id}, {"order_id", p.order_id}, {"amount", amount}, {"currency", p.currency}};
  if (!reason.empty()) payload["reason"] = reason;
  return payload;
}

Error conflict(const Payment& p, std::string_view action) {
  return Error(ErrorKind::conflict,
               "Cannot " + std::string(action) + " a payment that is " + std::string(to_string(p.status)))
      .with_extension("current_status", std::string(to_string(p.status)));
}

}  // namespace

PaymentsService::PaymentsService(core::db::Database& db, const core::events::Outbox& outbox, const core::Clock& clock,
                                 PaymentProvider& provider, core::metrics::Metrics& metrics, RetryPolicy retry)
    : db_(db),
      outbox_(outbox),
      clock_(clock),
      provider_(provider),
      operations_(prometheus::BuildCounter()
                      .Name("deliveryhub_payment_operations_total")
                      .Help("Payment provider operations by operation and outcome")
                      .Register(metrics.registry())),
      retry_(retry) {}

template <class Call>
ProviderResult PaymentsService::call_provider(std::string_view operation, Call&& call) {
  thread_local std::mt19937 jitter(std::random_device{}());
  auto backoff = retry_.first_backoff;
  for (int attempt = 1;; ++attempt) {
    ProviderResult result = call();
    const std::string outcome = result.outcome == ProviderResult::Outcome::approved   ? "approved"
                                : result.outcome == ProviderResult::Outcome::declined ? "declined"
                                                                                      : "transient_failure";
    operations_.Add({{"operation", std::string(operation)}, {"outcome", outcome}}).Increment();
    if (result.outcome != ProviderResult::Outcome::transient_failure) return result;
    if (attempt >= retry_.attempts) {
      throw Error(ErrorKind::unavailable, "The payment provider is unavailable; try again")
          .with_header("Retry-After", "1");
    }
    // Full jitter: sleep a random time up to the current backoff.
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<long>(0, static_cast<long>(backoff.count()))(jitter)));
    backoff *= 2;
  }
}

std::unique_lock<std::mutex> PaymentsService::lock_payment(std::string_view order_id) {
  return std::unique_lock(payment_locks_[std::hash<std::string_view>{}(order_id) % payment_locks_.size()]);
}

Payment PaymentsService::require(std::string_view order_id) {
  auto payment = find_by_order(order_id);
  if (!payment) throw Error(ErrorKind::not_found, "The order has no payment");
  return *payment;
}

Payment PaymentsService::apply(Payment payment, const Operation& operation, std::string_view event_type,
                               const std::optional<std::string>& refund_id) {
  const std::int64_t expected_version = payment.version;
  payment.updated_at = operation.at;
  db_.write([&](core::db::Transaction& tx) {
    if (!repository::update(tx, payment)) {
      throw Error(ErrorKind::conflict, "The payment changed meanwhile; repeat the request");
    }
    repository::add_operation(tx, payment.id, operation, refund_id);
    outbox_.add(tx, std::string(event_type), payment.order_id,
                event_payload(payment, operation.amount, operation.reason));
  });
  payment.version = expected_version + 1;
  payment.operations.push_back(operation);
  return payment;
}

Payment PaymentsService::authorize(const AuthorizationRequest& request) {
  if (auto existing = find_by_order(request.order_id)) return *existing;
  if (request.amount <= 0) throw Error(ErrorKind::validation, "amount must be positive", {{"amount", "must be > 0"}});
  const auto result = call_provider("authorize", [&] {
    return provider_.authorize("authorize:" + request.order_id, request.amount, request.currency,
                               request.payment_method);
  });
  Payment payment;
  payment.id = core::new_id("pay");
  payment.order_id = request.order_id;
  payment.customer_id = request.customer_id;
  payment.amount = request.amount;
  payment.currency = request.currency;
  payment.created_at = payment.updated_at = clock_.now();
  const bool approved = result.outcome == ProviderResult::Outcome::approved;
  payment.status = approved ? PaymentStatus::authorized : PaymentStatus::declined;
  const Operation operation{OperationType::authorize, request.amount, approved, result.reason, payment.created_at};
  try {
    db_.write([&](core::db::Transaction& tx) {
      repository::insert(tx, payment, request.payment_method);
      repository::add_operation(tx, payment.id, operation);
      outbox_.add(tx, std::string(approved ? events::kPaymentAuthorized : events::kPaymentDeclined), payment.order_id,
                  event_payload(payment, payment.amount, result.reason));
    });
  } catch (const core::db::UniqueViolation&) {
    return require(request.order_id);  // a concurrent authorize of the same order won
  }
  payment.operations.push_back(operation);
  core::log::info("payment authorization", {{"order_id", payment.order_id}, {"status", to_string(payment.status)}});
  return payment;
}

Payment PaymentsService::authorize_again(std::string_view order_id) {
  const auto locked = lock_payment(order_id);
  Payment payment = require(order_id);
  if (payment.status != PaymentStatus::voided) return payment;  // nothing to renew (or done already)
  const auto method =
      db_.read([&](core::db::Transaction& tx) { return repository::payment_method_of(tx, payment.id); });
  const auto attempt = std::count_if(payment.operations.begin(), payment.operations.end(),
                                     [](const Operation& op) { return op.type == OperationType::authorize; });
  // A key per attempt: the provider must not answer this with the first, voided authorization.
  const auto key = "authorize:" + payment.order_id + ":" + std::to_string(attempt + 1);
  const auto result =
      call_provider("authorize", [&] { return provider_.authorize(key, payment.amount, payment.currency, method); });
  const bool approved = result.outcome == ProviderResult::Outcome::approved;
  if (approved) payment.status = PaymentStatus::authorized;
  core::log::info("payment authorized again", {{"order_id", payment.order_id}, {"approved", approved}});
  return apply(payment, {OperationType::authorize, payment.amount, approved, result.reason, clock_.now()},
               approved ? events::kPaymentAuthorized : events::kPaymentDeclined);
}

Payment PaymentsService::capture(std::string_view order_id) {
  const auto locked = lock_payment(order_id);
  Payment payment = require(order_id);
  if (payment.status == PaymentStatus::captured || payment.status == PaymentStatus::partially_refunded ||
      payment.status == PaymentStatus::refunded) {
    return payment;
  }
  if (payment.status != PaymentStatus::authorized) throw conflict(payment, "capture");
  call_provider("capture", [&] { return provider_.capture("capture:" + payment.order_id, payment.amount); });
  payment.status = PaymentStatus::captured;
  payment.captured_amount = payment.amount;
  return apply(payment, {OperationType::capture, payment.amount, true, "", clock_.now()}, events::kPaymentCaptured);
}

Payment PaymentsService::void_authorization(std::string_view order_id) {
  const auto locked = lock_payment(order_id);
  Payment payment = require(order_id);
  if (payment.status == PaymentStatus::voided || payment.status == PaymentStatus::declined) return payment;
  if (payment.status != PaymentStatus::authorized) throw conflict(payment, "void");
  call_provider("void", [&] { return provider_.void_authorization("void:" + payment.order_id); });
  payment.status = PaymentStatus::voided;
  return apply(payment, {OperationType::void_, payment.amount, true, "", clock_.now()}, events::kPaymentVoided);
}

Payment PaymentsService::refund(std::string_view order_id, std::int64_t amount, std::string_view reason,
                                std::string_view refund_id) {
  const auto locked = lock_payment(order_id);
  Payment payment = require(order_id);
  const std::string refund_key(refund_id);
  if (db_.read([&](core::db::Transaction& tx) { return repository::refund_recorded(tx, refund_key); })) {
    return payment;  // this refund was made before
  }
  if (payment.status != PaymentStatus::captured && payment.status != PaymentStatus::partially_refunded) {
    throw conflict(payment, "refund");
  }
  if (amount <= 0 || payment.refunded_amount + amount > payment.captured_amount) {
    throw Error(ErrorKind::unprocessable, "A refund of " + std::to_string(amount) + " would exceed the " +
                                              std::to_string(payment.captured_amount - payment.refunded_amount) +
                                              " still refundable")
        .with_extension("refundable_amount", payment.captured_amount - payment.refunded_amount);
  }
  call_provider("refund", [&] { return provider_.refund("refund:" + refund_key, amount); });
  payment.refunded_amount += amount;
  payment.status =
      payment.refunded_amount == payment.captured_amount ? PaymentStatus::refunded : PaymentStatus::partially_refunded;
  try {
    return apply(payment, {OperationType::refund, amount, true, std::string(reason), clock_.now()},
                 events::kPaymentRefunded, refund_key);
  } catch (const core::db::UniqueViolation&) {
    return require(order_id);  // the same refund, made concurrently
  }
}

std::optional<Payment> PaymentsService::find_by_order(std::string_view order_id) {
  return db_.read([&](core::db::Transaction& tx) { return repository::find_by_order(tx, std::string(order_id)); });
}

std::optional<Payment> PaymentsService::find(const std::string& payment_id) {
  if (!core::is_id(payment_id, "pay")) return std::nullopt;
  return db_.read([&](core::db::Transaction& tx) { return repository::find(tx, payment_id); });
}

std::vector<Payment> PaymentsService::list_by_order(const std::string& order_id,
                                                    const std::optional<std::string>& customer_id) {
  return db_.read([&](core::db::Transaction& tx) { return repository::list_by_order(tx, order_id, customer_id); });
}

}  // namespace deliveryhub::payments
