#include "wire.hpp"

#include "core/errors.hpp"
#include "core/util/text.hpp"

namespace deliveryhub::payments {

PaymentStatus status_from(std::string_view text) {
  return core::enum_from(text, {PaymentStatus::authorized, PaymentStatus::captured, PaymentStatus::partially_refunded,
                                PaymentStatus::refunded, PaymentStatus::declined, PaymentStatus::voided})
      .value_or(PaymentStatus::authorized);
}

OperationType operation_type_from(std::string_view text) {
  return core::enum_from(
             text, {OperationType::authorize, OperationType::capture, OperationType::void_, OperationType::refund})
      .value_or(OperationType::authorize);
}

nlohmann::json to_json(const Payment& p) {
  nlohmann::json operations = nlohmann::json::array();
  for (const auto& op : p.operations) {
    nlohmann::json line = {{"type", to_string(op.type)},
                           {"amount", op.amount},
                           {"succeeded", op.succeeded},
                           {"at", core::format_rfc3339(op.at)}};
    if (!op.reason.empty()) line["reason"] = op.reason;
    operations.push_back(line);
  }
  return {{"id", p.id},
          {"order_id", p.order_id},
          {"customer_id", p.customer_id},
          {"status", to_string(p.status)},
          {"amount", p.amount},
          {"currency", p.currency},
          {"captured_amount", p.captured_amount},
          {"refunded_amount", p.refunded_amount},
          {"operations", operations},
          {"created_at", core::format_rfc3339(p.created_at)},
          {"updated_at", core::format_rfc3339(p.updated_at)},
          {"version", p.version}};
}

namespace {

core::TimePoint time_of(const nlohmann::json& json, const char* name) {
  auto parsed = core::parse_rfc3339(json.at(name).get<std::string>());
  if (!parsed) throw core::Error(core::ErrorKind::internal, std::string("payment field '") + name + "' is not a time");
  return *parsed;
}

}  // namespace

Payment payment_from_json(const nlohmann::json& json) {
  try {
    Payment p;
    p.id = json.at("id").get<std::string>();
    p.order_id = json.at("order_id").get<std::string>();
    p.customer_id = json.at("customer_id").get<std::string>();
    p.status = status_from(json.at("status").get<std::string>());
    p.amount = json.at("amount").get<std::int64_t>();
    p.currency = json.at("currency").get<std::string>();
    p.captured_amount = json.at("captured_amount").get<std::int64_t>();
    p.refunded_amount = json.at("refunded_amount").get<std::int64_t>();
    for (const auto& line : json.at("operations")) {
      p.operations.push_back({operation_type_from(line.at("type").get<std::string>()),
                              line.at("amount").get<std::int64_t>(), line.at("succeeded").get<bool>(),
                              line.value("reason", std::string()), time_of(line, "at")});
    }
    p.created_at = time_of(json, "created_at");
    p.updated_at = time_of(json, "updated_at");
    p.version = json.at("version").get<std::int64_t>();
    return p;
  } catch (const nlohmann::json::exception& e) {
    throw core::Error(core::ErrorKind::internal, std::string("payments answered a malformed payment: ") + e.what());
  }
}

nlohmann::json to_json(const AuthorizationRequest& r) {
  return {{"order_id", r.order_id},
          {"customer_id", r.customer_id},
          {"amount", r.amount},
          {"currency", r.currency},
          {"payment_method", r.payment_method}};
}

}  // namespace deliveryhub::payments
