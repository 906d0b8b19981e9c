#pragma once
#include "core/auth/token_validator.hpp"
#include "core/http/router.hpp"
#include "order_service.hpp"

namespace deliveryhub::orders {

/// /api/v1/orders: customers place and read their own orders; operators read all.
/// The public order routes. `saga_backlog_limit`: --max-saga-backlog, shown by the summary (0: none).
void add_order_routes(core::http::Router& router, OrderService& orders, const core::auth::TokenValidator& tokens,
                      std::int64_t saga_backlog_limit);

}  // namespace deliveryhub::orders
