#include "core/events/envelope.hpp"

#include "core/errors.hpp"
#include "core/util/ids.hpp"

namespace deliveryhub::core::events {

nlohmann::json to_json(const Envelope& envelope) {
  return {{"id", envelope.id},
          {"type", envelope.type},
          {"source", envelope.source},
          {"aggregate_id", envelope.aggregate_id},
          {"sequence", envelope.sequence},
          {"occurred_at", format_rfc3339(envelope.occurred_at)},
          {"traceparent", envelope.traceparent},
          {"payload", envelope.payload}};
}

Envelope envelope_from_json(const nlohmann::json& json) {
  auto text = [&](const char* name) -> std::string {
    auto it = json.find(name);
    if (it == json.end() || !it->is_string()) {
      throw Error(ErrorKind::bad_request, std::string("event field '") + name + "' must be a string");
    }
    return it->get<std::string>();
  };
  if (!json.is_object()) throw Error(ErrorKind::bad_request, "an event must be a JSON object");
  Envelope envelope;
  envelope.id = text("id");
  if (!is_id(envelope.id, "evt")) throw Error(ErrorKind::bad_request, "event id must be an evt_ id");
  envelope.type = text("type");
  envelope.source = text("source");
  envelope.aggregate_id = text("aggregate_id");
  envelope.traceparent = text("traceparent");
  auto occurred = parse_rfc3339(text("occurred_at"));
  if (!occurred) throw Error(ErrorKind::bad_request, "event occurred_at must be an RFC 3339 UTC time");
  envelope.occurred_at = *occurred;
  auto sequence = json.find("sequence");
  if (sequence == json.end() || !sequence->is_number_integer() || sequence->get<std::int64_t>() < 1) {
    throw Error(ErrorKind::bad_request, "event sequence must be a positive integer");
  }
  envelope.sequence = sequence->get<std::int64_t>();
  auto payload = json.find("payload");
  if (payload == json.end() || !payload->is_object()) {
    throw Error(ErrorKind::bad_request, "event payload must be an object");
  }
  envelope.payload = *payload;
  return envelope;
}

}  // namespace deliveryhub::core::events
