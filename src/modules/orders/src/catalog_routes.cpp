#include "catalog_routes.hpp"

#include "core/http/json_body.hpp"
#include "core/http/paging.hpp"
#include "core/http/preconditions.hpp"
#include "wire.hpp"

namespace deliveryhub::orders {
namespace {

using core::Error;
using core::ErrorKind;
using core::http::FieldReader;
using core::http::Request;
using core::http::Response;

constexpr std::int64_t kMaxPrice = 100'000'000'00;  // one hundred million in major units

Response product_response(int status, const Product& product) {
  Response response = Response::json(status, to_json(product));
  response.headers.add("ETag", core::http::etag_of(product.version));
  return response;
}

}  // namespace

void add_catalog_routes(core::http::Router& router, CatalogService& catalog, const core::auth::TokenValidator& tokens) {
  router.add("GET", "/api/v1/catalog/products", [&catalog, &tokens](const Request& request) {
    const auto paging = core::http::read_paging(request);
    const auto include = request.query_param("include_inactive");
    bool include_inactive = false;
    if (include && *include != "false") {
      if (*include != "true") {
        throw Error(ErrorKind::validation, "include_inactive must be true or false",
                    {{"include_inactive", "must be true or false"}});
      }
      core::auth::require_any_role(tokens.authenticate(request), {"operator"});
      include_inactive = true;
    }
    const auto page = catalog.list(include_inactive, paging.limit, paging.after);
    nlohmann::json data = nlohmann::json::array();
    for (const auto& product : page.products) data.push_back(to_json(product));
    return core::http::page_response(data, page.next_after);
  });

  router.add("POST", "/api/v1/catalog/products", [&catalog, &tokens](const Request& request) {
    core::auth::require_any_role(tokens.authenticate(request), {"operator"});
    const auto body = core::http::parse_json_object(request);
    FieldReader reader(body, {"sku", "name", "price", "currency", "active"});
    auto sku = reader.required_string("sku", 1, 64);
    auto name = reader.required_string("name", 1, 200);
    auto price = reader.required_integer("price", 0, kMaxPrice);
    auto currency = reader.required_string("currency", 3, 3);
    auto active = reader.optional_bool("active");
    // The format checks too, so one answer names every bad field.
    if (sku) {
      for (const auto& e : validate_sku(*sku)) reader.fail(e.field, e.message);
    }
    if (currency) {
      for (const auto& e : validate_currency(*currency)) reader.fail(e.field, e.message);
    }
    reader.throw_if_failed();
    const Product product = catalog.create({*sku, *name, *price, *currency, active.value_or(true)});
    Response response = product_response(201, product);
    response.headers.add("Location", "/api/v1/catalog/products/" + product.id);
    return response;
  });

  router.add("PATCH", "/api/v1/catalog/products/{id}", [&catalog, &tokens](const Request& request) {
    core::auth::require_any_role(tokens.authenticate(request), {"operator"});
    const auto body = core::http::parse_json_object(request, {"application/json", "application/merge-patch+json"});
    FieldReader reader(body, {"name", "price", "currency", "active"});
    ProductPatch patch;
    patch.name = reader.optional_string("name", 1, 200);
    patch.price = reader.optional_integer("price", 0, kMaxPrice);
    patch.currency = reader.optional_string("currency", 3, 3);
    patch.active = reader.optional_bool("active");
    if (patch.currency) {
      for (const auto& e : validate_currency(*patch.currency)) reader.fail(e.field, e.message);
    }
    reader.throw_if_failed();
    const Product product =
        catalog.update(std::string(request.param("id")), patch, core::http::expected_version(request));
    return product_response(200, product);
  });
}

}  // namespace deliveryhub::orders
