#pragma once
#include "catalog_service.hpp"
#include "core/auth/token_validator.hpp"
#include "core/http/router.hpp"

namespace deliveryhub::orders {

/// /api/v1/catalog/products: anyone lists active products; operators create, change and see
/// inactive ones (?include_inactive=true).
void add_catalog_routes(core::http::Router& router, CatalogService& catalog, const core::auth::TokenValidator& tokens);

}  // namespace deliveryhub::orders
