#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace deliveryhub::core::log {

enum class Level { trace, debug, info, warn, error, critical, off };

/// Parses "trace|debug|info|warn|error|critical|off"; nullopt otherwise.
std::optional<Level> parse_level(std::string_view text);

/// Sets up the process logger: one JSON object per line on stdout, UTC timestamps. `service`
/// names the process on every line from then on (`"service":"orders"`): what a log aggregator
/// groups by. Call before other threads log; letters, digits, '-', '_' and '+' only (else unset).
void init(Level level, std::string_view service = {});
/// Flushes buffered lines (shutdown).
void flush();

/// The request or event being handled on this thread; its ids go on every line logged there.
struct Context {
  std::string request_id;
  std::string trace_id;  // from the W3C traceparent
  std::string caller;    // the subject the request acts for (cus_…, acc_…), once authenticated
};
const Context& current();

/// Records who the thread's current request acts for: logged with every line, and carried to
/// remote modules (X-Deliveryhub-Caller). Restored with the context by ~ScopedContext.
void set_caller(std::string subject);

/// Sets the thread's context for its lifetime, restoring the previous one after.
class ScopedContext {
 public:
  explicit ScopedContext(Context context);
  ~ScopedContext();
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

 private:
  Context previous_;
};

/// Logs `message` with extra `fields` and the thread's context. Thread-safe.
void write(Level level, std::string_view message, const nlohmann::json& fields = nlohmann::json::object());
/// Logs a line whose extra members the caller has already written as JSON (`"a":1,"b":"x"`,
/// values escaped), adding msg and the thread's context; builds no json object. For the
/// per-request access log. `message` must be plain ASCII without quotes or backslashes.
void write_preformatted(Level level, std::string_view message, std::string_view json_members);

inline void info(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  write(Level::info, m, f);
}
inline void warn(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  write(Level::warn, m, f);
}
inline void error(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  write(Level::error, m, f);
}
inline void debug(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  write(Level::debug, m, f);
}

/// The trace id (32 hex) of a valid W3C traceparent header; empty if it is not one.
std::string trace_id_of(std::string_view traceparent);

}  // namespace deliveryhub::core::log
