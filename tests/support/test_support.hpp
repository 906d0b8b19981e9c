#pragma once
// Helpers shared by the unit and module tests (Catch2).
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/errors.hpp"
#include "core/util/ids.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace deliveryhub::testing {

/// A SQLite database in a fresh temporary folder, migrated for `module`; the folder is removed
/// afterwards.
class TempDatabase {
 public:
  TempDatabase(std::string_view module, const std::vector<core::db::Migration>& migrations)
      : dir_(std::filesystem::temp_directory_path() / core::new_id("test")) {
    std::filesystem::create_directories(dir_);
    db_ = core::db::open_database("sqlite:" + (dir_ / "db.sqlite").string());
    core::db::apply_migrations(*db_, module, migrations);
  }
  ~TempDatabase() {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;

  core::db::Database& operator*() { return *db_; }
  core::db::Database* operator->() { return db_.get(); }
  core::db::Database* get() { return db_.get(); }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<core::db::Database> db_;
};

/// The kind of the core::Error that `action` throws; fails the test when it throws none.
inline core::ErrorKind kind_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const core::Error& e) {
    return e.kind();
  }
  FAIL("no core::Error thrown");
  return core::ErrorKind::internal;
}

/// The event types in `<module>_outbox`, in outbox order.
inline std::vector<std::string> outbox_types(core::db::Database& db, std::string_view module) {
  return db.read([&](core::db::Transaction& tx) {
    std::vector<std::string> types;
    for (const auto& row : tx.query("SELECT type FROM " + std::string(module) + "_outbox ORDER BY position")) {
      types.push_back(row.text(0));
    }
    return types;
  });
}

}  // namespace deliveryhub::testing
