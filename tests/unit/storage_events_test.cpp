#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/db/sqlite_database.hpp"
#include "core/errors.hpp"
#include "core/events/bus.hpp"
#include "core/events/outbox.hpp"
#include "core/events/pruning.hpp"
#include "core/events/relay.hpp"
#include "core/util/ids.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <mutex>
#include <thread>

using namespace deliveryhub::core;

namespace {

struct TempDb {
  std::filesystem::path dir;
  TempDb() {
    dir = std::filesystem::temp_directory_path() / new_id("dbtest");
    std::filesystem::create_directories(dir);
  }
  ~TempDb() { std::filesystem::remove_all(dir); }
  std::string url() const { return "sqlite:" + (dir / "test.db").string(); }
};

std::vector<db::Migration> test_migrations() {
  return {{1, "items", "CREATE TABLE test_items (id TEXT PRIMARY KEY, n INTEGER NOT NULL)"},
          events::event_tables_migration("test", 2),
          events::relay_lease_migration("test", 3),
          events::event_pruning_migration("test", 4)};
}

// A bus that records what it was given, failing on demand.
class RecordingBus final : public events::EventBus {
 public:
  void subscribe(events::Subscription) override {}
  void publish(const events::Envelope& envelope) override {
    if (down) throw events::BusUnavailable("broker down");
    if (fail_type == envelope.type) throw std::runtime_error("consumer down");
    seen.push_back(envelope);
  }
  std::vector<events::Envelope> seen;
  std::string fail_type;
  bool down = false;
};

}  // namespace

TEST_CASE("placeholders become SQLite's ?N outside string literals") {
  CHECK(db::rewrite_placeholders("SELECT $1, '$2', $10") == "SELECT ?1, '$2', ?10");
}

TEST_CASE("transactions commit, roll back on exceptions, and map unique violations") {
  TempDb temp;
  auto database = db::open_database(temp.url());
  CHECK(db::apply_migrations(*database, "test", test_migrations()) == 4);
  CHECK(db::apply_migrations(*database, "test", test_migrations()) == 0);

  database->write([](db::Transaction& tx) {
    tx.execute("INSERT INTO test_items VALUES ($1, $2)", {std::string("a"), std::int64_t{1}});
  });
  CHECK_THROWS_AS(database->write([](db::Transaction& tx) {
    tx.execute("INSERT INTO test_items VALUES ($1, $2)", {std::string("b"), std::int64_t{2}});
    throw std::runtime_error("abort");
  }),
                  std::runtime_error);
  CHECK_THROWS_AS(database->write([](db::Transaction& tx) {
    tx.execute("INSERT INTO test_items VALUES ($1, $2)", {std::string("a"), std::int64_t{3}});
  }),
                  db::UniqueViolation);
  auto count =
      database->read([](db::Transaction& tx) { return tx.query_one("SELECT COUNT(*) FROM test_items")->integer(0); });
  CHECK(count == 1);
  CHECK(database->ping());
}

TEST_CASE("an edited migration is refused") {
  deliveryhub::testing::TempDatabase database{"test", test_migrations()};
  auto edited = test_migrations();
  edited[0].name = "renamed";
  CHECK_THROWS_AS(db::apply_migrations(*database, "test", edited), db::DatabaseError);
}

