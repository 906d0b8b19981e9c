#pragma once
#include "core/auth/token_validator.hpp"
#include "core/http/router.hpp"
#include "customers/api.hpp"

namespace deliveryhub::customers {

/// CustomersApi over HTTP for modules in other processes (ADR 0014): /internal/v1/customers/…,
/// service tokens only; errors as problems that the remote client turns back into the same errors.
void add_internal_routes(core::http::Router& router, CustomersApi& customers, const core::auth::TokenValidator& tokens);

}  // namespace deliveryhub::customers
