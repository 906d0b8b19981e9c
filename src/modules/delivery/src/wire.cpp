#include "wire.hpp"

#include "core/errors.hpp"
#include "core/util/text.hpp"

namespace deliveryhub::delivery {

DeliveryStatus delivery_status_from(std::string_view text) {
  return core::enum_from(text, {DeliveryStatus::unassigned, DeliveryStatus::assigned, DeliveryStatus::picked_up,
                                DeliveryStatus::delivered, DeliveryStatus::failed, DeliveryStatus::cancelled})
      .value_or(DeliveryStatus::unassigned);
}

nlohmann::json to_json(const Delivery& d) {
  nlohmann::json tracking = nlohmann::json::array();
  for (const auto& t : d.tracking) {
    tracking.push_back({{"status", to_string(t.status)}, {"note", t.note}, {"at", core::format_rfc3339(t.at)}});
  }
  return {{"id", d.id},
          {"order_id", d.order_id},
          {"courier_id", d.courier_id ? nlohmann::json(*d.courier_id) : nlohmann::json(nullptr)},
          {"zone_id", d.zone_id},
          {"address",
           {{"line1", d.address.line1},
            {"city", d.address.city},
            {"postal_code", d.address.postal_code},
            {"country", d.address.country}}},
          {"status", to_string(d.status)},
          {"promised_by", core::format_rfc3339(d.promised_by)},
          {"tracking", tracking},
          {"created_at", core::format_rfc3339(d.created_at)},
          {"updated_at", core::format_rfc3339(d.updated_at)},
          {"version", d.version}};
}

nlohmann::json to_wire(const Delivery& delivery) {
  auto json = to_json(delivery);
  json["customer_id"] = delivery.customer_id;
  return json;
}

namespace {

core::TimePoint time_of(const nlohmann::json& json, const char* name) {
  auto parsed = core::parse_rfc3339(json.at(name).get<std::string>());
  if (!parsed) throw core::Error(core::ErrorKind::internal, std::string("delivery field '") + name + "' is not a time");
  return *parsed;
}

}  // namespace

Delivery delivery_from_wire(const nlohmann::json& json) {
  try {
    Delivery d;
    d.id = json.at("id").get<std::string>();
    d.order_id = json.at("order_id").get<std::string>();
    d.customer_id = json.at("customer_id").get<std::string>();
    d.zone_id = json.at("zone_id").get<std::string>();
    if (!json.at("courier_id").is_null()) d.courier_id = json.at("courier_id").get<std::string>();
    const auto& address = json.at("address");
    d.address = {address.at("line1").get<std::string>(), address.at("city").get<std::string>(),
                 address.at("postal_code").get<std::string>(), address.at("country").get<std::string>()};
    d.status = delivery_status_from(json.at("status").get<std::string>());
    for (const auto& t : json.at("tracking")) {
      d.tracking.push_back(
          {delivery_status_from(t.at("status").get<std::string>()), t.at("note").get<std::string>(), time_of(t, "at")});
    }
    d.promised_by = time_of(json, "promised_by");
    d.created_at = time_of(json, "created_at");
    d.updated_at = time_of(json, "updated_at");
    d.version = json.at("version").get<std::int64_t>();
    return d;
  } catch (const nlohmann::json::exception& e) {
    throw core::Error(core::ErrorKind::internal, std::string("delivery answered a malformed delivery: ") + e.what());
  }
}

}  // namespace deliveryhub::delivery