TEST_CASE("outbox events commit with the state change, or not at all") {
  deliveryhub::testing::TempDatabase database{"test", test_migrations()};
  SystemClock clock;
  auto signal = std::make_shared<events::OutboxSignal>();
  events::Outbox outbox("test", clock, signal);
  RecordingBus bus;
  events::OutboxRelay relay(*database, {"test"}, bus, clock, signal);

  database->write([&](db::Transaction& tx) {
    tx.execute("INSERT INTO test_items VALUES ('x', 1)");
    outbox.add(tx, "item.created", "x", {{"n", 1}});
    outbox.add(tx, "item.changed", "x", {{"n", 2}});
  });
  CHECK_THROWS(database->write([&](db::Transaction& tx) {
    outbox.add(tx, "item.ghost", "y", {});
    throw std::runtime_error("rolled back");
  }));
  CHECK(relay.backlog() == 2);
  CHECK(relay.dispatch_once() == 2);
  REQUIRE(bus.seen.size() == 2);
  CHECK(bus.seen[0].type == "item.created");
  CHECK(bus.seen[0].sequence == 1);
  CHECK(bus.seen[1].sequence == 2);
  CHECK(relay.backlog() == 0);
  CHECK(relay.dispatch_once() == 0);  // delivered events are not sent again
}

TEST_CASE("a failing event holds back its aggregate only, and survives a restart") {
  TempDb temp;
  SystemClock clock;
  auto signal = std::make_shared<events::OutboxSignal>();
  {
    auto database = db::open_database(temp.url());
    db::apply_migrations(*database, "test", test_migrations());
    events::Outbox outbox("test", clock, signal);
    database->write([&](db::Transaction& tx) {
      outbox.add(tx, "item.poison", "a", {});
      outbox.add(tx, "item.after", "a", {});
      outbox.add(tx, "item.other", "b", {});
    });
    RecordingBus bus;
    bus.fail_type = "item.poison";
    events::OutboxRelay relay(*database, {"test"}, bus, clock, signal);
    CHECK(relay.dispatch_once() == 1);
    REQUIRE(bus.seen.size() == 1);
    CHECK(bus.seen[0].aggregate_id == "b");  // "a" waits behind its failed first event
  }
  // "Restart": a new database handle and relay see the undelivered events again.
  auto database = db::open_database(temp.url());
  database->write([](db::Transaction& tx) { tx.execute("UPDATE test_outbox SET next_attempt_at = NULL"); });
  RecordingBus bus;
  events::OutboxRelay relay(*database, {"test"}, bus, clock, signal);
  CHECK(relay.dispatch_once() == 2);
  REQUIRE(bus.seen.size() == 2);
  CHECK(bus.seen[0].type == "item.poison");
  CHECK(bus.seen[1].type == "item.after");
}

TEST_CASE("the inbox applies each event once per consumer") {
  deliveryhub::testing::TempDatabase database{"test", test_migrations()};
  int applied = 0;
  events::Subscription subscription{"item.created",
                                    "test.counter",
                                    "test",
                                    database.get(),
                                    [&](const events::Envelope&, db::Transaction& tx) {
                                      ++applied;
                                      tx.execute("INSERT INTO test_items VALUES ($1, 1)", {new_id("itm")});
                                    },
                                    {}};
  events::Envelope envelope;
  envelope.id = new_id("evt");
  envelope.type = "item.created";
  CHECK(events::deliver_once(subscription, envelope));
  CHECK_FALSE(events::deliver_once(subscription, envelope));
  CHECK(applied == 1);

  // A handler that throws leaves no inbox row, so the retry applies it.
  events::Envelope second = envelope;
  second.id = new_id("evt");
  bool fail = true;
  events::Subscription flaky = subscription;
  flaky.handler = [&](const events::Envelope&, db::Transaction&) {
    if (fail) throw std::runtime_error("transient");
    ++applied;
  };
  CHECK_THROWS(events::deliver_once(flaky, second));
  fail = false;
  CHECK(events::deliver_once(flaky, second));
  CHECK(applied == 2);
}

TEST_CASE("the in-process bus delivers to subscribers of the type") {
  deliveryhub::testing::TempDatabase database{"test", test_migrations()};
  events::InProcessBus bus;
  std::vector<std::string> got;
  bus.subscribe({"a.happened",
                 "test.one",
                 "test",
                 database.get(),
                 [&](const events::Envelope& e, db::Transaction&) { got.push_back("one:" + e.id); },
                 {}});
  bus.subscribe({"b.happened",
                 "test.two",
                 "test",
                 database.get(),
                 [&](const events::Envelope& e, db::Transaction&) { got.push_back("two:" + e.id); },
                 {}});
  events::Envelope e;
  e.id = new_id("evt");
  e.type = "a.happened";
  bus.publish(e);
  bus.publish(e);
  REQUIRE(got.size() == 1);
  CHECK(got[0] == "one:" + e.id);
}

