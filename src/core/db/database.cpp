#include "core/db/database.hpp"

#include "core/db/postgres_database.hpp"
#include "core/db/sqlite_database.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

namespace deliveryhub::core::db {

bool Row::is_null(std::size_t column) const {
  return std::holds_alternative<std::monostate>(values_.at(column));
}

std::int64_t Row::integer(std::size_t column) const {
  const auto& value = values_.at(column);
  if (const auto* number = std::get_if<std::int64_t>(&value)) return *number;
  if (const auto* real = std::get_if<double>(&value)) return static_cast<std::int64_t>(*real);
  throw DatabaseError("column " + std::to_string(column) + " is not an integer");
}

const std::string& Row::text(std::size_t column) const {
  const auto& value = values_.at(column);
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  throw DatabaseError("column " + std::to_string(column) + " is not text");
}

std::optional<std::string> Row::optional_text(std::size_t column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

std::optional<std::int64_t> Row::optional_integer(std::size_t column) const {
  if (is_null(column)) return std::nullopt;
  return integer(column);
}

std::optional<Row> Transaction::query_one(std::string_view sql, const Params& params) {
  auto rows = query(sql, params);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

void Transaction::run_after_commit() {
  auto callbacks = std::move(after_commit_);
  after_commit_.clear();
  for (auto& callback : callbacks) callback();
}

namespace {

// A transaction that lets one statement through: single_statement_read's contract, checked on
// every backend so that SQLite in development catches what would cost PostgreSQL a snapshot.
class OneStatement final : public Transaction {
 public:
  explicit OneStatement(Transaction& inner) : inner_(inner) {}
  std::int64_t execute(std::string_view sql, const Params& params) override {
    take_turn();
    return inner_.execute(sql, params);
  }
  Rows query(std::string_view sql, const Params& params) override {
    take_turn();
    return inner_.query(sql, params);
  }

 private:
  void take_turn() {
    if (used_) throw std::logic_error("a single-statement read sent a second statement");
    used_ = true;
  }
  Transaction& inner_;
  bool used_ = false;
};

}  // namespace

void Database::single_statement_read(const std::function<void(Transaction&)>& work) {
  run_single_statement([&](Transaction& tx) {
    OneStatement one(tx);
    work(one);
  });
}

std::unique_ptr<Database> open_database(const std::string& url, const DatabaseOptions& options) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (url.rfind(kSqlite, 0) == 0) {
    std::filesystem::path path = url.substr(kSqlite.size());
    if (path.empty()) throw std::invalid_argument("sqlite: URL needs a file path, e.g. sqlite:./data/deliveryhub.db");
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    return std::make_unique<SqliteDatabase>(path.string(), options);
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return std::make_unique<PostgresDatabase>(url, options);
  }
  throw std::invalid_argument("unsupported database URL '" + url + "': expected sqlite:PATH or postgresql://…");
}

void pause_before_retry(int attempt) {
  thread_local std::minstd_rand random(std::random_device{}());
  const int ceiling_ms = std::min(2 << std::clamp(attempt, 1, 16), 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1 + random() % static_cast<unsigned long>(ceiling_ms)));
}

}  // namespace deliveryhub::core::db
