#pragma once
#include "core/auth/token_validator.hpp"
#include "core/http/router.hpp"
#include "service.hpp"

namespace deliveryhub::delivery {

/// Zones and couriers (operators), deliveries (the order's customer, the assigned courier,
/// operators), courier endpoints.
void add_delivery_routes(core::http::Router& router, DeliveryService& service,
                         const core::auth::TokenValidator& tokens);

}  // namespace deliveryhub::delivery
