#pragma once
#include "core/auth/token_validator.hpp"
#include "core/http/router.hpp"
#include "order_service.hpp"

namespace deliveryhub::orders {

/// /api/v1/orders: customers place and read their own orders; operators read all.
void add_order_routes(core::http::Router& router, OrderService& orders, const core::auth::TokenValidator& tokens);

}  // namespace deliveryhub::orders
