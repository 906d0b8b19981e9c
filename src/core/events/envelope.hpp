#pragma once
#include "core/util/clock.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace deliveryhub::core::events {

/// An event as it travels: what happened (type, payload), to which aggregate, in which order.
struct Envelope {
  std::string id;             // evt_…, unique; consumers dedupe on it
  std::string type;           // e.g. "customer.registered"
  std::string source;         // the publishing module
  std::string aggregate_id;   // e.g. the customer or order id; ordering is per aggregate
  std::int64_t sequence = 0;  // 1, 2, … per aggregate within its source module
  TimePoint occurred_at;
  std::string traceparent;  // W3C trace context of the request that caused it, may be empty
  nlohmann::json payload = nlohmann::json::object();
};

nlohmann::json to_json(const Envelope& envelope);
/// Decodes an envelope received from outside the process. Throws core::Error(bad_request) when
/// a field is missing or of the wrong type.
Envelope envelope_from_json(const nlohmann::json& json);

}  // namespace deliveryhub::core::events