TEST_CASE("envelopes survive a JSON round trip and bad ones are refused") {
  events::Envelope e;
  e.id = new_id("evt");
  e.type = "customer.registered";
  e.source = "customers";
  e.aggregate_id = "cus_1";
  e.sequence = 3;
  e.occurred_at = from_unix_ms(1795677112123);
  e.payload = {{"customer_id", "cus_1"}};
  auto back = events::envelope_from_json(events::to_json(e));
  CHECK(back.id == e.id);
  CHECK(back.sequence == 3);
  CHECK(to_unix_ms(back.occurred_at) == 1795677112123);
  CHECK(back.payload == e.payload);
  auto bad = events::to_json(e);
  bad["sequence"] = "3";
  CHECK_THROWS_AS(events::envelope_from_json(bad), Error);
  CHECK_THROWS_AS(events::envelope_from_json(nlohmann::json::array()), Error);
}

TEST_CASE("aggregates waiting for a retry do not starve the others, whatever the batch size") {
  deliveryhub::testing::TempDatabase database{"test", test_migrations()};
  SystemClock clock;
  auto signal = std::make_shared<events::OutboxSignal>();
  events::Outbox outbox("test", clock, signal);
  database->write([&](db::Transaction& tx) {
    outbox.add(tx, "item.poison", "a", {});
    outbox.add(tx, "item.after", "a", {});
    outbox.add(tx, "item.other", "b", {});
  });
  RecordingBus bus;
  bus.fail_type = "item.poison";
  events::RelayOptions options;
  options.batch_size = 2;  // the first batch holds only aggregate a
  events::OutboxRelay relay(*database, {"test"}, bus, clock, signal, options);
  CHECK(relay.dispatch_once() == 0);  // a's head failed and now waits for its retry
  CHECK(relay.dispatch_once() == 1);  // a is left out of the batch, so b goes
  REQUIRE(bus.seen.size() == 1);
  CHECK(bus.seen[0].aggregate_id == "b");
}

TEST_CASE("while the bus is unavailable every event waits, with no attempt counted, and goes when it returns") {
  deliveryhub::testing::TempDatabase database{"test", test_migrations()};
  SystemClock clock;
  auto signal = std::make_shared<events::OutboxSignal>();
  events::Outbox outbox("test", clock, signal);
  database->write([&](db::Transaction& tx) {
    outbox.add(tx, "item.created", "a", {});
    outbox.add(tx, "item.created", "b", {});
  });
  RecordingBus bus;
  bus.down = true;
  events::OutboxRelay relay(*database, {"test"}, bus, clock, signal);
  for (int pass = 0; pass < 3; ++pass) CHECK(relay.dispatch_once() == 0);
  database->read([](db::Transaction& tx) {
    CHECK(tx.query_one("SELECT COUNT(*) FROM test_outbox WHERE attempts > 0 OR next_attempt_at IS NOT NULL")
              ->integer(0) == 0);  // no backoff piled up against the events
  });
  bus.down = false;
  CHECK(relay.dispatch_once() == 2);  // at once: nothing waits out a backoff
  CHECK(bus.seen.size() == 2);
}

