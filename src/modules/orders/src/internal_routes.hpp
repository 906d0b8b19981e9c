#pragma once
#include "core/auth/token_validator.hpp"
#include "core/http/router.hpp"
#include "orders/api.hpp"

namespace deliveryhub::orders {

/// OrdersApi over HTTP for modules in other processes (ADR 0014): /internal/v1/orders/… and
/// /internal/v1/catalog/…, service tokens only.
void add_internal_routes(core::http::Router& router, OrdersApi& orders, const core::auth::TokenValidator& tokens);

}  // namespace deliveryhub::orders
