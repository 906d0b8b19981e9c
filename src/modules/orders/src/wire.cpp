#include "wire.hpp"

#include "core/errors.hpp"
#include "core/util/text.hpp"

namespace deliveryhub::orders {
namespace {

nlohmann::json optional_json(const std::optional<std::string>& text) {
  return text ? nlohmann::json(*text) : nlohmann::json(nullptr);
}

std::optional<std::string> optional_text(const nlohmann::json& json, const char* name) {
  const auto& value = json.at(name);
  if (value.is_null()) return std::nullopt;
  return value.get<std::string>();
}

core::TimePoint time_of(const nlohmann::json& json, const char* name) {
  auto parsed = core::parse_rfc3339(json.at(name).get<std::string>());
  if (!parsed) throw core::Error(core::ErrorKind::internal, std::string("field '") + name + "' is not a time");
  return *parsed;
}

}  // namespace

OrderStatus status_from(std::string_view text) {
  return core::enum_from(text, {OrderStatus::pending, OrderStatus::payment_authorized, OrderStatus::confirmed,
                                OrderStatus::dispatched, OrderStatus::delivered, OrderStatus::rejected,
                                OrderStatus::cancelled, OrderStatus::delivery_failed})
      .value_or(OrderStatus::pending);
}

nlohmann::json to_json(const Order& o) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& i : o.items) {
    items.push_back({{"sku", i.sku},
                     {"name", i.name},
                     {"quantity", i.quantity},
                     {"unit_price", i.unit_price},
                     {"line_total", i.line_total}});
  }
  nlohmann::json history = nlohmann::json::array();
  for (const auto& h : o.status_history) {
    history.push_back({{"status", to_string(h.status)}, {"at", core::format_rfc3339(h.at)}});
  }
  return {{"id", o.id},
          {"customer_id", o.customer_id},
          {"items", items},
          {"total", o.total},
          {"currency", o.currency},
          {"delivery_address",
           {{"label", o.address.label},
            {"line1", o.address.line1},
            {"city", o.address.city},
            {"postal_code", o.address.postal_code},
            {"country", o.address.country}}},
          {"status", to_string(o.status)},
          {"status_history", history},
          {"payment_id", optional_json(o.payment_id)},
          {"delivery_id", optional_json(o.delivery_id)},
          {"rejection_reason", optional_json(o.rejection_reason)},
          {"refunded_amount", o.refunded_amount},
          {"created_at", core::format_rfc3339(o.created_at)},
          {"updated_at", core::format_rfc3339(o.updated_at)},
          {"version", o.version}};
}

nlohmann::json to_json(const Product& p) {
  return {{"id", p.id},
          {"sku", p.sku},
          {"name", p.name},
          {"price", p.price},
          {"currency", p.currency},
          {"active", p.active},
          {"created_at", core::format_rfc3339(p.created_at)},
          {"updated_at", core::format_rfc3339(p.updated_at)},
          {"version", p.version}};
}

Order order_from_json(const nlohmann::json& json) {
  try {
    Order o;
    o.id = json.at("id").get<std::string>();
    o.customer_id = json.at("customer_id").get<std::string>();
    for (const auto& i : json.at("items")) {
      o.items.push_back({i.at("sku").get<std::string>(), i.at("name").get<std::string>(),
                         i.at("quantity").get<std::int64_t>(), i.at("unit_price").get<std::int64_t>(),
                         i.at("line_total").get<std::int64_t>()});
    }
    o.total = json.at("total").get<std::int64_t>();
    o.currency = json.at("currency").get<std::string>();
    const auto& a = json.at("delivery_address");
    o.address = {a.at("label").get<std::string>(), a.at("line1").get<std::string>(), a.at("city").get<std::string>(),
                 a.at("postal_code").get<std::string>(), a.at("country").get<std::string>()};
    o.status = status_from(json.at("status").get<std::string>());
    for (const auto& h : json.at("status_history")) {
      o.status_history.push_back({status_from(h.at("status").get<std::string>()), time_of(h, "at")});
    }
    o.payment_id = optional_text(json, "payment_id");
    o.delivery_id = optional_text(json, "delivery_id");
    o.rejection_reason = optional_text(json, "rejection_reason");
    o.refunded_amount = json.at("refunded_amount").get<std::int64_t>();
    o.created_at = time_of(json, "created_at");
    o.updated_at = time_of(json, "updated_at");
    o.version = json.at("version").get<std::int64_t>();
    return o;
  } catch (const nlohmann::json::exception& e) {
    throw core::Error(core::ErrorKind::internal, std::string("orders answered a malformed order: ") + e.what());
  }
}

}  // namespace deliveryhub::orders
