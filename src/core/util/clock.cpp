#include "core/util/clock.hpp"

#include <cstdio>
#include <ctime>

namespace deliveryhub::core {

std::int64_t to_unix_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint from_unix_ms(std::int64_t ms) {
  return TimePoint{std::chrono::milliseconds{ms}};
}

std::string format_rfc3339(TimePoint t) {
  const auto ms = to_unix_ms(t);
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[80];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buffer;
}

std::optional<TimePoint> parse_rfc3339(std::string_view text) {
  // Exactly "YYYY-MM-DDTHH:MM:SS" [".mmm"] "Z".
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (text.size() != kShape.size() + 1 && text.size() != kShape.size() + 5) return std::nullopt;
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) return std::nullopt;
  }
  auto number = [&](std::size_t at, std::size_t width) {
    int value = 0;
    for (std::size_t i = at; i < at + width; ++i) value = value * 10 + (text[i] - '0');
    return value;
  };
  int millis = 0;
  if (text.size() == kShape.size() + 5) {
    if (text[19] != '.') return std::nullopt;
    for (std::size_t i = 20; i < 23; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
    }
    millis = number(20, 3);
  }
  if (text.back() != 'Z') return std::nullopt;
  std::tm tm{};
  tm.tm_year = number(0, 4) - 1900;
  tm.tm_mon = number(5, 2) - 1;
  tm.tm_mday = number(8, 2);
  tm.tm_hour = number(11, 2);
  tm.tm_min = number(14, 2);
  tm.tm_sec = number(17, 2);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  const std::tm requested = tm;
  const std::time_t seconds = timegm(&tm);
  if (tm.tm_mday != requested.tm_mday || tm.tm_mon != requested.tm_mon) return std::nullopt;  // e.g. 31 April
  // A TimePoint counts nanoseconds (libstdc++): about 292 years either side of 1970. A time beyond
  // that (e.g. the year 2620, found by fuzz_event) cannot be held, so it is not a time we accept.
  constexpr auto kLimit = std::chrono::duration_cast<std::chrono::seconds>(TimePoint::duration::max()).count() - 1;
  if (seconds > kLimit || seconds < -kLimit) return std::nullopt;
  return from_unix_ms(static_cast<std::int64_t>(seconds) * 1000 + millis);
}

}  // namespace deliveryhub::core
