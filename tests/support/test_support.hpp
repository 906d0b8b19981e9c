#pragma once
// Helpers shared by the unit and module tests (Catch2).
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/errors.hpp"
#include "core/util/ids.hpp"

#include <catch2/catch.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace deliveryhub::testing {

/// The PostgreSQL admin URL the suite runs against (DELIVERYHUB_TEST_POSTGRES, as printed by
/// scripts/local-postgres.sh), or empty: SQLite.
inline std::string test_postgres_url() {
  const char* url = std::getenv("DELIVERYHUB_TEST_POSTGRES");
  return url == nullptr ? std::string() : std::string(url);
}

/// Runs one SQL statement as the PostgreSQL admin (psql); fails the test when it fails.
inline void postgres_admin(const std::string& admin_url, const std::string& sql) {
  const std::string command = "psql -q -v ON_ERROR_STOP=1 '" + admin_url + "' -c '" + sql + "' >/dev/null";
  REQUIRE(std::system(command.c_str()) == 0);
}

/// A fresh database migrated for `module`: SQLite in a temporary folder, or a new PostgreSQL
/// database when DELIVERYHUB_TEST_POSTGRES is set. Everything is removed afterwards.
class TempDatabase {
 public:
  TempDatabase(std::string_view module, const std::vector<core::db::Migration>& migrations)
      : dir_(std::filesystem::temp_directory_path() / core::new_id("test")) {
    if (const auto admin = test_postgres_url(); !admin.empty()) {
      admin_url_ = admin;
      name_ = "unit_" + core::new_id("db").substr(3);
      for (auto& c : name_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      postgres_admin(admin_url_, "CREATE DATABASE " + name_);
      core::db::DatabaseOptions options;
      options.schemas = {std::string(module), "customers", "payments", "delivery", "orders", "incidents", "core"};
      db_ = core::db::open_database(admin_url_.substr(0, admin_url_.rfind('/') + 1) + name_, options);
    } else {
      std::filesystem::create_directories(dir_);
      db_ = core::db::open_database("sqlite:" + (dir_ / "db.sqlite").string());
    }
    core::db::apply_migrations(*db_, module, migrations);
  }
  ~TempDatabase() {
    db_.reset();
    if (!name_.empty()) {
      const std::string command =
          "psql -q '" + admin_url_ + "' -c 'DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)' >/dev/null 2>&1";
      (void)std::system(command.c_str());
    } else {
      std::filesystem::remove_all(dir_);
    }
  }
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;

  core::db::Database& operator*() { return *db_; }
  core::db::Database* operator->() { return db_.get(); }
  core::db::Database* get() { return db_.get(); }

 private:
  std::filesystem::path dir_;
  std::string admin_url_;
  std::string name_;  // the PostgreSQL database, when on PostgreSQL
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
