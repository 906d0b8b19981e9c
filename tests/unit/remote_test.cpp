// The remote-call resilience parts (core/remote): breaker, retry budget, jitter, and the HTTP
// channel against a real core::http::Server on 127.0.0.1.
#include "core/errors.hpp"
#include "core/http/pipeline.hpp"
#include "core/http/problem.hpp"
#include "core/http/router.hpp"
#include "core/http/server.hpp"
#include "core/log/log.hpp"
#include "core/metrics/metrics.hpp"
#include "core/remote/circuit_breaker.hpp"
#include "core/remote/http_channel.hpp"
#include "core/remote/retry_policy.hpp"
#include "core/util/deadline.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <optional>
#include <set>
#include <thread>

using namespace deliveryhub::core;
using remote::CircuitBreaker;
using namespace std::chrono_literals;

TEST_CASE("the breaker opens at the failure ratio, rejects, probes half-open, and closes or re-opens") {
  remote::BreakerOptions options;
  options.window = 10;
  options.minimum_calls = 4;
  options.failure_ratio = 0.5;
  options.open_for = 1000ms;
  options.half_open_probes = 2;
  CircuitBreaker breaker(options);
  const auto t0 = CircuitBreaker::Clock::now();

  // Below the minimum number of calls, even all failures keep it closed.
  for (int i = 0; i < 3; ++i) {
    REQUIRE(breaker.allow(t0));
    breaker.record(false, t0);
  }
  CHECK(breaker.state(t0) == CircuitBreaker::State::closed);
  REQUIRE(breaker.allow(t0));
  breaker.record(true, t0);  // 3 failures of 4: 75 % ≥ 50 %
  CHECK(breaker.state(t0) == CircuitBreaker::State::open);
  CHECK_FALSE(breaker.allow(t0 + 500ms));
  CHECK(breaker.retry_after(t0 + 400ms) == 600ms);

  // Half-open: exactly two probes go; one failure re-opens.
  CHECK(breaker.allow(t0 + 1000ms));
  CHECK(breaker.state(t0 + 1000ms) == CircuitBreaker::State::half_open);
  CHECK(breaker.allow(t0 + 1000ms));
  CHECK_FALSE(breaker.allow(t0 + 1000ms));
  breaker.record(false, t0 + 1001ms);
  CHECK(breaker.state(t0 + 1001ms) == CircuitBreaker::State::open);

  // Half-open again: two successes close it, with a clean window.
  const auto t1 = t0 + 2001ms;
  REQUIRE(breaker.allow(t1));
  REQUIRE(breaker.allow(t1));
  breaker.record(true, t1);
  CHECK(breaker.state(t1) == CircuitBreaker::State::half_open);
  breaker.record(true, t1);
  CHECK(breaker.state(t1) == CircuitBreaker::State::closed);
  for (int i = 0; i < 3; ++i) breaker.record(false, t1);
  CHECK(breaker.state(t1) == CircuitBreaker::State::closed);  // 3 in a fresh window: below the minimum
}

TEST_CASE("a healthy mix keeps the breaker closed over a sliding window") {
  remote::BreakerOptions options;
  options.window = 10;
  options.minimum_calls = 10;
  options.failure_ratio = 0.5;
  CircuitBreaker breaker(options);
  const auto t0 = CircuitBreaker::Clock::now();
  for (int i = 0; i < 100; ++i) breaker.record(i % 3 != 0, t0);  // one failure in three
  CHECK(breaker.state(t0) == CircuitBreaker::State::closed);
}

TEST_CASE("the retry budget allows a share of the calls plus a trickle per second") {
  remote::RetryOptions options;
  options.budget_ratio = 0.2;
  options.budget_minimum_per_second = 0.0;
  const auto t0 = remote::RetryBudget::Clock::now();
  remote::RetryBudget budget(options, t0);
  CHECK_FALSE(budget.try_retry(t0));
  for (int i = 0; i < 10; ++i) budget.on_call(t0);
  CHECK(budget.try_retry(t0));
  CHECK(budget.try_retry(t0));
  CHECK_FALSE(budget.try_retry(t0));  // 10 calls × 0.2 = 2 retries

  options.budget_minimum_per_second = 2.0;
  remote::RetryBudget trickle(options, t0);
  for (int i = 0; i < 2; ++i) CHECK(trickle.try_retry(t0));  // starts with one second's worth
  CHECK_FALSE(trickle.try_retry(t0));
  CHECK(trickle.try_retry(t0 + 500ms));  // half a second later: one more
  CHECK_FALSE(trickle.try_retry(t0 + 500ms));
}

TEST_CASE("full jitter stays between zero and the capped exponential ceiling") {
  remote::RetryOptions options;
  options.base = 50ms;
  options.cap = 300ms;
  std::mt19937_64 random(42);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    const auto first = remote::full_jitter(options, 1, random);
    CHECK(first >= 0ms);
    CHECK(first <= 50ms);
    const auto third = remote::full_jitter(options, 3, random);
    CHECK(third <= 200ms);
    const auto tenth = remote::full_jitter(options, 10, random);
    CHECK(tenth <= 300ms);
    seen.insert(third.count());
  }
  CHECK(seen.size() > 20);  // spread, not one value
}

