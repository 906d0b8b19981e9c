// Event decoding: arbitrary bytes as an event from the broker. Never crash; either a valid
// envelope or core::Error(bad_request).
#include "core/errors.hpp"
#include "core/events/envelope.hpp"

#include <cstdlib>

using namespace deliveryhub::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto json = nlohmann::json::parse(data, data + size, nullptr, false);
  if (json.is_discarded()) return 0;
  try {
    auto envelope = events::envelope_from_json(json);
    auto again = events::envelope_from_json(events::to_json(envelope));
    if (again.id != envelope.id || again.sequence != envelope.sequence) std::abort();
  } catch (const Error& error) {
    if (error.kind() != ErrorKind::bad_request) std::abort();
  }
  return 0;
}
