#include "core/config/settings.hpp"
#include "core/errors.hpp"
#include "core/http/message.hpp"
#include "core/log/log.hpp"
#include "core/util/clock.hpp"
#include "core/util/ids.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <sstream>
#include <thread>

using namespace deliveryhub::core;

namespace {
config::ParseOutcome parse(std::vector<const char*> args, std::string* err_text = nullptr) {
  args.insert(args.begin(), "deliveryhub");
  std::ostringstream out, err;
  auto outcome = config::parse_command_line(static_cast<int>(args.size()), args.data(), out, err);
  if (err_text) *err_text = err.str();
  return outcome;
}
}  // namespace

TEST_CASE("defaults are the embedded single process") {
  auto outcome = parse({"serve"});
  REQUIRE(outcome.settings);
  CHECK(outcome.settings->command == "serve");
  CHECK(outcome.settings->host == "127.0.0.1");
  CHECK(outcome.settings->port == 8080);
  CHECK(outcome.settings->database == "sqlite:./data/deliveryhub.db");
  CHECK(outcome.settings->modules == std::vector<std::string>{"all"});
}

TEST_CASE("flags parse, lists split, migrate is a command") {
  auto outcome = parse({"migrate", "--modules", "customers,orders", "--listen", "0.0.0.0:0", "--remote",
                        "payments=http://p:8080", "--shutdown-grace", "3"});
  REQUIRE(outcome.settings);
  CHECK(outcome.settings->command == "migrate");
  CHECK(outcome.settings->modules == std::vector<std::string>{"customers", "orders"});
  CHECK(outcome.settings->port == 0);
  CHECK(outcome.settings->remotes.size() == 1);
  CHECK(outcome.settings->shutdown_grace == std::chrono::seconds(3));
}

TEST_CASE("backup and restore are commands that need their file, also in production") {
  auto backup = parse({"backup", "--to", "b.sqlite", "--database", "sqlite:d.db", "--env", "production"});
  REQUIRE(backup.settings);
  CHECK(backup.settings->command == "backup");
  CHECK(backup.settings->backup_to == "b.sqlite");
  auto restore = parse({"restore", "--from", "b.sqlite"});
  REQUIRE(restore.settings);
  CHECK(restore.settings->command == "restore");
  CHECK(restore.settings->restore_from == "b.sqlite");
  std::string err;
  CHECK(parse({"backup"}, &err).exit_code == 2);
  CHECK_THAT(err, Catch::Contains("--to"));
  CHECK(parse({"restore"}, &err).exit_code == 2);
  CHECK_THAT(err, Catch::Contains("--from"));
  // serve in production still needs its separate metrics address
  CHECK(parse({"serve", "--env", "production"}, &err).exit_code == 2);
}

TEST_CASE("event retentions take a unit (seconds without one) and default to 7 and 14 days") {
  auto defaults = parse({"serve"});
  REQUIRE(defaults.settings);
  CHECK(defaults.settings->outbox_retention == std::chrono::hours(7 * 24));
  CHECK(defaults.settings->inbox_retention == std::chrono::hours(14 * 24));
  auto set = parse({"serve", "--outbox-retention", "90", "--inbox-retention", "2h"});
  REQUIRE(set.settings);
  CHECK(set.settings->outbox_retention == std::chrono::seconds(90));
  CHECK(set.settings->inbox_retention == std::chrono::hours(2));
  auto days = parse({"serve", "--outbox-retention", "3d", "--inbox-retention", "30m"});
  CHECK_FALSE(days.settings);  // 30 minutes is under the inbox's one-hour floor
}

TEST_CASE("invalid settings exit 2 with one line") {
  for (auto args : std::vector<std::vector<const char*>>{{"serve", "--listen", "nope"},
                                                         {"serve", "--listen", "127.0.0.1:70000"},
                                                         {"serve", "--log-level", "loud"},
                                                         {"serve", "--worker-threads", "0"},
                                                         {"serve", "--remote", "=x"},
                                                         {"serve", "--no-such-flag"},
                                                         {"serve", "--outbox-retention", "59s"},
                                                         {"serve", "--inbox-retention", "59m"},
                                                         {"serve", "--inbox-retention", "2w"}}) {
    std::string err;
    auto outcome = parse(args, &err);
    CHECK_FALSE(outcome.settings);
    CHECK(outcome.exit_code == 2);
    CHECK(err.rfind("deliveryhub: invalid setting:", 0) == 0);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  }
}

