#pragma once
#include "core/events/bus.hpp"
#include "service.hpp"

namespace deliveryhub::incidents {

/// delivery.failed → a not_delivered incident; delivery.* → the late watch's copy;
/// incident.resolved → its refund or redelivery (an effect: it calls other modules).
void subscribe_consumers(core::events::EventBus& bus, core::db::Database& db, IncidentService& incidents);

}  // namespace deliveryhub::incidents
