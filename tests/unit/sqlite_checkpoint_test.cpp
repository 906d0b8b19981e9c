// SQLite's WAL is checkpointed by the database's own thread, not by the committing writer
// (automatic checkpoints are off on the writer connection, ADR 0026): it must still be reused.
#include "core/db/database.hpp"
#include "core/util/ids.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

using namespace deliveryhub;

TEST_CASE("the WAL is checkpointed off the writer and reused, not grown, by the next writes") {
  const auto dir = std::filesystem::temp_directory_path() / core::new_id("wal");
  std::filesystem::create_directories(dir);
  const auto file = dir / "wal.db";
  const auto wal = std::filesystem::path(file.string() + "-wal");
  {
    auto db = core::db::open_database("sqlite:" + file.string());
    db->write_transaction(
        [](core::db::Transaction& tx) { tx.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body TEXT)"); });
    const std::string body(8192, 'x');  // two pages a commit
    const auto write_batch = [&] {
      for (int i = 0; i < 3000; ++i) {
        db->write_transaction(
            [&](core::db::Transaction& tx) { tx.execute("INSERT INTO blobs (body) VALUES (?)", {body}); });
      }
    };
    write_batch();
    REQUIRE(std::filesystem::exists(wal));
    const auto after_first = std::filesystem::file_size(wal);
    // Quiet for a moment: the checkpointer copies all of it, and the next commit starts the WAL
    // over from its beginning. Without checkpoints the file would hold every page written: at
    // least the 12,000 pages of row data, 49 MB; with them, about what commits add while one
    // checkpoint runs (9 to 25 MB measured).
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    write_batch();
    const auto after_second = std::filesystem::file_size(wal);
    INFO("WAL bytes after the first batch " << after_first << ", after the second " << after_second);
    CHECK(after_second < std::uintmax_t{40} * 1024 * 1024);
    const auto count =
        db->read([](core::db::Transaction& tx) { return tx.query("SELECT COUNT(*) FROM blobs")[0].integer(0); });
    CHECK(count == 6000);
  }
  std::filesystem::remove_all(dir);
}
