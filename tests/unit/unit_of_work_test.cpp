#include "core/auth/jws.hpp"
#include "core/auth/keys.hpp"
#include "core/db/database.hpp"
#include "core/http/idempotency.hpp"
#include "core/http/problem.hpp"
#include "test_support.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <thread>

using namespace deliveryhub;
using namespace deliveryhub::core;

namespace {

std::vector<db::Migration> items() {
  return {{1, "items", "CREATE TABLE uow_items (id TEXT PRIMARY KEY, n INTEGER NOT NULL)"}};
}

std::int64_t count(db::Database& db) {
  return db.read([](db::Transaction& tx) { return tx.query_one("SELECT COUNT(*) FROM uow_items")->integer(0); });
}

void insert(db::Database& db, const std::string& id) {
  db.write([&](db::Transaction& tx) { tx.execute("INSERT INTO uow_items (id, n) VALUES ($1, 1)", {id}); });
}

}  // namespace

TEST_CASE("a unit of work commits every write of the thread at once, with the last step") {
  testing::TempDatabase db("uow", items());
  int after_commit = 0;
  {
    db::UnitOfWork unit(*db);
    insert(*db, "a");
    db->write([&](db::Transaction& tx) {
      tx.execute("INSERT INTO uow_items (id, n) VALUES ('b', 1)");
      tx.after_commit([&] { ++after_commit; });
    });
    CHECK(count(*db) == 2);  // the request reads its own writes
    // Another thread sees nothing yet.
    std::int64_t seen_elsewhere = -1;
    std::thread([&] { seen_elsewhere = count(*db); }).join();
    CHECK(seen_elsewhere == 0);
    CHECK(after_commit == 0);
    unit.commit([](db::Transaction& tx) { tx.execute("INSERT INTO uow_items (id, n) VALUES ('last', 1)"); });
  }
  CHECK(after_commit == 1);
  CHECK(count(*db) == 3);
}

TEST_CASE("without commit nothing stays; a write that throws undoes only itself") {
  testing::TempDatabase db("uow", items());
  {
    db::UnitOfWork unit(*db);
    insert(*db, "a");
  }  // abandoned
  CHECK(count(*db) == 0);

  {
    db::UnitOfWork unit(*db);
    insert(*db, "a");
    CHECK_THROWS_AS(insert(*db, "a"), db::UniqueViolation);  // its savepoint rolls back
    insert(*db, "b");
    unit.commit([](db::Transaction&) {});
  }
  CHECK(count(*db) == 2);

  {
    db::UnitOfWork unit(*db);
    insert(*db, "c");
    CHECK_THROWS_AS(unit.commit([](db::Transaction& tx) {
      tx.execute("INSERT INTO uow_items (id, n) VALUES ('a', 1)");  // taken: all rolls back
    }),
                    db::UniqueViolation);
  }
  CHECK(count(*db) == 2);
  // The writer is free again for everyone.
  insert(*db, "d");
  CHECK(count(*db) == 3);
}

TEST_CASE("units of work do not nest, and one without writes commits its last step alone") {
  testing::TempDatabase db("uow", items());
  db::UnitOfWork unit(*db);
  CHECK_THROWS_AS(db::UnitOfWork(*db), std::logic_error);
  unit.commit([](db::Transaction& tx) { tx.execute("INSERT INTO uow_items (id, n) VALUES ('only', 1)"); });
  CHECK(count(*db) == 1);
}

