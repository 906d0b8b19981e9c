#pragma once
#include "core/metrics/metrics.hpp"
#include "core/remote/channel_options.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace deliveryhub::core::remote {

struct RemoteCall {
  std::string method;  // GET or POST
  std::string target;  // path and query, e.g. /internal/v1/payments/by-order/ord_…
  std::optional<nlohmann::json> body;
  bool idempotent = false;  // only idempotent calls are retried
};

/// HTTP/JSON calls to one remote module (ADR 0014): keep-alive connections reused from a pool;
/// a service token from `token` on every call; the W3C trace context of the current log context;
/// the caller's remaining deadline (header X-Deliveryhub-Deadline-Ms); per-attempt timeouts;
/// retries with full jitter for idempotent calls within a retry budget; a circuit breaker.
/// Thread-safe.
class HttpChannel {
 public:
  /// `name` labels metrics and errors ("payments"); `base_url` is http://host:port.
  HttpChannel(std::string name, const std::string& base_url, ChannelOptions options, metrics::Metrics& metrics,
              std::function<std::string()> token);
  ~HttpChannel();

  /// The body of a 2xx answer (null when empty). A problem answer (4xx) is rethrown as the
  /// core::Error of the same kind, detail and extensions, as if the call had been local.
  /// Unreachable, 5xx after the retries, an open breaker or a passed deadline: core::Error
  /// unavailable with Retry-After.
  nlohmann::json call(const RemoteCall& call);

  CircuitBreaker::State breaker_state();
  /// Throws what call() would throw at once while the breaker is open; otherwise nothing.
  void fail_fast_if_open();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace deliveryhub::core::remote
