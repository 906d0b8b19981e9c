#include "core/http/server.hpp"

#include "core/log/log.hpp"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

namespace deliveryhub::core::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

Request to_request(bhttp::request<bhttp::string_body>&& message, const std::string& remote) {
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  const auto question = request.target.find('?');
  request.path = request.target.substr(0, question);
  if (question != std::string::npos) request.query = request.target.substr(question + 1);
  for (const auto& field : message) request.headers.add(std::string(field.name_string()), std::string(field.value()));
  request.body = std::move(message.body());
  request.remote_address = remote;
  return request;
}

bhttp::response<bhttp::string_body> to_message(Response&& response, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::string_body> message{static_cast<bhttp::status>(response.status), version};
  for (auto& [name, value] : response.headers.fields()) message.set(name, value);
  message.body() = std::move(response.body);
  message.keep_alive(keep_alive);
  message.prepare_payload();
  return message;
}

// Maps a read failure to the problem the client should see; nullopt means "just close".
std::optional<Error> read_error_problem(const beast::error_code& ec) {
  if (ec == bhttp::error::header_limit) {
    return Error(ErrorKind::header_fields_too_large, "Request headers exceed 16 KiB");
  }
  if (ec == bhttp::error::body_limit) return Error(ErrorKind::payload_too_large, "The body exceeds 1 MiB");
  if (ec.category() == beast::error_code(bhttp::error::end_of_stream).category() && ec != bhttp::error::end_of_stream &&
      ec != bhttp::error::partial_message) {
    return Error(ErrorKind::bad_request, "Malformed HTTP request: " + ec.message());
  }
  return std::nullopt;
}

// Counts one request in flight for its lifetime.
class ActiveRequest {
 public:
  explicit ActiveRequest(std::atomic<std::size_t>& counter) : counter_(counter) { ++counter_; }
  ~ActiveRequest() { --counter_; }
  ActiveRequest(const ActiveRequest&) = delete;
  ActiveRequest& operator=(const ActiveRequest&) = delete;

 private:
  std::atomic<std::size_t>& counter_;
};

}  // namespace

Request parse_request(std::string_view raw, const ServerOptions& options) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
  parser.body_limit(options.body_limit);
  parser.eager(true);
  beast::error_code ec;
  std::size_t used = parser.put(asio::buffer(raw.data(), raw.size()), ec);
  if (!ec && !parser.is_done()) {
    parser.put_eof(ec);
    if (!ec && !parser.is_done()) ec = bhttp::error::partial_message;
  }
  (void)used;
  if (ec) {
    if (auto problem = read_error_problem(ec)) throw *problem;
    throw Error(ErrorKind::bad_request, "Incomplete HTTP request");
  }
  return to_request(parser.release(), "127.0.0.1");
}

struct Server::Impl {
  Impl(ServerOptions o, const Pipeline& p)
      : options(std::move(o)), pipeline(p), acceptor(io), workers(options.worker_threads) {}

  ServerOptions options;
  const Pipeline& pipeline;
  asio::io_context io{static_cast<int>(options.io_threads)};
  tcp::acceptor acceptor;
  asio::thread_pool workers;
  std::vector<std::thread> threads;
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> active{0};
  bool stopped = false;
  std::mutex per_address_mutex;
  std::unordered_map<std::string, std::size_t> per_address;  // open connections by peer address

  // Takes one of `address`'s connection slots; false when it holds its limit already.
  bool take_slot(const std::string& address) {
    if (options.max_connections_per_address == 0 || address.empty()) return true;
    if (options.exempt_from_address_limit && options.exempt_from_address_limit(address)) return true;
    std::lock_guard lock(per_address_mutex);
    auto& held = per_address[address];
    if (held >= options.max_connections_per_address) {
      if (held == 0) per_address.erase(address);
      return false;
    }
    ++held;
    return true;
  }
  void release_slot(const std::string& address) {
    std::lock_guard lock(per_address_mutex);
    auto found = per_address.find(address);
    if (found == per_address.end()) return;
    if (--found->second == 0) per_address.erase(found);
  }