TEST_CASE("Idempotency-Key values: tokens and sf-strings of 1 to 255 visible ASCII characters") {
  using http::parse_idempotency_key;
  CHECK(parse_idempotency_key("8e03978e-40d5-43e8-bc93-6894a57f9324") == "8e03978e-40d5-43e8-bc93-6894a57f9324");
  CHECK(parse_idempotency_key("\"order-42\"") == "order-42");
  CHECK(parse_idempotency_key(R"("a\"b\\c")") == R"(a"b\c)");
  CHECK(parse_idempotency_key(std::string(255, 'k')) == std::string(255, 'k'));
  CHECK_FALSE(parse_idempotency_key(std::string(256, 'k')));
  CHECK_FALSE(parse_idempotency_key(""));
  CHECK_FALSE(parse_idempotency_key("\"\""));
  CHECK_FALSE(parse_idempotency_key("has space"));
  CHECK_FALSE(parse_idempotency_key("tab\there"));
  CHECK_FALSE(parse_idempotency_key("caf\xc3\xa9"));
  CHECK_FALSE(parse_idempotency_key(R"("bad\escape")"));
  CHECK_FALSE(parse_idempotency_key(R"("unescaped"quote")"));
}

namespace {

struct KeyedWorld {
  testing::TempDatabase db{"uow", [] {
                             auto migrations = items();
                             for (auto& m : http::Idempotency::migrations()) {
                               m.version += 1;  // after the items table, in one migration list
                               migrations.push_back(m);
                             }
                             return migrations;
                           }()};
  SystemClock clock;
  auth::SigningKey key = auth::SigningKey::generate();
  auth::TokenValidator tokens{{"test", "test"}, [this] {
                                auth::KeySet keys;
                                keys.add({key.kid(), "ES256", key.public_pem()});
                                return keys;
                              }()};
  http::Idempotency idempotency{*db, tokens, clock, std::chrono::hours(24), {5, 3}};

  // A caller with a valid token for `subject` by default; anonymous from `address` when empty.
  http::Request post(const std::string& key, const std::string& body, const std::string& subject = "cus_1",
                     const std::string& address = "192.0.2.1") {
    http::Request r;
    r.method = "POST";
    r.path = r.target = "/api/v1/items";
    r.body = body;
    r.remote_address = address;
    r.headers.add("Idempotency-Key", key);
    if (!subject.empty()) r.headers.add("Authorization", "Bearer " + token_for(subject));
    return r;
  }
  std::string token_for(const std::string& subject) const {
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const nlohmann::json header = {{"alg", "ES256"}, {"typ", "at+jwt"}, {"kid", key.kid()}};
    const nlohmann::json claims = {{"iss", "test"},  {"aud", "test"}, {"sub", subject},       {"exp", now + 600},
                                   {"nbf", now - 1}, {"iat", now},    {"roles", {"customer"}}};
    return auth::sign_es256(header.dump(), claims.dump(), key.private_pem());
  }
};

}  // namespace

TEST_CASE("Idempotency: one effect, the first answer replayed, another request refused") {
  KeyedWorld w;
  int runs = 0;
  const http::Handler create = [&](const http::Request& r) {
    ++runs;
    insert(*w.db, "item-" + std::to_string(runs));
    return http::Response::json(201, {{"body", r.body}, {"run", runs}});
  };
  auto request = w.post("k1", "{\"n\":1}");
  const auto first = w.idempotency.handle(request, create);
  const auto again = w.idempotency.handle(request, create);
  CHECK(first.status == 201);
  CHECK(again.body == first.body);
  CHECK(again.headers.find("Idempotent-Replayed") == std::optional<std::string_view>("true"));
  CHECK(runs == 1);
  CHECK(count(*w.db) == 1);

  auto other = w.post("k1", "{\"n\":2}");
  CHECK(testing::kind_of([&] { w.idempotency.handle(other, create); }) == ErrorKind::unprocessable);
  CHECK(runs == 1);
}

TEST_CASE("Idempotency: a handler's error undoes its writes and is replayed; a 5xx is not kept") {
  KeyedWorld w;
  int runs = 0;
  const http::Handler half_done = [&](const http::Request&) -> http::Response {
    ++runs;
    insert(*w.db, "written-before-the-error");
    throw Error(ErrorKind::unprocessable, "refused after a write");
  };
  auto request = w.post("k2", "{}");
  const auto first = w.idempotency.handle(request, half_done);
  CHECK(first.status == 422);
  CHECK(count(*w.db) == 0);  // the write went with the error
  CHECK(w.idempotency.handle(request, half_done).body == first.body);
  CHECK(runs == 1);

  const http::Handler crashing = [&](const http::Request&) -> http::Response {
    ++runs;
    insert(*w.db, "x");
    throw std::runtime_error("bug");
  };
  auto broken = w.post("k3", "{}");
  CHECK_THROWS_AS(w.idempotency.handle(broken, crashing), std::runtime_error);
  CHECK_THROWS_AS(w.idempotency.handle(broken, crashing), std::runtime_error);  // not stored: runs again
  CHECK(runs == 3);
  CHECK(count(*w.db) == 0);
}

TEST_CASE("Idempotency: without a valid token, keys are the address's and only successes are kept") {
  KeyedWorld w;
  int runs = 0;
  const http::Handler refuse = [&](const http::Request&) -> http::Response {
    ++runs;
    throw Error(ErrorKind::validation, "no", {{"x", "bad"}});
  };
  auto anonymous = w.post("a1", "{}", "", "192.0.2.7");
  CHECK(w.idempotency.handle(anonymous, refuse).status == 400);
  CHECK(w.idempotency.handle(anonymous, refuse).headers.find("Idempotent-Replayed") == std::nullopt);
  CHECK(runs == 2);  // an error is not parked for anyone to replay
  auto stale = w.post("a1", "{}", "", "192.0.2.7");
  stale.headers.add("Authorization", "Bearer not-a-token");
  CHECK(w.idempotency.handle(stale, refuse).status == 400);
  CHECK(runs == 3);

  const http::Handler create = [&](const http::Request&) {
    ++runs;
    return http::Response::json(201, {{"id", runs}});
  };
  auto registration = w.post("a2", "{}", "", "192.0.2.7");
  const auto first = w.idempotency.handle(registration, create);
  auto retried_with_stale_token = w.post("a2", "{}", "", "192.0.2.7");
  retried_with_stale_token.headers.add("Authorization", "Bearer expired.or.forged");
  const auto again = w.idempotency.handle(retried_with_stale_token, create);
  CHECK(again.body == first.body);
  CHECK(again.headers.find("Idempotent-Replayed") == std::optional<std::string_view>("true"));
  auto elsewhere = w.post("a2", "{}", "", "198.51.100.9");  // another address: another scope
  CHECK(w.idempotency.handle(elsewhere, create).body != first.body);
}

TEST_CASE("Idempotency: a caller past its quota of live keys gets 429 and nothing runs") {
  KeyedWorld w;  // quotas: 5 keys per caller, 3 per address
  int runs = 0;
  const http::Handler create = [&](const http::Request&) {
    ++runs;
    return http::Response::json(201, {{"id", runs}});
  };
  for (int i = 0; i < 5; ++i) {
    auto r = w.post("q" + std::to_string(i), "{}");
    CHECK(w.idempotency.handle(r, create).status == 201);
  }
  auto past = w.post("q5", "{}");
  try {
    w.idempotency.handle(past, create);
    FAIL("a sixth key was accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::too_many_requests);
    CHECK(e.headers().size() == 1);
  }
  CHECK(runs == 5);
  auto held = w.post("q0", "{}");  // a key it holds is still replayed
  CHECK(w.idempotency.handle(held, create).headers.find("Idempotent-Replayed") ==
        std::optional<std::string_view>("true"));
  auto other_caller = w.post("q5", "{}", "cus_2");
  CHECK(w.idempotency.handle(other_caller, create).status == 201);
  for (int i = 0; i < 3; ++i) {
    auto r = w.post("n" + std::to_string(i), "{}", "", "192.0.2.9");
    CHECK(w.idempotency.handle(r, create).status == 201);
  }
  auto anonymous_past = w.post("n3", "{}", "", "192.0.2.9");
  CHECK(testing::kind_of([&] { w.idempotency.handle(anonymous_past, create); }) == ErrorKind::too_many_requests);
}

TEST_CASE("Idempotency: an error reply over 16 KiB is not stored; a validation reply lists 20 fields") {
  KeyedWorld w;
  int runs = 0;
  const http::Handler huge = [&](const http::Request&) -> http::Response {
    ++runs;
    return http::Response::json(409, {{"detail", std::string(20000, 'x')}});
  };
  auto request = w.post("h1", "{}");
  w.idempotency.handle(request, huge);
  w.idempotency.handle(request, huge);
  CHECK(runs == 2);

  std::vector<FieldError> many;
  for (int i = 0; i < 90000; ++i) many.push_back({"f" + std::to_string(i), "is not a known field"});
  const auto problem = http::problem_response(Error(ErrorKind::validation, "bad", many), "req_1");
  const auto body = nlohmann::json::parse(problem.body);
  CHECK(body["errors"].size() == http::kMaxFieldErrors);
  CHECK(body["error_count"] == 90000);
  CHECK(problem.body.size() < 4096);
}

TEST_CASE("Idempotency: a repeat while the first runs is a 409; requests without a key pass through") {
  KeyedWorld w;
  std::promise<void> entered;
  std::promise<void> release;
  auto released = release.get_future().share();
  const http::Handler slow = [&](const http::Request&) {
    entered.set_value();
    released.wait();
    return http::Response::json(201, {{"ok", true}});
  };
  auto request = w.post("k4", "{}");
  std::thread first([&] { w.idempotency.handle(request, slow); });
  entered.get_future().wait();
  try {
    auto repeat = w.post("k4", "{}");
    w.idempotency.handle(repeat, slow);
    FAIL("a repeat ran while the first was in flight");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::conflict);
  }
  release.set_value();
  first.join();

  http::Request plain;
  plain.method = "POST";
  plain.path = plain.target = "/api/v1/items";
  int runs = 0;
  const http::Handler count_runs = [&](const http::Request&) {
    ++runs;
    return http::Response::json(201, {});
  };
  w.idempotency.handle(plain, count_runs);
  w.idempotency.handle(plain, count_runs);
  CHECK(runs == 2);
}

TEST_CASE("group commit: concurrent writes all commit; one that throws undoes only itself") {
  testing::TempDatabase db("uow", items());
  constexpr int kThreads = 8;
  constexpr int kWrites = 200;
  std::atomic<int> callbacks{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        const std::string id = std::to_string(t) + "-" + std::to_string(i);
        try {
          db->write([&](db::Transaction& tx) {
            tx.execute("INSERT INTO uow_items (id, n) VALUES ($1, 1)", {id});
            tx.after_commit([&] { ++callbacks; });
            if (i % 10 == 0) {
              tx.execute("INSERT INTO uow_items (id, n) VALUES ($1, 2)", {id});  // a duplicate: refused
            }
          });
        } catch (const db::UniqueViolation&) {
          ++refused;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const int expected_refused = kThreads * (kWrites / 10);
  CHECK(refused == expected_refused);
  CHECK(count(*db) == kThreads * kWrites - expected_refused);  // the refused ones left nothing behind
  CHECK(callbacks == kThreads * kWrites - expected_refused);   // and ran no after-commit callback
}