TEST_CASE("stopping the relay delivers what was committed just before") {
  deliveryhub::testing::TempDatabase database{"test", test_migrations()};
  SystemClock clock;
  // The outbox wakes a signal the relay does not listen to, and the relay polls hourly: only
  // its first pass and its final pass can deliver.
  events::Outbox outbox("test", clock, std::make_shared<events::OutboxSignal>());
  events::RelayOptions options;
  options.poll_interval = std::chrono::hours(1);
  RecordingBus bus;
  events::OutboxRelay relay(*database, {"test"}, bus, clock, std::make_shared<events::OutboxSignal>(), options);
  database->write([&](db::Transaction& tx) { outbox.add(tx, "item.first", "a", {}); });
  relay.start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (relay.backlog() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(relay.backlog() == 0);  // the first pass ran; the relay now sleeps for an hour
  database->write([&](db::Transaction& tx) { outbox.add(tx, "item.last", "a", {}); });
  relay.stop();
  CHECK(relay.backlog() == 0);
  REQUIRE(bus.seen.size() == 2);
  CHECK(bus.seen[1].type == "item.last");
}

TEST_CASE("an effect consumer runs outside any transaction, at least once, and is recorded after success") {
  deliveryhub::testing::TempDatabase database{"test", test_migrations()};
  int calls = 0;
  bool fail = true;
  events::Subscription subscription{
      "item.created", "test.effect", "test", database.get(), {}, [&](const events::Envelope&) {
        ++calls;
        // Outside a transaction: the effect may open its own.
        database->write(
            [](db::Transaction& tx) { tx.execute("INSERT INTO test_items VALUES ($1, 1)", {new_id("itm")}); });
        if (fail) throw std::runtime_error("answer lost");
      }};
  events::Envelope envelope;
  envelope.id = new_id("evt");
  envelope.type = "item.created";
  CHECK_THROWS(events::deliver_once(subscription, envelope));  // not recorded: it will come again
  fail = false;
  CHECK(events::deliver_once(subscription, envelope));
  CHECK_FALSE(events::deliver_once(subscription, envelope));  // recorded now
  CHECK(calls == 2);
}

namespace {
class SteppedClock final : public Clock {
 public:
  TimePoint now() const override { return now_; }
  void advance(std::chrono::milliseconds by) { now_ += by; }

 private:
  TimePoint now_ = from_unix_ms(1'800'000'000'000);
};
}  // namespace

TEST_CASE("replicas share an outbox: one relay at a time publishes it, another takes over") {
  TempDb temp;
  SteppedClock clock;
  auto signal = std::make_shared<events::OutboxSignal>();
  auto database = db::open_database(temp.url());
  db::apply_migrations(*database, "test", test_migrations());
  events::Outbox outbox("test", clock, signal);
  const auto add = [&](const std::string& aggregate) {
    database->write([&](db::Transaction& tx) { outbox.add(tx, "item.created", aggregate, {}); });
  };
  events::RelayOptions options;
  options.lease = std::chrono::milliseconds(10'000);
  RecordingBus first_bus, second_bus;
  auto first = std::make_unique<events::OutboxRelay>(*database, std::vector<std::string>{"test"}, first_bus, clock,
                                                     signal, options);
  events::OutboxRelay second(*database, {"test"}, second_bus, clock, signal, options);

  add("a");
  CHECK(first->dispatch_once() == 1);
  add("b");
  CHECK(second.dispatch_once() == 0);  // the first holds the lease: nothing is published twice
  CHECK(second_bus.seen.empty());
  clock.advance(std::chrono::milliseconds(6'000));  // past half the lease: the first renews it
  CHECK(first->dispatch_once() == 1);
  clock.advance(std::chrono::milliseconds(6'000));  // the renewed lease still holds
  add("c");
  CHECK(second.dispatch_once() == 0);

  SECTION("a relay that stops hands over at once") {
    first.reset();
    CHECK(second.dispatch_once() == 1);
    REQUIRE(second_bus.seen.size() == 1);
    CHECK(second_bus.seen[0].aggregate_id == "c");
  }
  SECTION("a relay that stops renewing (a crashed replica) loses the lease when it expires") {
    clock.advance(std::chrono::milliseconds(10'001));
    CHECK(second.dispatch_once() == 1);
    CHECK(second_bus.seen.size() == 1);
    add("d");
    CHECK(first->dispatch_once() == 0);  // and the first does not take it back while it is held
    CHECK(second.dispatch_once() == 1);
  }
  CHECK(first_bus.seen.size() == 2);
}

TEST_CASE("an event's handlers on SQLite share one commit; one that throws undoes only itself") {
  deliveryhub::testing::TempDatabase database{"test", test_migrations()};
  const bool joined = database->prefers_joined_writes();  // SQLite; PostgreSQL commits each
  CHECK(joined == (database->backend() == "sqlite"));
  events::InProcessBus bus;
  const auto inserting = [&](const std::string& row) {
    return [row](const events::Envelope&, db::Transaction& tx) {
      tx.execute("INSERT INTO test_items VALUES ($1, 1)", {row});
    };
  };
  bool fail = true;
  bus.subscribe({"a.happened", "test.first", "test", database.get(), inserting("first"), {}});
  bus.subscribe({"a.happened",
                 "test.flaky",
                 "test",
                 database.get(),
                 [&](const events::Envelope&, db::Transaction& tx) {
                   tx.execute("INSERT INTO test_items VALUES ('flaky', 1)");
                   if (fail) throw std::runtime_error("flaky consumer");
                 },
                 {}});
  bus.subscribe({"a.happened", "test.third", "test", database.get(), inserting("third"), {}});
  events::Envelope e;
  e.id = new_id("evt");
  e.type = "a.happened";
  const auto rows = [&] {
    return database->read([](db::Transaction& tx) {
      std::vector<std::string> ids;
      for (const auto& row : tx.query("SELECT id FROM test_items ORDER BY id")) ids.push_back(row.text(0));
      return ids;
    });
  };
  const auto inbox = [&] {
    return database->read(
        [](db::Transaction& tx) { return tx.query_one("SELECT COUNT(*) FROM test_inbox")->integer(0); });
  };
  const auto commits = database->counters().commits;
  CHECK_THROWS_WITH(bus.publish(e), "flaky consumer");                // the relay retries the event
  CHECK(database->counters().commits == commits + (joined ? 1 : 2));  // SQLite: three consumers, one commit
  CHECK(rows() == std::vector<std::string>{"first", "third"});
  CHECK(inbox() == 2);
  fail = false;
  bus.publish(e);  // the retry: the two that applied it dedupe, the flaky one applies it now
  CHECK(rows() == std::vector<std::string>{"first", "flaky", "third"});
  CHECK(inbox() == 3);
}

TEST_CASE("a relay pass marks what it delivered in one write, and only that") {
  deliveryhub::testing::TempDatabase database{"test", test_migrations()};
  auto signal = std::make_shared<events::OutboxSignal>();
  SystemClock clock;
  events::Outbox outbox("test", clock, signal);
  database->write([&](db::Transaction& tx) {
    for (int i = 0; i < 70; ++i) outbox.add(tx, "item.created", "itm_" + std::to_string(i), {{"n", i}});
    outbox.add(tx, "item.failing", "itm_x", {});
  });
  RecordingBus bus;
  bus.fail_type = "item.failing";
  events::OutboxRelay relay(*database, {"test"}, bus, clock, signal);
  const auto before = database->counters();
  CHECK(relay.dispatch_once() == 70);
  const auto after = database->counters();
  // The lease, the mark of 70 events (chunks of 64 and 8 in one write), the failed event's retry.
  CHECK(after.writes - before.writes == 3);
  const auto undelivered = database->read([](db::Transaction& tx) {
    return tx.query_one("SELECT COUNT(*), MAX(type) FROM test_outbox WHERE delivered_at IS NULL")->text(1);
  });
  CHECK(undelivered == "item.failing");
  CHECK(relay.backlog() == 1);
  CHECK(bus.seen.size() == 70);
}

TEST_CASE("the database counts commits, writes, statements and WAL frames") {
  deliveryhub::testing::TempDatabase database{"test", test_migrations()};
  const auto before = database->counters();
  // Writes queued together while another holds the writer are committed together.
  std::vector<std::thread> writers;
  {
    db::UnitOfWork unit(*database);
    database->write([](db::Transaction& tx) { tx.execute("INSERT INTO test_items VALUES ('held', 1)"); });
    for (int i = 0; i < 4; ++i) {
      writers.emplace_back([&, i] {
        database->write(
            [&](db::Transaction& tx) { tx.execute("INSERT INTO test_items VALUES ($1, 1)", {std::to_string(i)}); });
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // all four are queued by now
    unit.commit([](db::Transaction&) {});
  }
  for (auto& writer : writers) writer.join();
  const auto after = database->counters();
  CHECK(after.writes - before.writes == 5);
  CHECK(after.statements - before.statements >= 5 + 2 * 2);
  if (database->backend() == "sqlite") {
    CHECK(after.commits - before.commits == 2);  // the unit, then one group of the four that waited
    CHECK(after.wal_frames > before.wal_frames);
  } else {
    CHECK(after.commits - before.commits == 5);  // concurrent writers, each its own transaction
    CHECK(after.wal_frames == before.wal_frames);
  }
}

TEST_CASE("an event a consumer's filter refuses costs it nothing: no effect, no inbox row, no write") {
  deliveryhub::testing::TempDatabase database{"test", test_migrations()};
  int effects = 0;
  events::Subscription subscription{"item.created",
                                    "test.redelivery",
                                    "test",
                                    database.get(),
                                    {},
                                    [&](const events::Envelope&) { ++effects; },
                                    [](const events::Envelope& e) { return e.payload.value("redelivery", false); }};
  events::Envelope first;
  first.id = new_id("evt");
  first.type = "item.created";
  first.payload = {{"redelivery", false}};
  const auto before = database->counters();
  CHECK_FALSE(events::deliver_once(subscription, first));
  CHECK(database->counters().writes == before.writes);
  CHECK(database->counters().statements == before.statements);
  events::Envelope again = first;
  again.id = new_id("evt");
  again.payload = {{"redelivery", true}};
  CHECK(events::deliver_once(subscription, again));
  CHECK_FALSE(events::deliver_once(subscription, again));
  CHECK(effects == 1);
}

TEST_CASE("pruning deletes old delivered events and inbox ids, never an undelivered event; sequences go on") {
  deliveryhub::testing::TempDatabase database{"test", test_migrations()};
  SteppedClock clock;
  auto signal = std::make_shared<events::OutboxSignal>();
  events::Outbox outbox("test", clock, signal);
  database->write([&](db::Transaction& tx) {
    for (int i = 0; i < 3; ++i) outbox.add(tx, "item.created", "itm_a", {{"n", i}});
    outbox.add(tx, "item.failing", "itm_b", {});
    tx.execute("INSERT INTO test_inbox (consumer, event_id, processed_at) VALUES ('test.c', 'evt_old', $1)",
               {to_unix_ms(clock.now())});
  });
  RecordingBus bus;
  bus.fail_type = "item.failing";  // itm_b's event stays undelivered, waiting for its retry
  events::OutboxRelay relay(*database, {"test"}, bus, clock, signal);
  CHECK(relay.dispatch_once() == 3);
  deliveryhub::core::metrics::Metrics metrics;
  events::EventPruner pruner(
      *database, {"test"}, clock, metrics,
      {std::chrono::seconds(60), std::chrono::seconds(3600), std::chrono::milliseconds(1000), 2});
  CHECK(pruner.prune_once() == 0);  // nothing is old enough yet

  clock.advance(std::chrono::seconds(61));
  database->write([&](db::Transaction& tx) {
    outbox.add(tx, "item.created", "itm_c", {});  // recent: kept
    tx.execute("INSERT INTO test_inbox (consumer, event_id, processed_at) VALUES ('test.c', 'evt_new', $1)",
               {to_unix_ms(clock.now())});
  });
  CHECK(relay.dispatch_once() == 1);
  CHECK(pruner.prune_once() == 3);  // itm_a's three (in batches of two); the inbox ids are too young
  const auto outbox_rows = [&] {
    return database->read([](db::Transaction& tx) {
      std::vector<std::string> rows;
      for (const auto& row : tx.query("SELECT aggregate_id, sequence FROM test_outbox ORDER BY position")) {
        rows.push_back(row.text(0) + "#" + std::to_string(row.integer(1)));
      }
      return rows;
    });
  };
  CHECK(outbox_rows() == std::vector<std::string>{"itm_b#1", "itm_c#1"});
  // The next event of an aggregate whose events were all pruned goes on from its last sequence.
  database->write([&](db::Transaction& tx) { outbox.add(tx, "item.created", "itm_a", {}); });
  CHECK(outbox_rows() == std::vector<std::string>{"itm_b#1", "itm_c#1", "itm_a#4"});

  CHECK(relay.dispatch_once() == 1);  // itm_a#4 (itm_b's event is still failing)
  clock.advance(std::chrono::seconds(3600));
  CHECK(pruner.prune_once() == 3);  // itm_c#1, itm_a#4 and the old inbox id (the other is just young enough)
  CHECK(outbox_rows() == std::vector<std::string>{"itm_b#1"});  // undelivered: never pruned
  const auto inbox = database->read([](db::Transaction& tx) {
    std::vector<std::string> ids;
    for (const auto& row : tx.query("SELECT event_id FROM test_inbox ORDER BY event_id")) ids.push_back(row.text(0));
    return ids;
  });
  CHECK(inbox == std::vector<std::string>{"evt_new"});
  const auto exported = metrics.serialize();
  CHECK(exported.find("deliveryhub_events_pruned_total{module=\"test\",table=\"outbox\"} 5") != std::string::npos);
  CHECK(exported.find("deliveryhub_events_pruned_total{module=\"test\",table=\"inbox\"} 1") != std::string::npos);
}

TEST_CASE("a single-statement read sends one statement and no transaction control; a second is refused") {
  deliveryhub::testing::TempDatabase database{"test", test_migrations()};
  database->write([](db::Transaction& tx) { tx.execute("INSERT INTO test_items VALUES ('a', 1), ('b', 2)"); });
  const auto before = database->counters();
  const auto total = database->read_statement(
      [](db::Transaction& tx) { return tx.query_one("SELECT SUM(n) FROM test_items")->integer(0); });
  CHECK(total == 3);
  const auto after = database->counters();
  if (database->backend() == "postgresql") {
    CHECK(after.statements - before.statements == 1);  // no BEGIN, no COMMIT: one round trip
  } else {
    CHECK(after.statements - before.statements <= 3);  // SQLite's prepared BEGIN and COMMIT cost no I/O
  }
  CHECK_THROWS_AS(database->read_statement([](db::Transaction& tx) {
    tx.query("SELECT 1");
    tx.query("SELECT 2");
  }),
                  std::logic_error);
  CHECK_THROWS_AS(database->read_statement([](db::Transaction& tx) {
    tx.query("SELECT 1");
    tx.execute("DELETE FROM test_items");
  }),
                  std::logic_error);
  CHECK(database->read([](db::Transaction& tx) { return tx.query("SELECT id FROM test_items").size(); }) == 2);
  // Inside a unit of work that has written, it reads the unit's writes.
  db::UnitOfWork unit(*database);
  database->write([](db::Transaction& tx) { tx.execute("INSERT INTO test_items VALUES ('c', 4)"); });
  CHECK(database->read_statement(
            [](db::Transaction& tx) { return tx.query_one("SELECT SUM(n) FROM test_items")->integer(0); }) == 7);
  unit.commit([](db::Transaction&) {});
}