TEST_CASE("environment twins set flags") {
  setenv("DELIVERYHUB_LISTEN", "127.0.0.1:9999", 1);
  auto outcome = parse({"serve"});
  unsetenv("DELIVERYHUB_LISTEN");
  REQUIRE(outcome.settings);
  CHECK(outcome.settings->port == 9999);
}

TEST_CASE("--help and --version exit 0") {
  CHECK(parse({"--help"}).exit_code == 0);
  CHECK_FALSE(parse({"--version"}).settings);
  CHECK(parse({"--version"}).exit_code == 0);
}

TEST_CASE("ids are prefixed, valid, unique and increasing") {
  std::set<std::string> seen;
  std::string previous;
  for (int i = 0; i < 5000; ++i) {
    auto id = new_id("ord");
    REQUIRE(is_id(id, "ord"));
    REQUIRE(id > previous);
    previous = id;
    seen.insert(id);
  }
  CHECK(seen.size() == 5000);
  CHECK_FALSE(is_id("ord_123", "ord"));
  CHECK_FALSE(is_id(new_id("cus"), "ord"));
  CHECK_FALSE(is_id("ord_01M8BB4HN1C7WFQKD8HRN8X7JU", "ord"));  // U is not Crockford base32
}

TEST_CASE("ids made on many threads at once are all distinct, and increasing within each thread") {
  constexpr int kThreads = 8;
  constexpr int kEach = 4000;
  std::vector<std::vector<std::string>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kEach; ++i) made[static_cast<std::size_t>(t)].push_back(new_id("req"));
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> all;
  for (const auto& ids : made) {
    CHECK(std::is_sorted(ids.begin(), ids.end()));
    CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
    all.insert(ids.begin(), ids.end());
  }
  CHECK(all.size() == static_cast<std::size_t>(kThreads * kEach));
}

