#include "json_mapping.hpp"

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

}  // namespace deliveryhub::customers
