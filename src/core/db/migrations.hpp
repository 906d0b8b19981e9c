#pragma once
#include "core/db/database.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace deliveryhub::core::db {

/// One schema change of a module. Versions start at 1 and only grow; an applied migration is
/// never edited (its name is checked on every start).
struct Migration {
  int version;
  std::string name;
  std::string sql;
};

/// Applies the migrations of `module` not yet recorded in schema_migrations, each in its own
/// transaction, in version order. Returns how many it applied. Safe when several processes run
/// it at once on one database: each change runs under Database::schema_change (one at a time),
/// and a migration another process applied meanwhile is skipped. Throws DatabaseError when a
/// recorded migration's name differs from the code's (someone edited history).
int apply_migrations(Database& db, std::string_view module, const std::vector<Migration>& migrations);

}  // namespace deliveryhub::core::db
