#include "core/db/migrations.hpp"

#include "core/util/clock.hpp"

#include <algorithm>
#include <map>

namespace deliveryhub::core::db {

namespace {

void check_name(std::string_view module, const Migration& migration, const std::string& recorded) {
  if (recorded != migration.name) {
    throw DatabaseError("migration " + std::string(module) + "/" + std::to_string(migration.version) +
                        " was applied as '" + recorded + "' but the code calls it '" + migration.name + "'");
  }
}

}  // namespace

int apply_migrations(Database& db, std::string_view module, const std::vector<Migration>& migrations) {
  // Several processes may start at once on an empty database (pods of a release beside its
  // migrations Job): every change of the schema runs under db.schema_change, one process at a
  // time, and looks again, under it, whether another process applied the migration meanwhile.
  db.schema_change([](Transaction& tx) {
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (module TEXT NOT NULL, version INTEGER NOT NULL, "
        "name TEXT NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (module, version))");
  });
  std::map<std::int64_t, std::string> applied;
  db.read([&](Transaction& tx) {
    for (const auto& row :
         tx.query("SELECT version, name FROM schema_migrations WHERE module = $1", {std::string(module)})) {
      applied.emplace(row.integer(0), row.text(1));
    }
  });
  auto ordered = migrations;
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  int count = 0;
  for (const auto& migration : ordered) {
    if (auto found = applied.find(migration.version); found != applied.end()) {
      check_name(module, migration, found->second);
      continue;
    }
    db.schema_change([&](Transaction& tx) {
      const auto recorded = tx.query_one("SELECT name FROM schema_migrations WHERE module = $1 AND version = $2",
                                         {std::string(module), static_cast<std::int64_t>(migration.version)});
      if (recorded) {  // another process applied it while this one waited
        check_name(module, migration, recorded->text(0));
        return;
      }
      db.enter_module_schema(tx, module);
      db.execute_script(tx, migration.sql);
      tx.execute("INSERT INTO schema_migrations (module, version, name, applied_at) VALUES ($1, $2, $3, $4)",
                 {std::string(module), static_cast<std::int64_t>(migration.version), migration.name,
                  to_unix_ms(std::chrono::system_clock::now())});
      ++count;
    });
  }
  return count;
}

}  // namespace deliveryhub::core::db