  asio::awaitable<void> accept_loop() {
    while (acceptor.is_open()) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(io), kUseTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
        continue;  // e.g. EMFILE: try again
      }
      // Taken before `socket` is moved into a coroutine: a call's arguments have no set order.
      const auto executor = socket.get_executor();
      if (connections.load() >= options.max_connections) {
        asio::co_spawn(
            executor,
            refuse(std::move(socket),
                   Error(ErrorKind::unavailable, "Too many open connections").with_header("Retry-After", "1")),
            asio::detached);
        continue;
      }
      beast::error_code peer_ec;
      const auto peer = socket.remote_endpoint(peer_ec);
      std::string address = peer_ec ? std::string() : peer.address().to_string();
      if (!take_slot(address)) {
        asio::co_spawn(
            executor,
            refuse(std::move(socket), Error(ErrorKind::too_many_requests, "Too many open connections from your address")
                                          .with_header("Retry-After", "1")),
            asio::detached);
        continue;
      }
      ++connections;
      asio::co_spawn(executor, session(beast::tcp_stream(std::move(socket))),
                     [this, address = std::move(address)](std::exception_ptr) {
                       release_slot(address);
                       --connections;
                     });
    }
  }

  // Over a connection limit: one problem (`why`) and close, without reading.
  asio::awaitable<void> refuse(tcp::socket socket, Error why) {
    beast::tcp_stream stream(std::move(socket));
    Request request;
    request.method = "-";
    beast::error_code peer_ec;
    const auto peer = stream.socket().remote_endpoint(peer_ec);
    if (!peer_ec) request.remote_address = peer.address().to_string();
    Response response = pipeline.reject(request, why);
    auto message = to_message(std::move(response), 11, false);
    stream.expires_after(std::chrono::seconds(2));
    co_await bhttp::async_write(stream, message, kUseTuple);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  // True once `stream` has bytes to read (or the peer closed); false after `timeout` or on error.
  static asio::awaitable<bool> wait_readable(beast::tcp_stream& stream, std::chrono::seconds timeout) {
    asio::steady_timer timer(stream.get_executor(), timeout);
    auto waiting = std::make_shared<bool>(true);
    // Same strand as the wait below: the flag keeps a late expiry from cancelling a later read.
    timer.async_wait([&stream, waiting](const beast::error_code& ec) {
      if (!ec && *waiting) stream.socket().cancel();
    });
    auto [ec] = co_await stream.socket().async_wait(tcp::socket::wait_read, kUseTuple);
    *waiting = false;
    timer.cancel();
    co_return !ec;
  }

  asio::awaitable<void> session(beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    beast::error_code remote_ec;
    const auto endpoint = stream.socket().remote_endpoint(remote_ec);
    const std::string remote = remote_ec ? std::string() : endpoint.address().to_string();
    bool first = true;
    while (!draining) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
      parser.body_limit(options.body_limit);
      // Waiting for a request: the idle time between requests (a new connection's first byte
      // gets only the header time). Once a byte is in, the whole header gets the header time.
      // Waits for readability without reading, so the parser still sees (and limits) every byte.
      if (buffer.size() == 0) {
        const bool arrived = co_await wait_readable(stream, first ? options.header_timeout : options.idle_timeout);
        if (!arrived) break;
      }
      first = false;
      stream.expires_after(options.header_timeout);
      auto [header_ec, header_bytes] = co_await bhttp::async_read_header(stream, buffer, parser, kUseTuple);
      // A request counts as in flight from its complete header to its written response, so a
      // drain waits for bodies still arriving too.
      std::optional<ActiveRequest> in_flight;
      if (!header_ec) {
        in_flight.emplace(active);
        if (bhttp::token_list(parser.get()[bhttp::field::expect]).exists("100-continue")) {
          bhttp::response<bhttp::empty_body> proceed{bhttp::status::continue_, parser.get().version()};
          stream.expires_after(options.read_timeout);
          co_await bhttp::async_write(stream, proceed, kUseTuple);
        }
        stream.expires_after(options.read_timeout);
      }
      auto [ec, bytes] = header_ec ? std::tuple{header_ec, std::size_t{0}}
                                   : co_await bhttp::async_read(stream, buffer, parser, kUseTuple);
      if (ec) {
        if (auto problem = read_error_problem(ec)) {
          Request request;
          request.method = "-";
          request.remote_address = remote;
          if (parser.is_header_done() || ec == bhttp::error::body_limit) {  // body_limit: refused at its Content-Length
            // What the header said still counts: the request id to echo, the client behind a
            // proxy, the path (an OAuth client reads `error`, RFC 6749 §5.2).
            const auto& header = parser.get();
            request.method = std::string(header.method_string());
            request.target = std::string(header.target());
            request.path = request.target.substr(0, request.target.find('?'));
            for (const auto& field : header) {
              request.headers.add(std::string(field.name_string()), std::string(field.value()));
            }
            if (request.path == "/oauth/token") {
              problem->with_extension("error", "invalid_request")
                  .with_extension("error_description", problem->detail());
            }
          }
          Response response = pipeline.reject(request, *problem);
          auto message = to_message(std::move(response), 11, false);
          stream.expires_after(std::chrono::seconds(5));
          co_await bhttp::async_write(stream, message, kUseTuple);
        }
        break;
      }
      const unsigned version = parser.get().version();
      bool keep_alive = parser.get().keep_alive();
      Request request = to_request(parser.release(), remote);
      // Run the handler on the worker pool; resume here, on this connection's strand.
      Response response = co_await asio::co_spawn(
          workers.get_executor(), [&]() -> asio::awaitable<Response> { co_return pipeline.handle(request); },
          asio::use_awaitable);
      keep_alive = keep_alive && !draining;
      auto message = to_message(std::move(response), version, keep_alive);
      stream.expires_after(options.read_timeout);
      auto [write_ec, written] = co_await bhttp::async_write(stream, message, kUseTuple);
      if (write_ec || !keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
};

Server::Server(ServerOptions options, const Pipeline& pipeline)
    : impl_(std::make_unique<Impl>(std::move(options), pipeline)) {}

Server::~Server() {
  stop();
}

std::uint16_t Server::start() {
  auto& s = *impl_;
  beast::error_code ec;
  const auto address = asio::ip::make_address(s.options.host, ec);
  if (ec) throw std::runtime_error("cannot listen on '" + s.options.host + "': not an IP address");
  const tcp::endpoint endpoint{address, s.options.port};
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + s.options.host + ":" + std::to_string(s.options.port) + ": " +
                             ec.message());
  }
  const auto port = s.acceptor.local_endpoint().port();
  asio::co_spawn(s.io, s.accept_loop(), [](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log::error("the accept loop stopped", {{"error", e.what()}});
    }
  });
  for (unsigned i = 0; i < s.options.io_threads; ++i) s.threads.emplace_back([&s] { s.io.run(); });
  return port;
}

void Server::begin_drain() {
  auto& s = *impl_;
  s.draining = true;
  asio::post(s.io, [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
  });
}

std::size_t Server::active_requests() const {
  return impl_->active.load();
}

bool Server::wait_idle(std::chrono::steady_clock::time_point deadline) const {
  while (impl_->active.load() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

void Server::stop() {
  auto& s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  s.draining = true;
  s.io.stop();
  for (auto& thread : s.threads) {
    if (thread.joinable()) thread.join();
  }
  s.workers.join();
}

}  // namespace deliveryhub::core::http
