#include "repository.hpp"

#include "core/util/text.hpp"

namespace deliveryhub::incidents::repository {
namespace {

using core::from_unix_ms;
using core::to_unix_ms;

constexpr std::string_view kColumns =
    "id, order_id, customer_id, type, description, status, opened_by, resolution, refund_amount, rejection_reason, "
    "version, created_at, updated_at";

Incident incident_from(core::db::Transaction& tx, const core::db::Row& row) {
  Incident i;
  i.id = row.text(0);
  i.order_id = row.text(1);
  i.customer_id = row.text(2);
  i.type = type_from(row.text(3)).value_or(IncidentType::other);
  i.description = row.text(4);
  i.status = status_from(row.text(5)).value_or(IncidentStatus::open);
  i.opened_by = row.text(6);
  if (auto resolution = row.optional_text(7)) i.resolution = resolution_from(*resolution);
  i.refund_amount = row.optional_integer(8);
  i.rejection_reason = row.optional_text(9);
  i.version = row.integer(10);
  i.created_at = from_unix_ms(row.integer(11));
  i.updated_at = from_unix_ms(row.integer(12));
  for (const auto& c : tx.query(
           "SELECT id, author_id, author_role, body, at FROM incidents_comments WHERE incident_id = $1 ORDER BY id",
           {i.id})) {
    i.comments.push_back({c.text(0), c.text(1), c.text(2), c.text(3), from_unix_ms(c.integer(4))});
  }
  return i;
}

}  // namespace

std::optional<IncidentType> type_from(std::string_view text) {
  return core::enum_from(text, {IncidentType::damaged, IncidentType::late, IncidentType::missing_item,
                                IncidentType::not_delivered, IncidentType::other});
}

std::optional<IncidentStatus> status_from(std::string_view text) {
  return core::enum_from(
      text, {IncidentStatus::open, IncidentStatus::in_progress, IncidentStatus::resolved, IncidentStatus::rejected});
}

std::optional<Resolution> resolution_from(std::string_view text) {
  return core::enum_from(text, {Resolution::refund, Resolution::redeliver, Resolution::none});
}

bool insert(core::db::Transaction& tx, const Incident& i, const std::optional<std::string>& source_key) {
  if (source_key &&
      tx.query_one("SELECT 1 FROM incidents_incidents WHERE source_key = $1", {*source_key}).has_value()) {
    return false;
  }
  tx.execute(
      "INSERT INTO incidents_incidents (id, order_id, customer_id, type, description, status, opened_by, "
      "source_key, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
      {i.id, i.order_id, i.customer_id, std::string(to_string(i.type)), i.description, std::string(to_string(i.status)),
       i.opened_by, core::db::nullable(source_key), i.version, to_unix_ms(i.created_at), to_unix_ms(i.updated_at)});
  return true;
}

std::optional<Incident> find(core::db::Transaction& tx, const std::string& id) {
  auto row = tx.query_one("SELECT " + std::string(kColumns) + " FROM incidents_incidents WHERE id = $1", {id});
  if (!row) return std::nullopt;
  return incident_from(tx, *row);
}

bool update(core::db::Transaction& tx, const Incident& i) {
  return tx.execute(
             "UPDATE incidents_incidents SET status = $1, resolution = $2, refund_amount = $3, "
             "rejection_reason = $4, version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7",
             {std::string(to_string(i.status)),
              i.resolution ? core::db::Value{std::string(to_string(*i.resolution))} : core::db::Value{std::monostate{}},
              core::db::nullable(i.refund_amount), core::db::nullable(i.rejection_reason), to_unix_ms(i.updated_at),
              i.id, i.version}) == 1;
}

void add_comment(core::db::Transaction& tx, const std::string& incident_id, const Comment& c) {
  tx.execute(
      "INSERT INTO incidents_comments (id, incident_id, author_id, author_role, body, at) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {c.id, incident_id, c.author_id, c.author_role, c.body, to_unix_ms(c.at)});
}

std::vector<Incident> list(core::db::Transaction& tx, const Filter& filter, const std::optional<std::string>& before_id,
                           std::size_t limit) {
  std::string sql = "SELECT " + std::string(kColumns) + " FROM incidents_incidents WHERE 1 = 1";
  core::db::Params params;
  auto where = [&](const std::optional<std::string>& value, std::string_view clause) {
    if (!value) return;
    params.emplace_back(*value);
    sql += " AND " + std::string(clause) + std::to_string(params.size());
  };
  where(filter.customer_id, "customer_id = $");
  where(filter.order_id, "order_id = $");
  where(filter.status, "status = $");
  where(before_id, "id < $");
  params.emplace_back(static_cast<std::int64_t>(limit));
  sql += " ORDER BY id DESC LIMIT $" + std::to_string(params.size());
  std::vector<Incident> out;
  for (const auto& row : tx.query(sql, params)) out.push_back(incident_from(tx, row));
  return out;
}

std::int64_t count_unsettled(core::db::Transaction& tx) {
  return tx.query_one("SELECT COUNT(*) FROM incidents_incidents WHERE status IN ('open', 'in_progress')")->integer(0);
}

void watch(core::db::Transaction& tx, const Watched& d) {
  tx.execute(
      "INSERT INTO incidents_delivery_watch (delivery_id, order_id, customer_id, promised_by, under_way) "
      "VALUES ($1, $2, $3, $4, 1) ON CONFLICT (delivery_id) DO NOTHING",
      {d.delivery_id, d.order_id, d.customer_id, to_unix_ms(d.promised_by)});
}

void unwatch(core::db::Transaction& tx, const std::string& delivery_id) {
  tx.execute("UPDATE incidents_delivery_watch SET under_way = 0 WHERE delivery_id = $1", {delivery_id});
}

std::vector<Watched> overdue(core::db::Transaction& tx, core::TimePoint now, std::size_t limit) {
  std::vector<Watched> out;
  for (const auto& row : tx.query("SELECT delivery_id, order_id, customer_id, promised_by FROM "
                                  "incidents_delivery_watch WHERE under_way = 1 AND promised_by < $1 "
                                  "ORDER BY promised_by LIMIT $2",
                                  {to_unix_ms(now), static_cast<std::int64_t>(limit)})) {
    out.push_back({row.text(0), row.text(1), row.text(2), from_unix_ms(row.integer(3))});
  }
  return out;
}

}  // namespace deliveryhub::incidents::repository
