#include "routes.hpp"

#include "core/http/json_body.hpp"
#include "core/http/paging.hpp"
#include "core/http/preconditions.hpp"
#include "wire.hpp"

namespace deliveryhub::customers {
namespace {

using core::Error;
using core::ErrorKind;
using core::auth::Principal;
using core::http::FieldReader;
using core::http::Request;
using core::http::Response;

// Another customer's id answers exactly like an unknown one: 404.
void require_self_or_operator(const Principal& principal, std::string_view customer_id) {
  if (principal.has_role("operator")) return;
  if (principal.has_role("customer") && principal.subject == customer_id) return;
  if (principal.has_role("customer")) throw Error(ErrorKind::not_found, "No such customer");
  throw Error(ErrorKind::forbidden, "Your role may not do this");
}

Response customer_response(int status, const Customer& customer) {
  Response response = Response::json(status, to_json(customer));
  response.headers.add("ETag", core::http::etag_of(customer.version));
  return response;
}

void merge(std::vector<core::FieldError>& into, std::vector<core::FieldError> more) {
  for (auto& e : more) into.push_back(std::move(e));
}

}  // namespace

void add_customer_routes(core::http::Router& router, CustomersService& service,
                         const core::auth::TokenValidator& tokens, LoginThrottle& registrations) {
  router.add("POST", "/api/v1/customers", [&service, &registrations](const Request& request) {
    // Per address, whatever the outcome: an address cannot mass-create accounts, nor probe which
    // emails are taken faster than this (ADR 0021).
    if (auto wait = registrations.retry_after_address(request.remote_address)) {
      throw Error(ErrorKind::too_many_requests, "Too many registrations from your address; try again later")
          .with_header("Retry-After", std::to_string(wait->count()));
    }
    const auto body = core::http::parse_json_object(request);
    FieldReader reader(body, {"email", "password", "name", "phone"});
    auto email = reader.required_string("email", 3, 254);
    auto password = reader.required_string("password", 10, 128);
    auto name = reader.required_string("name", 1, 200);
    std::optional<std::string> phone;
    if (!reader.is_null("phone")) phone = reader.optional_string("phone", 1, 32);
    reader.throw_if_failed();
    auto errors = validate_email(*email);
    if (phone) merge(errors, validate_phone(*phone));
    if (!errors.empty()) throw Error(ErrorKind::validation, "Some fields are invalid", errors);
    registrations.record_address(request.remote_address);
    const Customer customer = service.register_customer({*email, *password, *name, phone});
    Response response = customer_response(201, customer);
    response.headers.add("Location", "/api/v1/customers/" + customer.id);
    return response;
  });

  router.add("GET", "/api/v1/customers", [&service, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    core::auth::require_any_role(principal, {"operator"});
    const auto paging = core::http::read_paging(request);
    const auto email = request.query_param("email");
    if (email && email->size() > 254) {  // RFC 5321's bound, as registration holds it
      throw core::Error(core::ErrorKind::validation, "Some fields are invalid",
                        {{"email", "must be at most 254 characters"}});
    }
    const auto page = service.list_customers(email, paging.limit, paging.after);
    nlohmann::json data = nlohmann::json::array();
    for (const auto& customer : page.customers) data.push_back(to_json(customer));
    return core::http::page_response(data, page.next_after);
  });

  router.add("GET", "/api/v1/customers/{id}", [&service, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    const std::string id(request.param("id"));
    require_self_or_operator(principal, id);
    auto customer = service.find_customer(id);
    if (!customer) throw Error(ErrorKind::not_found, "No such customer");
    return customer_response(200, *customer);
  });

  router.add("PATCH", "/api/v1/customers/{id}", [&service, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    const std::string id(request.param("id"));
    require_self_or_operator(principal, id);
    const auto body = core::http::parse_json_object(request, {"application/json", "application/merge-patch+json"});
    FieldReader reader(body, {"name", "phone"});
    ProfilePatch patch;
    patch.name = reader.optional_string("name", 1, 200);
    if (reader.is_null("phone")) {
      patch.phone = std::optional<std::string>{};
    } else if (reader.has("phone")) {
      if (auto phone = reader.optional_string("phone", 1, 32)) {
        for (auto& e : validate_phone(*phone)) reader.fail(e.field, e.message);
        patch.phone = phone;
      }
    }
    reader.throw_if_failed();
    const Customer customer = service.update_profile(id, patch, core::http::expected_version(request));
    return customer_response(200, customer);
  });

  router.add("POST", "/api/v1/customers/{id}/addresses", [&service, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    const std::string id(request.param("id"));
    require_self_or_operator(principal, id);
    const auto body = core::http::parse_json_object(request);
    FieldReader reader(body, {"label", "line1", "city", "postal_code", "country"});
    auto label = reader.required_string("label", 1, 50);
    auto line1 = reader.required_string("line1", 1, 200);
    auto city = reader.required_string("city", 1, 100);
    auto postal_code = reader.required_string("postal_code", 1, 16);
    auto country = reader.required_string("country", 2, 2);
    if (country) {
      for (auto& e : validate_country(*country)) reader.fail(e.field, e.message);
    }
    reader.throw_if_failed();
    const Address address = service.add_address(id, {*label, *line1, *city, *postal_code, *country});
    Response response = Response::json(201, to_json(address));
    response.headers.add("Location", "/api/v1/customers/" + id + "/addresses/" + address.id);
    return response;
  });

  router.add("DELETE", "/api/v1/customers/{id}/addresses/{address_id}", [&service, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    const std::string id(request.param("id"));
    require_self_or_operator(principal, id);
    service.remove_address(id, std::string(request.param("address_id")));
    return Response::no_content();
  });

  auto status_route = [&service, &tokens](CustomerStatus status) {
    return [&service, &tokens, status](const Request& request) {
      const Principal principal = tokens.authenticate(request);
      core::auth::require_any_role(principal, {"operator"});
      return customer_response(200, service.set_status(std::string(request.param("id")), status));
    };
  };
  router.add("POST", "/api/v1/customers/{id}/suspend", status_route(CustomerStatus::suspended));
  router.add("POST", "/api/v1/customers/{id}/reactivate", status_route(CustomerStatus::active));
}

}  // namespace deliveryhub::customers