TEST_CASE("RFC 3339 formatting round-trips") {
  auto t = from_unix_ms(1795677112123);
  CHECK(format_rfc3339(t) == "2026-11-26T07:11:52.123Z");
  CHECK(parse_rfc3339("2026-11-26T07:11:52.123Z") == t);
  CHECK_FALSE(parse_rfc3339("2026-11-26 07:11:52"));
  CHECK_FALSE(parse_rfc3339("2026-11-26T07:11:52.123+01:00"));
  // Years a TimePoint (nanoseconds) cannot hold are refused, not overflowed (found by fuzz_event).
  CHECK(parse_rfc3339("2262-01-01T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2620-11-26T07:11:52.123Z"));
  CHECK_FALSE(parse_rfc3339("9999-12-31T23:59:59Z"));
  CHECK(parse_rfc3339("1700-01-01T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339("1600-01-01T00:00:00Z"));
}

TEST_CASE("traceparent validation") {
  CHECK(log::trace_id_of("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") ==
        "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(log::trace_id_of("00-00000000000000000000000000000000-00f067aa0ba902b7-01").empty());
  CHECK(log::trace_id_of("garbage").empty());
  CHECK(log::trace_id_of("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").empty());
}

TEST_CASE("RFC 3339 parsing is strict") {
  CHECK(parse_rfc3339("2026-11-26T07:11:52Z") == from_unix_ms(1795677112000));
  for (const char* bad : {"2026-1-2T3:4:5Z", "2026-13-01T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-26T24:00:00Z",
                          "2026-11-26T07:11:52.12Z", "2026-11-26T07:11:52.123", " 2026-11-26T07:11:52Z",
                          "2026-11-26T07:11:+2Z", "2026-11-26t07:11:52Z"}) {
    CHECK_FALSE(parse_rfc3339(bad));
  }
}

TEST_CASE("a malformed %-escape in the query is a 400, not a silently missing parameter") {
  http::Request request;
  request.query = "email=x%40y.com&junk=%zz";
  CHECK_THROWS_AS(request.query_param("email"), Error);
}

TEST_CASE("--bus takes inproc or an amqp:// URL, and a namespace of safe characters") {
  std::string err;
  auto amqp = parse({"serve", "--bus", "amqp://guest:guest@127.0.0.1:5672", "--bus-namespace", "staging-1"}, &err);
  REQUIRE(amqp.settings);
  CHECK(amqp.settings->bus == "amqp://guest:guest@127.0.0.1:5672");
  CHECK(amqp.settings->bus_namespace == "staging-1");
  CHECK(amqp.settings->bus_max_attempts == 5);
  for (const auto& bad : std::vector<std::vector<const char*>>{{"serve", "--bus", "kafka://127.0.0.1"},
                                                               {"serve", "--bus", "amqps://127.0.0.1"},
                                                               {"serve", "--bus-namespace", "with.dot"},
                                                               {"serve", "--bus-max-attempts", "0"}}) {
    err.clear();
    auto outcome = parse(bad, &err);
    CHECK(outcome.exit_code == 2);
    CHECK(err.find("--bus") != std::string::npos);
  }
}

TEST_CASE("the resilience of remote calls comes from flags, with ADR 0014's defaults") {
  using namespace std::chrono_literals;
  auto defaults = parse({"serve"});
  REQUIRE(defaults.settings);
  const auto& d = defaults.settings->remote_calls;
  CHECK(d.timeout == 2000ms);
  CHECK(d.retry.max_attempts == 3);
  CHECK(d.retry.base == 50ms);
  CHECK(d.retry.cap == 1000ms);
  CHECK(d.retry.budget_ratio == Approx(0.2));
  CHECK(d.breaker.window == 20);
  CHECK(d.breaker.minimum_calls == 10);
  CHECK(d.breaker.failure_ratio == Approx(0.5));
  CHECK(d.breaker.open_for == 5000ms);
  CHECK(d.breaker.half_open_probes == 3);

  auto given =
      parse({"serve", "--remote-timeout",        "750", "--remote-max-attempts",   "1",   "--remote-retry-base",
             "20",    "--remote-retry-cap",      "400", "--remote-retry-budget",   "0.1", "--breaker-window",
             "50",    "--breaker-minimum-calls", "25",  "--breaker-failure-ratio", "0.3", "--breaker-open",
             "1500",  "--breaker-probes",        "5"});
  REQUIRE(given.settings);
  const auto& g = given.settings->remote_calls;
  CHECK(g.timeout == 750ms);
  CHECK(g.retry.max_attempts == 1);
  CHECK(g.retry.base == 20ms);
  CHECK(g.retry.cap == 400ms);
  CHECK(g.retry.budget_ratio == Approx(0.1));
  CHECK(g.breaker.window == 50);
  CHECK(g.breaker.minimum_calls == 25);
  CHECK(g.breaker.failure_ratio == Approx(0.3));
  CHECK(g.breaker.open_for == 1500ms);
  CHECK(g.breaker.half_open_probes == 5);

  for (std::vector<const char*> bad : {std::vector<const char*>{"serve", "--remote-timeout", "0"},
                                       {"serve", "--remote-max-attempts", "0"},
                                       {"serve", "--breaker-failure-ratio", "1.5"},
                                       {"serve", "--breaker-window", "5", "--breaker-minimum-calls", "6"},
                                       {"serve", "--remote-retry-base", "500", "--remote-retry-cap", "100"},
                                       {"serve", "--breaker-open", "soon"}}) {
    std::string err;
    auto outcome = parse(bad, &err);
    INFO(err);
    CHECK_FALSE(outcome.settings);
    CHECK(outcome.exit_code == 2);
    CHECK(err.rfind("deliveryhub: invalid setting:", 0) == 0);
  }
}

TEST_CASE("--trusted-proxy takes addresses and networks, and refuses anything else") {
  auto outcome = parse({"serve", "--trusted-proxy", "127.0.0.1", "--trusted-proxy", "10.0.0.0/8,fd00::/8"});
  REQUIRE(outcome.settings);
  CHECK(outcome.settings->trusted_proxies == std::vector<std::string>{"127.0.0.1", "10.0.0.0/8", "fd00::/8"});
  std::string err;
  CHECK_FALSE(parse({"serve", "--trusted-proxy", "gateway"}, &err).settings);
  CHECK(err.find("trusted-proxy") != std::string::npos);
}
