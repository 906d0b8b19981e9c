#pragma once
#include "core/remote/circuit_breaker.hpp"
#include "core/remote/retry_policy.hpp"

#include <chrono>
#include <cstddef>

namespace deliveryhub::core::remote {

/// How a process calls one remote module (ADR 0014); the defaults are the documented ones, the
/// --remote-* and --breaker-* flags override them for every remote.
struct ChannelOptions {
  std::chrono::milliseconds timeout{2'000};  // per attempt: connect, write, read
  std::size_t max_idle_connections = 16;     // kept alive for reuse
  std::chrono::seconds max_idle{20};         // below the server's idle timeout (60 s)
  RetryOptions retry;
  BreakerOptions breaker;
};

}  // namespace deliveryhub::core::remote
