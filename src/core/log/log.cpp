#include "core/log/log.hpp"

#include "core/log/line_buffers.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace deliveryhub::core::log {
namespace {

thread_local Context t_context;

spdlog::level::level_enum to_spdlog(Level level) {
  return static_cast<spdlog::level::level_enum>(static_cast<int>(level));
}

constexpr const char* kPattern = R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})";

LineBuffers& stdout_buffers() {
  // Never destroyed (a static logger may log after main); what is buffered leaves at exit().
  static auto* instance = [] {
    // Lines begin {"ts":"YYYY-MM-DDTHH:MM:SS.mmmZ": merged by those 32 bytes, they are in time order.
    auto* created = new LineBuffers(STDOUT_FILENO, 32);
    std::atexit([] { stdout_buffers().flush_all(); });
    return created;
  }();
  return *instance;
}

// Formats each line on the logging thread (a formatter per thread: spdlog's caches the time)
// and leaves it in that thread's buffer: nothing shared between threads on the way.
class BufferedSink final : public spdlog::sinks::sink {
 public:
  void log(const spdlog::details::log_msg& message) override {
    thread_local spdlog::pattern_formatter formatter(kPattern, spdlog::pattern_time_type::utc);
    spdlog::memory_buf_t formatted;
    formatter.format(message, formatted);
    stdout_buffers().append(std::string_view(formatted.data(), formatted.size()), message.level >= spdlog::level::warn);
  }
  void flush() override { stdout_buffers().flush_all(); }
  void set_pattern(const std::string&) override {}  // the pattern is kPattern
  void set_formatter(std::unique_ptr<spdlog::formatter>) override {}
};

std::shared_ptr<spdlog::logger> logger() {
  static std::shared_ptr<spdlog::logger> instance =
      std::make_shared<spdlog::logger>("deliveryhub", std::make_shared<BufferedSink>());
  return instance;
}

bool is_hex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::optional<Level> parse_level(std::string_view text) {
  constexpr std::string_view kNames[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  for (int i = 0; i < 7; ++i) {
    if (text == kNames[i]) return static_cast<Level>(i);
  }
  return std::nullopt;
}

namespace {
// `"service":"…",` for every line, or empty; written once by init() before other threads log.
std::string g_service_member;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
}  // namespace

void init(Level level, std::string_view service) {
  const bool plain =
      !service.empty() && service.size() <= 128 && std::all_of(service.begin(), service.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '+';
      });
  g_service_member = plain ? R"("service":")" + std::string(service) + R"(",)" : std::string();
  logger()->set_level(to_spdlog(level));
  stdout_buffers().flush_every(std::chrono::seconds(1));
}

void flush() {
  logger()->flush();
}

void set_caller(std::string subject) {
  // Logged without escaping and sent as a header: only what needs neither (an external issuer's
  // subject may hold anything). Anything else is recorded as "-".
  const bool plain =
      !subject.empty() && subject.size() <= 128 && std::all_of(subject.begin(), subject.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.' || c == ':' || c == '@' || c == '|';
      });
  t_context.caller = plain ? std::move(subject) : "-";
}

const Context& current() {
  return t_context;
}

ScopedContext::ScopedContext(Context context) : previous_(std::move(t_context)) {
  t_context = std::move(context);
}
ScopedContext::~ScopedContext() {
  t_context = std::move(previous_);
}

void write(Level level, std::string_view message, const nlohmann::json& fields) {
  auto& sink = *logger();
  if (!sink.should_log(to_spdlog(level))) return;
  nlohmann::json line = fields.is_object() ? fields : nlohmann::json::object();
  line["msg"] = message;
  if (!t_context.request_id.empty()) line["request_id"] = t_context.request_id;
  if (!t_context.trace_id.empty()) line["trace_id"] = t_context.trace_id;
  if (!t_context.caller.empty()) line["caller"] = t_context.caller;
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Drop the outer braces: the pattern supplies them around ts and level.
  text.front() = ' ';
  text.pop_back();
  text.replace(0, 1, g_service_member);
  sink.log(to_spdlog(level), text);
}

void write_preformatted(Level level, std::string_view message, std::string_view json_members) {
  auto& sink = *logger();
  if (!sink.should_log(to_spdlog(level))) return;
  std::string text;
  text.reserve(g_service_member.size() + json_members.size() + message.size() + 96);
  text.append(g_service_member).append(json_members).append(R"(,"msg":")").append(message).push_back('"');
  // Both ids are checked where they are set: [A-Za-z0-9._-] and lower-case hex.
  if (!t_context.request_id.empty()) text.append(R"(,"request_id":")").append(t_context.request_id).push_back('"');
  if (!t_context.trace_id.empty()) text.append(R"(,"trace_id":")").append(t_context.trace_id).push_back('"');
  if (!t_context.caller.empty()) text.append(R"(,"caller":")").append(t_context.caller).push_back('"');
  sink.log(to_spdlog(level), text);
}

std::string trace_id_of(std::string_view traceparent) {
  // version "-" trace-id(32) "-" parent-id(16) "-" flags(2)
  if (traceparent.size() < 55 || traceparent[2] != '-' || traceparent[35] != '-' || traceparent[52] != '-') {
    return {};
  }
  auto version = traceparent.substr(0, 2);
  auto trace = traceparent.substr(3, 32);
  auto parent = traceparent.substr(36, 16);
  auto flags = traceparent.substr(53, 2);
  if (!is_hex(version) || version == "ff" || !is_hex(trace) || !is_hex(parent) || !is_hex(flags)) return {};
  if (version == "00" && traceparent.size() != 55) return {};
  if (trace == std::string(32, '0') || parent == std::string(16, '0')) return {};
  return std::string(trace);
}

}  // namespace deliveryhub::core::log
