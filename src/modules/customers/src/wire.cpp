#include "wire.hpp"

#include "core/errors.hpp"

namespace deliveryhub::customers {

nlohmann::json to_json(const Address& a) {
  return {
      {"id", a.id},          {"label", a.label}, {"line1", a.line1}, {"city", a.city}, {"postal_code", a.postal_code},
      {"country", a.country}};
}

nlohmann::json to_json(const Customer& c) {
  nlohmann::json addresses = nlohmann::json::array();
  for (const auto& a : c.addresses) addresses.push_back(to_json(a));
  return {{"id", c.id},
          {"email", c.email},
          {"name", c.name},
          {"phone", c.phone ? nlohmann::json(*c.phone) : nlohmann::json(nullptr)},
          {"status", to_string(c.status)},
          {"addresses", addresses},
          {"created_at", core::format_rfc3339(c.created_at)},
          {"updated_at", core::format_rfc3339(c.updated_at)},
          {"version", c.version}};
}

nlohmann::json to_json(const Account& a) {
  return {{"id", a.id}, {"email", a.email}, {"name", a.name}, {"role", to_string(a.role)}};
}

AccountRole role_from(std::string_view text) {
  if (text == "courier") return AccountRole::courier;
  if (text == "operator") return AccountRole::operator_;
  return AccountRole::customer;
}

CustomerStatus status_from(std::string_view text) {
  return text == "suspended" ? CustomerStatus::suspended : CustomerStatus::active;
}

namespace {

core::TimePoint time_of(const nlohmann::json& json, const char* name) {
  auto parsed = core::parse_rfc3339(json.at(name).get<std::string>());
  if (!parsed) throw core::Error(core::ErrorKind::internal, std::string("customer field '") + name + "' is not a time");
  return *parsed;
}

}  // namespace

Customer customer_from_json(const nlohmann::json& json) {
  try {
    Customer c;
    c.id = json.at("id").get<std::string>();
    c.email = json.at("email").get<std::string>();
    c.name = json.at("name").get<std::string>();
    if (!json.at("phone").is_null()) c.phone = json.at("phone").get<std::string>();
    c.status = status_from(json.at("status").get<std::string>());
    for (const auto& a : json.at("addresses")) {
      c.addresses.push_back({a.at("id").get<std::string>(), a.at("label").get<std::string>(),
                             a.at("line1").get<std::string>(), a.at("city").get<std::string>(),
                             a.at("postal_code").get<std::string>(), a.at("country").get<std::string>()});
    }
    c.created_at = time_of(json, "created_at");
    c.updated_at = time_of(json, "updated_at");
    c.version = json.at("version").get<std::int64_t>();
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw core::Error(core::ErrorKind::internal, std::string("customers answered a malformed customer: ") + e.what());
  }
}

Account account_from_json(const nlohmann::json& json) {
  try {
    return {json.at("id").get<std::string>(), json.at("email").get<std::string>(), json.at("name").get<std::string>(),
            role_from(json.at("role").get<std::string>())};
  } catch (const nlohmann::json::exception& e) {
    throw core::Error(core::ErrorKind::internal, std::string("customers answered a malformed account: ") + e.what());
  }
}

}  // namespace deliveryhub::customers
