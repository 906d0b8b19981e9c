#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace deliveryhub::core {

using TimePoint = std::chrono::system_clock::time_point;

/// The source of "now" for domain logic, so tests can move time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

/// The wall clock.
class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

/// RFC 3339 UTC with milliseconds: "2026-11-22T10:00:00.123Z".
std::string format_rfc3339(TimePoint t);

/// Parses what format_rfc3339 writes (also without fraction); nullopt for anything else.
std::optional<TimePoint> parse_rfc3339(std::string_view text);

/// Milliseconds since the Unix epoch, the form times are stored in.
std::int64_t to_unix_ms(TimePoint t);
TimePoint from_unix_ms(std::int64_t ms);

}  // namespace deliveryhub::core
