#include "core/http/fetch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <stdexcept>

namespace deliveryhub::core::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

struct Target {
  bool tls = false;
  std::string host;
  std::string port;
  std::string path;
};

Target parse_target(const std::string& url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) throw std::runtime_error("'" + url + "' is not an absolute URL");
  Target target;
  const auto scheme = parsed->scheme();
  if (scheme != "http" && scheme != "https") throw std::runtime_error("'" + url + "' is not http:// or https://");
  target.tls = scheme == "https";
  target.host = parsed->host_address();
  if (target.host.empty()) throw std::runtime_error("'" + url + "' has no host");
  target.port = parsed->has_port() ? std::string(parsed->port()) : (target.tls ? "443" : "80");
  target.path = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
  if (parsed->has_query()) target.path += "?" + std::string(parsed->encoded_query());
  return target;
}

// What to send: a GET, or a POST of a form.
struct Outgoing {
  std::string form;           // empty: GET
  std::string authorization;  // empty: none
};

template <class Stream>
asio::awaitable<FetchResult> exchange(Stream& stream, const Target& target, const Outgoing& outgoing) {
  bhttp::request<bhttp::string_body> request{outgoing.form.empty() ? bhttp::verb::get : bhttp::verb::post, target.path,
                                             11};
  request.set(bhttp::field::host, target.host);
  request.set(bhttp::field::user_agent, "deliveryhub");
  request.set(bhttp::field::accept, "application/json");
  if (!outgoing.authorization.empty()) request.set(bhttp::field::authorization, outgoing.authorization);
  if (!outgoing.form.empty()) {
    request.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
    request.body() = outgoing.form;
  }
  request.prepare_payload();
  co_await bhttp::async_write(stream, request, asio::use_awaitable);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1024 * 1024);
  co_await bhttp::async_read(stream, buffer, parser, asio::use_awaitable);
  co_return FetchResult{static_cast<int>(parser.get().result_int()), std::move(parser.get().body())};
}

asio::awaitable<FetchResult> run(asio::io_context& io, const Target& target, const Outgoing& outgoing,
                                 std::chrono::milliseconds timeout) {
  asio::ip::tcp::resolver resolver(io);
  auto endpoints = co_await resolver.async_resolve(target.host, target.port, asio::use_awaitable);
  if (!target.tls) {
    beast::tcp_stream stream(io);
    stream.expires_after(timeout);
    co_await stream.async_connect(endpoints, asio::use_awaitable);
    co_return co_await exchange(stream, target, outgoing);
  }
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.set_default_verify_paths();
  context.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(io, context);
  // SNI; OpenSSL's SSL_set_tlsext_host_name macro is this call with an old-style cast.
  if (!SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                const_cast<char*>(target.host.c_str()))) {
    throw std::runtime_error("cannot set the TLS server name");
  }
  stream.set_verify_callback(asio::ssl::host_name_verification(target.host));
  beast::get_lowest_layer(stream).expires_after(timeout);
  co_await beast::get_lowest_layer(stream).async_connect(endpoints, asio::use_awaitable);
  co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
  co_return co_await exchange(stream, target, outgoing);
}

FetchResult send(const std::string& url, const Outgoing& outgoing, std::chrono::milliseconds timeout) {
  const Target target = parse_target(url);
  asio::io_context io;
  std::optional<FetchResult> result;
  std::exception_ptr failure;
  asio::co_spawn(io, run(io, target, outgoing, timeout), [&](std::exception_ptr error, FetchResult value) {
    failure = error;
    if (!error) result = std::move(value);
  });
  // The stream's own timer bounds connect/read/write; this bounds name resolution too.
  io.run_for(timeout + std::chrono::milliseconds(100));
  const std::string what = (outgoing.form.empty() ? "GET " : "POST ") + url;
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      throw std::runtime_error(what + " failed: " + e.what());
    }
  }
  if (!result) throw std::runtime_error(what + " timed out");
  return std::move(*result);
}

}  // namespace

FetchResult fetch(const std::string& url, std::chrono::milliseconds timeout) {
  return send(url, {}, timeout);
}

FetchResult post_form(const std::string& url, const std::string& form, const std::string& authorization,
                      std::chrono::milliseconds timeout) {
  return send(url, {form, authorization}, timeout);
}

}  // namespace deliveryhub::core::http