TEST_CASE("a problem answer becomes the same core::Error as if the call had been local") {
  const auto original =
      Error(ErrorKind::unprocessable, "A refund of 900 would exceed the 500 still refundable", {{"amount", "too high"}})
          .with_extension("refundable_amount", 500);
  const auto response = http::problem_response(original, "req_1");
  const auto back = http::error_from_problem(response.status, nlohmann::json::parse(response.body));
  CHECK(back.kind() == ErrorKind::unprocessable);
  CHECK(back.detail() == original.detail());
  REQUIRE(back.errors().size() == 1);
  CHECK(back.errors()[0].field == "amount");
  CHECK(back.extensions().at("refundable_amount") == 500);
  CHECK_FALSE(back.extensions().contains("request_id"));
  CHECK(http::error_from_problem(409, nlohmann::json("not a problem")).kind() == ErrorKind::conflict);
  CHECK(http::error_from_problem(400, {{"type", "urn:deliveryhub:problem:validation-error"}}).kind() ==
        ErrorKind::validation);
}

namespace {

// A real server on 127.0.0.1 with scripted routes, counting what reaches it.
struct ScriptedRemote {
  metrics::Metrics metrics;
  metrics::HttpMetrics http_metrics{metrics};
  http::Router router;
  std::unique_ptr<http::Pipeline> pipeline;
  std::unique_ptr<http::Server> server;
  std::atomic<int> flaky_hits{0}, create_hits{0}, slow_hits{0}, echo_hits{0};
  std::atomic<int> fail_first{2};
  std::string last_traceparent, last_deadline, last_authorization, last_caller;
  std::optional<std::chrono::milliseconds> handler_deadline_left;  // as the handler saw it
  std::mutex seen_mutex;
  std::uint16_t port = 0;

  ScriptedRemote() {
    router.add("GET", "/flaky", [this](const http::Request&) {
      if (++flaky_hits <= fail_first) return http::Response::json(503, {{"detail", "busy"}});
      return http::Response::json(200, {{"ok", true}});
    });
    router.add("POST", "/create", [this](const http::Request&) {
      ++create_hits;
      return http::Response::json(503, {{"detail", "busy"}});
    });
    router.add("GET", "/slow", [this](const http::Request&) {
      ++slow_hits;
      std::this_thread::sleep_for(400ms);
      return http::Response::json(200, {{"late", true}});
    });
    router.add("GET", "/conflict", [](const http::Request&) -> http::Response {
      throw Error(ErrorKind::conflict, "The payment is captured").with_extension("current_status", "captured");
    });
    router.add("POST", "/echo", [this](const http::Request& request) {
      ++echo_hits;
      std::lock_guard lock(seen_mutex);
      last_traceparent = std::string(request.header("traceparent"));
      last_deadline = std::string(request.header("X-Deliveryhub-Deadline-Ms"));
      last_authorization = std::string(request.header("Authorization"));
      last_caller = std::string(request.header("X-Deliveryhub-Caller"));
      handler_deadline_left.reset();
      if (auto deadline = ScopedDeadline::current()) {
        handler_deadline_left =
            std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
      }
      return http::Response::json(200, nlohmann::json::parse(request.body));
    });
    // Believes the deadline of the one service token the tests' channels send.
    pipeline = std::make_unique<http::Pipeline>(
        router, http_metrics, http::Pipeline::Around{}, http::TrustedProxies{},
        [](const http::Request& request) { return request.header("Authorization") == "Bearer service-token"; });
    http::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    server = std::make_unique<http::Server>(options, *pipeline);
    port = server->start();
  }
  ~ScriptedRemote() { server->stop(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

remote::ChannelOptions fast_options() {
  remote::ChannelOptions options;
  options.timeout = 1000ms;
  options.retry.max_attempts = 3;
  options.retry.base = 5ms;
  options.retry.cap = 20ms;
  options.breaker.window = 10;
  options.breaker.minimum_calls = 4;
  options.breaker.open_for = 60s;
  return options;
}

ErrorKind kind_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.kind();
  }
  FAIL("no core::Error");
  return ErrorKind::internal;
}

}  // namespace

TEST_CASE("idempotent calls are retried through 5xx; others are not") {
  ScriptedRemote remote;
  metrics::Metrics metrics;
  remote::HttpChannel channel("scripted", remote.url(), fast_options(), metrics, [] { return "tok"; });
  channel.fail_fast_if_open();  // closed: no error
  CHECK(channel.call({"GET", "/flaky", std::nullopt, true}).at("ok") == true);
  CHECK(remote.flaky_hits == 3);  // two 503s, then the answer

  CHECK(kind_of([&] { channel.call({"POST", "/create", nlohmann::json::object(), false}); }) == ErrorKind::unavailable);
  CHECK(remote.create_hits == 1);  // not idempotent: one attempt only
  CHECK(metrics.serialize().find("deliveryhub_remote_retries_total{remote=\"scripted\"} 2") != std::string::npos);
}

TEST_CASE("a remote problem is rethrown with its kind; it does not count against the breaker") {
  ScriptedRemote remote;
  metrics::Metrics metrics;
  remote::HttpChannel channel("scripted", remote.url(), fast_options(), metrics, [] { return ""; });
  for (int i = 0; i < 10; ++i) {
    try {
      channel.call({"GET", "/conflict", std::nullopt, true});
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::conflict);
      CHECK(e.extensions().at("current_status") == "captured");
    }
  }
  CHECK(channel.breaker_state() == CircuitBreaker::State::closed);
}

