#include "routes.hpp"

#include "core/http/json_body.hpp"
#include "core/http/paging.hpp"
#include "core/http/preconditions.hpp"
#include "wire.hpp"

namespace deliveryhub::delivery {
namespace {

using core::Error;
using core::ErrorKind;
using core::auth::Principal;
using core::http::FieldReader;
using core::http::Request;
using core::http::Response;

nlohmann::json to_json(const Zone& z) {
  return {{"id", z.id},
          {"name", z.name},
          {"postal_prefixes", z.postal_prefixes},
          {"created_at", core::format_rfc3339(z.created_at)}};
}

nlohmann::json to_json(const Courier& c) {
  return {{"id", c.id},
          {"account_id", c.account_id},
          {"name", c.name},
          {"email", c.email},
          {"zone_id", c.zone_id},
          {"status", to_string(c.status)},
          {"capacity", c.capacity},
          {"active_deliveries", c.active_deliveries},
          {"created_at", core::format_rfc3339(c.created_at)},
          {"updated_at", core::format_rfc3339(c.updated_at)},
          {"version", c.version}};
}

nlohmann::json list_of(const auto& items) {
  nlohmann::json data = nlohmann::json::array();
  for (const auto& item : items) data.push_back(to_json(item));
  return data;
}

// A page of `limit` from `items` fetched with one more: the extra one says there is a next page.
template <class Item>
Response page_of(std::vector<Item> items, std::size_t limit) {
  std::optional<std::string> next;
  if (items.size() > limit) {
    items.resize(limit);
    next = items.back().id;
  }
  return core::http::page_response(list_of(items), next);
}

// The order's customer, the assigned courier, or an operator; anyone else gets 404.
bool may_read(DeliveryService& service, const Principal& principal, const Delivery& delivery) {
  if (principal.has_role("operator")) return true;
  if (principal.has_role("customer")) return principal.subject == delivery.customer_id;
  if (principal.has_role("courier")) {
    auto courier = service.courier_for_account(principal.subject);
    return courier && delivery.courier_id == courier->id;
  }
  return false;
}

}  // namespace

void add_delivery_routes(core::http::Router& router, DeliveryService& service,
                         const core::auth::TokenValidator& tokens) {
  router.add("POST", "/api/v1/zones", [&service, &tokens](const Request& request) {
    core::auth::require_any_role(tokens.authenticate(request), {"operator"});
    const auto body = core::http::parse_json_object(request);
    FieldReader reader(body, {"name", "postal_prefixes"});
    auto name = reader.required_string("name", 1, 100);
    std::vector<std::string> prefixes;
    if (!body.contains("postal_prefixes") || !body["postal_prefixes"].is_array() || body["postal_prefixes"].empty() ||
        body["postal_prefixes"].size() > 100) {
      reader.fail("postal_prefixes", "must be a list of 1 to 100 strings");
    } else {
      for (const auto& prefix : body["postal_prefixes"]) {
        if (!prefix.is_string()) {
          reader.fail("postal_prefixes", "must contain only strings");
          break;
        }
        prefixes.push_back(prefix.get<std::string>());
      }
    }
    reader.throw_if_failed();
    const Zone zone = service.create_zone(*name, std::move(prefixes));
    return Response::json(201, to_json(zone));
  });

  router.add("GET", "/api/v1/zones", [&service, &tokens](const Request& request) {
    core::auth::require_any_role(tokens.authenticate(request), {"operator"});
    const auto paging = core::http::read_paging(request);
    return page_of(service.zones(paging.limit + 1, paging.after), paging.limit);
  });

  router.add("POST", "/api/v1/couriers", [&service, &tokens](const Request& request) {
    core::auth::require_any_role(tokens.authenticate(request), {"operator"});
    const auto body = core::http::parse_json_object(request);
    FieldReader reader(body, {"name", "email", "password", "zone_id", "capacity"});
    auto name = reader.required_string("name", 1, 200);
    auto email = reader.required_string("email", 3, 254);
    auto password = reader.required_string("password", 10, 128);
    auto zone_id = reader.required_string("zone_id", 1, 64);
    auto capacity = reader.optional_integer("capacity", 1, 50);
    reader.throw_if_failed();
    const Courier courier = service.create_courier({*name, *email, *password, *zone_id, capacity.value_or(1)});
    Response response = Response::json(201, to_json(courier));
    response.headers.add("ETag", core::http::etag_of(courier.version));
    return response;
  });

  router.add("GET", "/api/v1/couriers", [&service, &tokens](const Request& request) {
    core::auth::require_any_role(tokens.authenticate(request), {"operator"});
    const auto paging = core::http::read_paging(request);
    return page_of(service.couriers(paging.limit + 1, paging.after), paging.limit);
  });

  router.add("PATCH", "/api/v1/couriers/{id}", [&service, &tokens](const Request& request) {
    core::auth::require_any_role(tokens.authenticate(request), {"operator"});
    const auto body = core::http::parse_json_object(request, {"application/json", "application/merge-patch+json"});
    FieldReader reader(body, {"name", "zone_id", "capacity", "status"});
    CourierPatch patch;
    patch.name = reader.optional_string("name", 1, 200);
    patch.zone_id = reader.optional_string("zone_id", 1, 64);
    patch.capacity = reader.optional_integer("capacity", 1, 50);
    if (auto status = reader.optional_string("status", 1, 20)) {
      if (*status == "available")
        patch.status = CourierStatus::available;
      else if (*status == "offline")
        patch.status = CourierStatus::offline;
      else
        reader.fail("status", "must be available or offline");
    }
    reader.throw_if_failed();
    const Courier courier =
        service.update_courier(std::string(request.param("id")), patch, core::http::expected_version(request));
    Response response = Response::json(200, to_json(courier));
    response.headers.add("ETag", core::http::etag_of(courier.version));
    return response;
  });

  router.add("GET", "/api/v1/couriers/me/deliveries", [&service, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    core::auth::require_any_role(principal, {"courier"});
    auto courier = service.courier_for_account(principal.subject);
    if (!courier) throw Error(ErrorKind::not_found, "No courier profile for this account");
    return core::http::page_response(list_of(service.active_for_courier(courier->id)), std::nullopt);
  });

  router.add("GET", "/api/v1/deliveries/{id}", [&service, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    auto delivery = service.find(std::string(request.param("id")));
    if (!delivery || !may_read(service, principal, *delivery)) throw Error(ErrorKind::not_found, "No such delivery");
    Response response = Response::json(200, to_json(*delivery));
    response.headers.add("ETag", core::http::etag_of(delivery->version));
    return response;
  });

  router.add("GET", "/api/v1/deliveries", [&service, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    const auto order_id = request.query_param("order_id");
    if (!order_id || order_id->empty()) {
      throw Error(ErrorKind::validation, "order_id is required", {{"order_id", "is required"}});
    }
    nlohmann::json data = nlohmann::json::array();
    if (auto delivery = service.find_by_order(*order_id); delivery && may_read(service, principal, *delivery)) {
      data.push_back(to_json(*delivery));
    }
    return core::http::page_response(data, std::nullopt);
  });

  router.add("POST", "/api/v1/deliveries/{id}/events", [&service, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    core::auth::require_any_role(principal, {"courier", "operator"});
    const auto body = core::http::parse_json_object(request);
    FieldReader reader(body, {"status", "note"});
    auto status_text = reader.required_string("status", 1, 20);
    auto note = reader.optional_string("note", 0, 500);
    DeliveryStatus status = DeliveryStatus::picked_up;
    if (status_text) {
      if (*status_text == "picked_up")
        status = DeliveryStatus::picked_up;
      else if (*status_text == "delivered")
        status = DeliveryStatus::delivered;
      else if (*status_text == "failed")
        status = DeliveryStatus::failed;
      else
        reader.fail("status", "must be picked_up, delivered or failed");
    }
    if (status == DeliveryStatus::failed && (!note || note->empty())) reader.fail("note", "a failure needs a reason");
    reader.throw_if_failed();
    const std::string id(request.param("id"));
    auto delivery = service.find(id);
    // A courier moves only its own deliveries; any other answers like an unknown one.
    if (!delivery || !may_read(service, principal, *delivery) || principal.has_role("customer")) {
      throw Error(ErrorKind::not_found, "No such delivery");
    }
    const Delivery updated = service.record(id, status, note.value_or(""));
    return Response::json(201, to_json(updated));
  });
}

}  // namespace deliveryhub::delivery
