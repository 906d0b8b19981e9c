#include "core/http/problem.hpp"

#include "core/http/json_body.hpp"

#include <catch2/catch.hpp>

using namespace deliveryhub::core;
using namespace deliveryhub::core::http;

TEST_CASE("problem responses follow RFC 9457") {
  Error error(ErrorKind::validation, "1 field is invalid", {{"email", "must be an email address"}});
  error.with_header("X-Extra", "1");
  auto response = problem_response(error, "req_1");
  CHECK(response.status == 400);
  CHECK(response.headers.find("Content-Type") == std::optional<std::string_view>("application/problem+json"));
  CHECK(response.headers.find("X-Extra") == std::optional<std::string_view>("1"));
  auto body = nlohmann::json::parse(response.body);
  CHECK(body["type"] == "urn:deliveryhub:problem:validation-error");
  CHECK(body["status"] == 400);
  CHECK(body["request_id"] == "req_1");
  CHECK(body["errors"][0]["field"] == "email");
}

TEST_CASE("every error kind maps to its status") {
  CHECK(status_of(ErrorKind::bad_request) == 400);
  CHECK(status_of(ErrorKind::unauthorized) == 401);
  CHECK(status_of(ErrorKind::forbidden) == 403);
  CHECK(status_of(ErrorKind::not_found) == 404);
  CHECK(status_of(ErrorKind::method_not_allowed) == 405);
  CHECK(status_of(ErrorKind::conflict) == 409);
  CHECK(status_of(ErrorKind::precondition_failed) == 412);
  CHECK(status_of(ErrorKind::payload_too_large) == 413);
  CHECK(status_of(ErrorKind::unsupported_media_type) == 415);
  CHECK(status_of(ErrorKind::unprocessable) == 422);
  CHECK(status_of(ErrorKind::too_many_requests) == 429);
  CHECK(status_of(ErrorKind::header_fields_too_large) == 431);
  CHECK(status_of(ErrorKind::internal) == 500);
  CHECK(status_of(ErrorKind::unavailable) == 503);
}

TEST_CASE("a 500 never leaks the internal detail") {
  auto response = problem_response(Error(ErrorKind::internal, "SQLite: disk I/O error at /secret/path"), "r");
  CHECK(response.body.find("/secret/path") == std::string::npos);
}

TEST_CASE("JSON bodies: media type, syntax, object") {
  Request request;
  request.body = R"({"a":1})";
  CHECK_THROWS_AS(parse_json_object(request), Error);  // no content type
  request.headers.add("Content-Type", "application/json; charset=utf-8");
  CHECK(parse_json_object(request)["a"] == 1);
  request.body = "[1]";
  try {
    parse_json_object(request);
    FAIL("array accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::bad_request);
  }
  request.body = "{";
  CHECK_THROWS_AS(parse_json_object(request), Error);
}

TEST_CASE("field reader collects every violation, unknown fields included") {
  auto body = nlohmann::json::parse(R"({"name": 5, "role": "operator", "email": "", "count": 1.5})");
  FieldReader reader(body, {"name", "email", "password", "count"});
  CHECK_FALSE(reader.required_string("name", 1, 10));
  CHECK_FALSE(reader.required_string("email", 1, 10));
  CHECK_FALSE(reader.required_string("password", 1, 10));
  CHECK_FALSE(reader.required_integer("count", 0, 10));
  REQUIRE(reader.errors().size() == 5);
  CHECK(reader.errors()[0].field == "role");
  CHECK(reader.errors()[0].message == "unknown field");
  CHECK_THROWS_AS(reader.throw_if_failed(), Error);
}

TEST_CASE("utf8 length counts code points and rejects invalid UTF-8") {
  CHECK(utf8_length("abc") == std::optional<std::size_t>(3));
  CHECK(utf8_length("\xc3\xa9t\xc3\xa9") == std::optional<std::size_t>(3));
  CHECK_FALSE(utf8_length("\xc3"));
  CHECK_FALSE(utf8_length("\xff"));
}
