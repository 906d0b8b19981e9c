#include "console_routes.hpp"

#include "core/errors.hpp"
#include "core/http/message.hpp"

#include <string>

namespace deliveryhub::app {
namespace {

using core::http::Request;
using core::http::Response;

std::string_view media_type_of(std::string_view path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

Response serve(const ConsoleFile& file, const Request& request) {
  const std::string etag = "\"" + std::string(file.sha256.substr(0, 32)) + "\"";
  Response response;
  if (request.header("If-None-Match") == etag) {
    response.status = 304;
  } else {
    response = Response::text(200, std::string(file.bytes), std::string(media_type_of(file.path)));
  }
  response.headers.add("ETag", etag);
  // Revalidated every time (a new binary may bring new files under the same names); the ETag
  // makes that a 304 without a body.
  response.headers.add("Cache-Control", "no-cache");
  response.headers.add("Content-Security-Policy", std::string(kConsoleContentSecurityPolicy));
  response.headers.add("X-Content-Type-Options", "nosniff");
  response.headers.add("Referrer-Policy", "no-referrer");
  response.headers.add("X-Frame-Options", "DENY");
  return response;
}

const ConsoleFile& find(const std::vector<ConsoleFile>& files, std::string_view path) {
  for (const auto& file : files) {
    if (file.path == path) return file;
  }
  throw core::Error(core::ErrorKind::not_found, "The console has no file " + std::string(path));
}

}  // namespace

void add_console_routes(core::http::Router& router, const std::vector<ConsoleFile>& files) {
  router.add("GET", "/app", [](const Request&) {
    Response response = Response::text(308, "", "text/html; charset=utf-8");
    response.headers.add("Location", "/app/");
    return response;
  });
  router.add("GET", "/app/", [&files](const Request& request) { return serve(find(files, "index.html"), request); });
  router.add("GET", "/app/{file}",
             [&files](const Request& request) { return serve(find(files, request.param("file")), request); });
  router.add("GET", "/app/{folder}/{file}", [&files](const Request& request) {
    return serve(find(files, std::string(request.param("folder")) + "/" + std::string(request.param("file"))), request);
  });
}

}  // namespace deliveryhub::app
