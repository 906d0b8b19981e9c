#include "core/http/router.hpp"

#include <catch2/catch.hpp>

using namespace deliveryhub::core::http;

namespace {
Handler named(std::string name) {
  return [name](const Request&) { return Response::text(200, name, "text/plain"); };
}
}  // namespace

TEST_CASE("router matches literal and parameter segments") {
  Router router;
  router.add("GET", "/api/v1/customers/{id}", named("get"));
  router.add("PATCH", "/api/v1/customers/{id}", named("patch"));
  router.add("GET", "/api/v1/customers/{id}/addresses/{address_id}", named("address"));

  auto match = router.match("GET", "/api/v1/customers/cus_1");
  REQUIRE(match.outcome == Router::Match::Outcome::found);
  CHECK(match.pattern == "/api/v1/customers/{id}");
  REQUIRE(match.params.size() == 1);
  CHECK(match.params[0] == std::pair<std::string, std::string>{"id", "cus_1"});
  CHECK((*match.handler)(Request{}).body == "get");

  auto nested = router.match("GET", "/api/v1/customers/cus_1/addresses/adr_2");
  REQUIRE(nested.outcome == Router::Match::Outcome::found);
  CHECK(nested.params[1].second == "adr_2");
}

TEST_CASE("router answers 404 and 405 with Allow") {
  Router router;
  router.add("GET", "/api/v1/customers/{id}", named("get"));
  router.add("PATCH", "/api/v1/customers/{id}", named("patch"));
  CHECK(router.match("GET", "/api/v1/nothing").outcome == Router::Match::Outcome::not_found);
  CHECK(router.match("GET", "/api/v1/customers/").outcome == Router::Match::Outcome::not_found);
  CHECK(router.match("GET", "/api/v1/customers/a/b").outcome == Router::Match::Outcome::not_found);
  auto wrong = router.match("DELETE", "/api/v1/customers/cus_1");
  CHECK(wrong.outcome == Router::Match::Outcome::method_not_allowed);
  CHECK(wrong.allow == "GET, PATCH");
}

TEST_CASE("literal segments win over parameters") {
  Router router;
  router.add("GET", "/api/v1/couriers/{id}", named("by-id"));
  router.add("GET", "/api/v1/couriers/me", named("me"));
  auto match = router.match("GET", "/api/v1/couriers/me");
  REQUIRE(match.outcome == Router::Match::Outcome::found);
  CHECK((*match.handler)(Request{}).body == "me");
}

TEST_CASE("router refuses duplicate and malformed routes") {
  Router router;
  router.add("GET", "/a", named("a"));
  CHECK_THROWS_AS(router.add("GET", "/a", named("b")), std::invalid_argument);
  CHECK_THROWS_AS(router.add("GET", "a", named("c")), std::invalid_argument);
}

TEST_CASE("form and query decoding") {
  auto form = parse_form("grant_type=password&username=a%40b.c&password=p+q%2B");
  REQUIRE(form);
  REQUIRE(form->size() == 3);
  CHECK((*form)[1].second == "a@b.c");
  CHECK((*form)[2].second == "p q+");
  CHECK_FALSE(parse_form("a=%4"));
  CHECK_FALSE(parse_form("a=%zz"));
  Request request;
  request.query = "email=X%40Y.com&limit=5";
  CHECK(request.query_param("email") == std::optional<std::string>("X@Y.com"));
  CHECK_FALSE(request.query_param("cursor"));
}
