#include "routes.hpp"

#include "core/http/json_body.hpp"
#include "core/http/paging.hpp"
#include "core/http/preconditions.hpp"

namespace deliveryhub::incidents {
namespace {

using core::auth::Principal;
using core::http::FieldReader;
using core::http::Request;
using core::http::Response;

constexpr std::size_t kMaxText = 2000;

nlohmann::json comment_json(const Comment& c) {
  return {{"id", c.id},
          {"author_id", c.author_id},
          {"author_role", c.author_role},
          {"body", c.body},
          {"created_at", core::format_rfc3339(c.at)}};
}

nlohmann::json to_json(const Incident& i) {
  nlohmann::json comments = nlohmann::json::array();
  for (const auto& c : i.comments) comments.push_back(comment_json(c));
  nlohmann::json resolution = nullptr;
  if (i.resolution) {
    resolution = {{"type", to_string(*i.resolution)}};
    if (i.refund_amount) resolution["amount"] = *i.refund_amount;
  }
  return {{"id", i.id},
          {"order_id", i.order_id},
          {"customer_id", i.customer_id},
          {"type", to_string(i.type)},
          {"description", i.description},
          {"status", to_string(i.status)},
          {"opened_by", i.opened_by},
          {"resolution", resolution},
          {"rejection_reason", i.rejection_reason ? nlohmann::json(*i.rejection_reason) : nlohmann::json(nullptr)},
          {"comments", comments},
          {"created_at", core::format_rfc3339(i.created_at)},
          {"updated_at", core::format_rfc3339(i.updated_at)},
          {"version", i.version}};
}

Response incident_response(int status, const Incident& incident) {
  Response response = Response::json(status, to_json(incident));
  response.headers.add("ETag", core::http::etag_of(incident.version));
  return response;
}

Actor actor_of(const Principal& principal) {
  return {principal.subject, principal.has_role("operator")};
}

// A value of `field` that names one of the enum's values, or a violation listing them.
template <typename Enum>
std::optional<Enum> read_enum(FieldReader& reader, std::string_view field, const std::optional<std::string>& text,
                              std::optional<Enum> (*parse)(std::string_view), std::string_view allowed) {
  if (!text) return std::nullopt;
  auto value = parse(*text);
  if (!value) reader.fail(field, "must be one of " + std::string(allowed));
  return value;
}

}  // namespace

void add_incident_routes(core::http::Router& router, IncidentService& incidents,
                         const core::auth::TokenValidator& tokens) {
  router.add("POST", "/api/v1/incidents", [&incidents, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    core::auth::require_any_role(principal, {"customer", "operator"});
    const auto body = core::http::parse_json_object(request);
    FieldReader reader(body, {"order_id", "type", "description"});
    const auto order_id = reader.required_string("order_id", 1, 64);
    const auto type = read_enum(reader, "type", reader.required_string("type", 1, 32), &repository::type_from,
                                "damaged, late, missing_item, not_delivered, other");
    const auto description = reader.required_string("description", 1, kMaxText);
    reader.throw_if_failed();
    const Incident opened = incidents.open({*order_id, *type, *description}, actor_of(principal));
    Response response = incident_response(201, opened);
    response.headers.add("Location", "/api/v1/incidents/" + opened.id);
    return response;
  });

  router.add("GET", "/api/v1/incidents/{id}", [&incidents, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    core::auth::require_any_role(principal, {"customer", "operator"});
    return incident_response(200, incidents.get(std::string(request.param("id")), actor_of(principal)));
  });

  router.add("GET", "/api/v1/incidents", [&incidents, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    core::auth::require_any_role(principal, {"customer", "operator"});
    const auto paging = core::http::read_paging(request);
    repository::Filter filter{request.query_param("customer_id"), request.query_param("order_id"),
                              request.query_param("status")};
    if (filter.status && !repository::status_from(*filter.status)) {
      throw core::Error(core::ErrorKind::validation, "Unknown status filter",
                        {{"status", "must be one of open, in_progress, resolved, rejected"}});
    }
    if (!principal.has_role("operator")) {
      // A customer sees only their own incidents; asking for someone else's finds nothing.
      if (filter.customer_id && *filter.customer_id != principal.subject) {
        return core::http::page_response(nlohmann::json::array(), std::nullopt);
      }
      filter.customer_id = principal.subject;
    }
    const auto page = incidents.list(filter, paging.limit, paging.after);
    nlohmann::json data = nlohmann::json::array();
    for (const auto& incident : page.incidents) data.push_back(to_json(incident));
    return core::http::page_response(data, page.next_after);
  });

  router.add("POST", "/api/v1/incidents/{id}/comments", [&incidents, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    core::auth::require_any_role(principal, {"customer", "operator"});
    const auto body = core::http::parse_json_object(request);
    FieldReader reader(body, {"body"});
    const auto text = reader.required_string("body", 1, kMaxText);
    reader.throw_if_failed();
    return Response::json(
        201, comment_json(incidents.comment(std::string(request.param("id")), *text, actor_of(principal))));
  });

  router.add("POST", "/api/v1/incidents/{id}/resolve", [&incidents, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    core::auth::require_any_role(principal, {"operator"});
    const auto body = core::http::parse_json_object(request);
    FieldReader reader(body, {"resolution", "amount"});
    const auto resolution = read_enum(reader, "resolution", reader.required_string("resolution", 1, 16),
                                      &repository::resolution_from, "refund, redeliver, none");
    std::optional<std::int64_t> amount;
    if (resolution == Resolution::refund) {
      amount = reader.required_integer("amount", 1, 1'000'000'000'000);
    } else if (reader.has("amount")) {
      reader.fail("amount", "is only for a refund");
    }
    reader.throw_if_failed();
    return incident_response(200, incidents.resolve(std::string(request.param("id")), {*resolution, amount}));
  });

  router.add("POST", "/api/v1/incidents/{id}/reject", [&incidents, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    core::auth::require_any_role(principal, {"operator"});
    const auto body = core::http::parse_json_object(request);
    FieldReader reader(body, {"reason"});
    const auto reason = reader.required_string("reason", 1, kMaxText);
    reader.throw_if_failed();
    return incident_response(200, incidents.reject(std::string(request.param("id")), *reason));
  });
}

}  // namespace deliveryhub::incidents
