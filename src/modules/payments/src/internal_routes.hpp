#pragma once
#include "core/auth/token_validator.hpp"
#include "core/http/router.hpp"
#include "payments/api.hpp"

namespace deliveryhub::payments {

/// PaymentsApi over HTTP for modules in other processes (ADR 0014): /internal/v1/payments/…,
/// service tokens only. Answers are the payment as JSON; errors are the API's core::Errors as
/// problems, which the remote client turns back into the same errors.
void add_internal_routes(core::http::Router& router, PaymentsApi& payments, const core::auth::TokenValidator& tokens);

}  // namespace deliveryhub::payments
