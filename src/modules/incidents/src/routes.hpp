#pragma once
#include "core/auth/token_validator.hpp"
#include "core/http/router.hpp"
#include "service.hpp"

namespace deliveryhub::incidents {

void add_incident_routes(core::http::Router& router, IncidentService& incidents,
                         const core::auth::TokenValidator& tokens);

}  // namespace deliveryhub::incidents
