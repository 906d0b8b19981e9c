#pragma once
#include "core/auth/token_validator.hpp"
#include "core/http/router.hpp"
#include "identity/login_throttle.hpp"
#include "service.hpp"

namespace deliveryhub::customers {

/// /api/v1/customers…: HTTP in, service calls, HTTP out; authorization decided here.
/// `registrations` limits registrations per client address (429 with Retry-After past it).
void add_customer_routes(core::http::Router& router, CustomersService& service,
                         const core::auth::TokenValidator& tokens, LoginThrottle& registrations);

}  // namespace deliveryhub::customers