TEST_CASE("failures open the breaker: then calls fail fast with 503 and Retry-After, reaching nothing") {
  ScriptedRemote remote;
  remote.fail_first = 1000;
  metrics::Metrics metrics;
  auto options = fast_options();
  options.retry.max_attempts = 1;
  remote::HttpChannel channel("scripted", remote.url(), options, metrics, [] { return ""; });
  for (int i = 0; i < 4; ++i) {
    CHECK(kind_of([&] { channel.call({"GET", "/flaky", std::nullopt, true}); }) == ErrorKind::unavailable);
  }
  CHECK(channel.breaker_state() == CircuitBreaker::State::open);
  const int hits = remote.flaky_hits;
  try {
    channel.call({"GET", "/flaky", std::nullopt, true});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::unavailable);
    REQUIRE(e.headers().size() == 1);
    CHECK(e.headers()[0].first == "Retry-After");
    CHECK(std::stoi(e.headers()[0].second) >= 59);
  }
  CHECK(remote.flaky_hits == hits);
  CHECK(kind_of([&] { channel.fail_fast_if_open(); }) == ErrorKind::unavailable);  // callers can shed work
  CHECK(metrics.serialize().find("deliveryhub_remote_breaker_state{remote=\"scripted\"} 2") != std::string::npos);
}

TEST_CASE("an unreachable remote is a 503, quickly, and counts as a failure") {
  metrics::Metrics metrics;
  auto options = fast_options();
  options.retry.max_attempts = 2;
  remote::HttpChannel channel("nowhere", "http://127.0.0.1:1", options, metrics, [] { return ""; });
  const auto started = std::chrono::steady_clock::now();
  CHECK(kind_of([&] { channel.call({"GET", "/x", std::nullopt, true}); }) == ErrorKind::unavailable);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
}

TEST_CASE("each attempt is bounded by the timeout, and by the caller's deadline") {
  ScriptedRemote remote;
  metrics::Metrics metrics;
  auto options = fast_options();
  options.timeout = 150ms;
  options.retry.max_attempts = 1;
  remote::HttpChannel channel("scripted", remote.url(), options, metrics, [] { return ""; });
  const auto started = std::chrono::steady_clock::now();
  CHECK(kind_of([&] { channel.call({"GET", "/slow", std::nullopt, true}); }) == ErrorKind::unavailable);
  CHECK(std::chrono::steady_clock::now() - started < 390ms);

  // A caller whose deadline has passed makes no call at all.
  const int before = remote.echo_hits;
  {
    ScopedDeadline deadline(std::chrono::steady_clock::now() - 1ms);
    CHECK(kind_of([&] { channel.call({"POST", "/echo", nlohmann::json::object(), false}); }) == ErrorKind::unavailable);
  }
  CHECK(remote.echo_hits == before);
}

TEST_CASE("calls carry the token, the trace context, the caller and the remaining deadline") {
  ScriptedRemote remote;
  metrics::Metrics metrics;
  remote::HttpChannel channel("scripted", remote.url(), fast_options(), metrics, [] { return "service-token"; });
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  log::ScopedContext context({"req_1", trace, {}});
  log::set_caller("cus_01J0000000000000000000000");
  ScopedDeadline deadline(std::chrono::steady_clock::now() + 5s);
  for (int i = 0; i < 20; ++i) {
    CHECK(channel.call({"POST", "/echo", nlohmann::json{{"n", i}}, false}).at("n") == i);
  }
  std::lock_guard lock(remote.seen_mutex);
  CHECK(remote.last_authorization == "Bearer service-token");
  CHECK(remote.last_traceparent.substr(0, 36) == "00-" + trace + "-");
  CHECK(log::trace_id_of(remote.last_traceparent) == trace);
  CHECK(remote.last_caller == "cus_01J0000000000000000000000");
  const auto left = std::stoi(remote.last_deadline);
  CHECK(left > 3000);
  CHECK(left <= 5000);
  // The remote's pipeline runs its handler under what was left of the deadline.
  REQUIRE(remote.handler_deadline_left);
  CHECK(remote.handler_deadline_left->count() > 2000);
  CHECK(remote.handler_deadline_left->count() <= left);
}

TEST_CASE("a caller that is not plain text is recorded as -") {
  log::ScopedContext context({"req_2", "", {}});
  log::set_caller("auth0|user-1@example.com");
  CHECK(log::current().caller == "auth0|user-1@example.com");
  log::set_caller("evil\"},\"admin\":true");
  CHECK(log::current().caller == "-");
  log::set_caller(std::string(200, 'a'));
  CHECK(log::current().caller == "-");
}
