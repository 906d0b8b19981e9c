// Backups of the SQLite database (issue 17): a copy taken while writers go on is one consistent
// snapshot; a copy is checked before anything trusts it; a restore refuses while the database is
// open and keeps what it replaces.
#include "core/db/sqlite_backup.hpp"

#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/db/scheduled_backups.hpp"
#include "core/metrics/metrics.hpp"
#include "core/util/ids.hpp"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace deliveryhub;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / core::new_id("bak");
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

// A deliveryhub-like database: a migration recorded, and a table of pairs written two rows per
// transaction, so a copy taken mid-transaction would show an odd count.
std::unique_ptr<core::db::Database> make_database(const fs::path& file) {
  auto db = core::db::open_database("sqlite:" + file.string());
  core::db::apply_migrations(*db, "pairs", {{1, "pairs", "CREATE TABLE pairs (id INTEGER PRIMARY KEY, half INTEGER)"}});
  return db;
}

}  // namespace

TEST_CASE("a backup taken while writers go on is one consistent snapshot, and checks out") {
  TempDir dir;
  const auto file = dir.path / "live.db";
  auto db = make_database(file);
  std::atomic<bool> stop = false;
  std::thread writer([&] {
    while (!stop) {
      db->write_transaction([](core::db::Transaction& tx) {
        tx.execute("INSERT INTO pairs (half) VALUES (0)");
        tx.execute("INSERT INTO pairs (half) VALUES (1)");
      });
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto copy = dir.path / "copy.db";
  const auto report = core::db::backup_sqlite(file.string(), copy.string());
  stop = true;
  writer.join();

  CHECK(report.path == copy.string());
  CHECK(report.bytes == fs::file_size(copy));
  CHECK(report.schema.at("pairs") == 1);
  CHECK_FALSE(fs::exists(copy.string() + ".partial"));
  CHECK_FALSE(fs::exists(copy.string() + "-wal"));  // self-contained
  const auto checked = core::db::check_sqlite_copy(copy.string());
  CHECK(checked.schema == report.schema);
  db.reset();
  auto copied = core::db::open_database("sqlite:" + copy.string());
  const auto rows =
      copied->read([](core::db::Transaction& tx) { return tx.query("SELECT COUNT(*) FROM pairs")[0].integer(0); });
  INFO(rows << " rows in the copy");
  CHECK(rows > 0);
  CHECK(rows % 2 == 0);  // never half a transaction
}

TEST_CASE("a backup never overwrites, and a copy that is not a sound deliveryhub database is refused") {
  TempDir dir;
  const auto file = dir.path / "db.db";
  { make_database(file); }
  const auto taken = dir.path / "taken.db";
  std::ofstream(taken) << "keep";
  CHECK_THROWS_WITH(core::db::backup_sqlite(file.string(), taken.string()), Catch::Contains("never overwrites"));
  CHECK(fs::file_size(taken) == 4);
  CHECK_THROWS_WITH(core::db::backup_sqlite((dir.path / "none.db").string(), (dir.path / "x.db").string()),
                    Catch::Contains("no database at"));

  const auto other = dir.path / "other.db";
  {
    auto db = core::db::open_database("sqlite:" + other.string());
    db->write_transaction([](core::db::Transaction& tx) { tx.execute("CREATE TABLE t (x INTEGER)"); });
  }
  CHECK_THROWS_WITH(core::db::check_sqlite_copy(other.string()), Catch::Contains("not a deliveryhub database"));
  const auto good = dir.path / "good.db";
  core::db::backup_sqlite(file.string(), good.string());
  const auto half = dir.path / "half.db";
  fs::copy_file(good, half);
  fs::resize_file(half, fs::file_size(good) / 2);
  CHECK_THROWS(core::db::check_sqlite_copy(half.string()));
  CHECK_THROWS(core::db::restore_sqlite(half.string(), file.string()));
  CHECK(core::db::check_sqlite_copy(file.string()).schema.at("pairs") == 1);  // untouched
}

TEST_CASE("a restore refuses while the database is open, and keeps the database it replaces") {
  TempDir dir;
  const auto file = dir.path / "db.db";
  auto db = make_database(file);
  const auto copy = dir.path / "copy.db";
  core::db::backup_sqlite(file.string(), copy.string());
  db->write_transaction([](core::db::Transaction& tx) { tx.execute("INSERT INTO pairs (half) VALUES (7)"); });

  CHECK_THROWS_WITH(core::db::restore_sqlite(copy.string(), file.string()),
                    Catch::Contains("stop it before restoring"));
  db.reset();  // the server stops
  const auto report = core::db::restore_sqlite(copy.string(), file.string());
  CHECK(report.path == file.string());
  int kept = 0;
  for (const auto& entry : fs::directory_iterator(dir.path)) {
    if (entry.path().filename().string().find(".before-restore-") != std::string::npos) ++kept;
  }
  CHECK(kept >= 1);
  auto restored = core::db::open_database("sqlite:" + file.string());
  CHECK(restored->read(
            [](core::db::Transaction& tx) { return tx.query("SELECT COUNT(*) FROM pairs")[0].integer(0); }) == 0);

  // While a restore holds the lock, opening the database is refused.
  restored.reset();
  const core::db::SqliteServeLock restoring(file.string(), core::db::SqliteServeLock::Mode::exclusive);
  CHECK_THROWS_WITH(core::db::open_database("sqlite:" + file.string()), Catch::Contains("being restored"));
}

TEST_CASE("scheduled backups keep the newest copies and count their outcomes") {
  TempDir dir;
  const auto file = dir.path / "db.db";
  auto db = make_database(file);
  const auto copies = dir.path / "backups";
  core::metrics::Metrics metrics;
  core::db::ScheduledBackups backups({file.string(), copies.string(), std::chrono::seconds(3600), 2}, metrics);
  std::vector<std::string> written;
  for (int i = 0; i < 4; ++i) {
    written.push_back(backups.run_once().path);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // names differ by the millisecond
  }
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(copies)) left.push_back(entry.path().string());
  std::sort(left.begin(), left.end());
  CHECK(left == std::vector<std::string>{written[2], written[3]});
  for (const auto& copy : left) CHECK(core::db::check_sqlite_copy(copy).schema.at("pairs") == 1);

  backups.start();  // the first backup comes at start
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string text;
  while (std::chrono::steady_clock::now() < deadline) {
    text = metrics.serialize();
    if (text.find("deliveryhub_backups_total{outcome=\"ok\"} 1") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  backups.stop();
  CHECK_THAT(text, Catch::Contains("deliveryhub_backups_total{outcome=\"ok\"} 1"));
  CHECK_THAT(text, Catch::Contains("deliveryhub_backup_interval_seconds 3600"));
  CHECK_THAT(text, !Catch::Contains("deliveryhub_backup_last_success_timestamp_seconds 0\n"));
}

TEST_CASE("a scheduled backup that fails is counted, and the server's database is untouched") {
  TempDir dir;
  const auto file = dir.path / "db.db";
  auto db = make_database(file);
  const auto not_a_folder = dir.path / "file";
  std::ofstream(not_a_folder) << "x";
  core::metrics::Metrics metrics;
  core::db::ScheduledBackups backups({file.string(), not_a_folder.string(), std::chrono::seconds(3600), 2}, metrics);
  CHECK_THROWS(backups.run_once());
  backups.start();
  std::string text;
  for (int i = 0; i < 500; ++i) {
    text = metrics.serialize();
    if (text.find("deliveryhub_backups_total{outcome=\"failed\"} 1") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  backups.stop();
  CHECK_THAT(text, Catch::Contains("deliveryhub_backups_total{outcome=\"failed\"} 1"));
  CHECK_THAT(text, Catch::Contains("deliveryhub_backup_last_success_timestamp_seconds 0"));
  CHECK(db->read([](core::db::Transaction& tx) { return tx.query("SELECT COUNT(*) FROM pairs")[0].integer(0); }) == 0);
}
