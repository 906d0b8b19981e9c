#pragma once
#include "core/http/pipeline.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace deliveryhub::core::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  unsigned io_threads = 1;
  unsigned worker_threads = 4;
  std::size_t max_connections = 1024;
  std::size_t header_limit = 16 * 1024;   // beyond: 431
  std::size_t body_limit = 1024 * 1024;   // beyond: 413
  std::chrono::seconds read_timeout{15};  // to receive a request's body once its header is in
  std::chrono::seconds idle_timeout{60};  // between requests on a kept-alive connection
  /// A new connection's first byte, and a request's whole header from its first byte, must
  /// arrive within this: a client dribbling half a request line holds a socket only this long.
  std::chrono::seconds header_timeout{10};
  /// Open connections one peer address may hold; beyond: 429 and close. 0: no limit.
  std::size_t max_connections_per_address = 128;
  /// Peers exempt from that limit (the gateway, whose connections carry many clients).
  std::function<bool(std::string_view address)> exempt_from_address_limit;
};

/// Parses one complete HTTP/1.1 request from `raw` with the server's parser and limits.
/// Returns the request, or throws core::Error (bad_request, header_fields_too_large,
/// payload_too_large) exactly as the server would answer. For fuzzing and tests.
Request parse_request(std::string_view raw, const ServerOptions& options = {});

/// HTTP/1.1 server: Beast coroutine sessions on `io_threads`, handlers on a separate pool of
/// `worker_threads` so that blocking work (the database) never stalls network I/O.
/// Everything about sockets lives here; what a request means is the Pipeline's business.
class Server {
 public:
  Server(ServerOptions options, const Pipeline& pipeline);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and starts serving; returns the bound port (useful with port 0).
  /// Throws std::runtime_error when the address cannot be bound.
  std::uint16_t start();
  /// Stops accepting connections; connections finish their current request and close.
  void begin_drain();
  /// Requests being handled or written now.
  std::size_t active_requests() const;
  /// Waits until no request is active or `deadline` passes; true when drained.
  bool wait_idle(std::chrono::steady_clock::time_point deadline) const;
  /// Closes everything and joins the threads.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace deliveryhub::core::http
