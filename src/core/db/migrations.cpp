#include "core/db/migrations.hpp"

#include "core/util/clock.hpp"

#include <algorithm>
#include <map>

namespace deliveryhub::core::db {

int apply_migrations(Database& db, std::string_view module, const std::vector<Migration>& migrations) {
  db.write([](Transaction& tx) {
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
    auto found = applied.find(migration.version);
    if (found != applied.end()) {
      if (found->second != migration.name) {
        throw DatabaseError("migration " + std::string(module) + "/" + std::to_string(migration.version) +
                            " was applied as '" + found->second + "' but the code calls it '" + migration.name + "'");
      }
      continue;
    }
    db.write([&](Transaction& tx) {
      db.enter_module_schema(tx, module);
      db.execute_script(tx, migration.sql);
      tx.execute("INSERT INTO schema_migrations (module, version, name, applied_at) VALUES ($1, $2, $3, $4)",
                 {std::string(module), static_cast<std::int64_t>(migration.version), migration.name,
                  to_unix_ms(std::chrono::system_clock::now())});
    });
    ++count;
  }
  return count;
}

}  // namespace deliveryhub::core::db
