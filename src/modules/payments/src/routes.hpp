#pragma once
#include "core/auth/token_validator.hpp"
#include "core/http/router.hpp"
#include "service.hpp"

namespace deliveryhub::payments {

/// /api/v1/payments…: the owner (the order's customer) and operators read payments; operators
/// refund. Another customer's payment answers 404.
void add_payment_routes(core::http::Router& router, PaymentsService& payments,
                        const core::auth::TokenValidator& tokens);

}  // namespace deliveryhub::payments
