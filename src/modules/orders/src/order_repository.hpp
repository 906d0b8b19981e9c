#pragma once
#include "core/db/database.hpp"
#include "orders/api.hpp"

#include <optional>
#include <string>
#include <vector>

/// The SQL of orders and their saga. Every function runs in the caller's transaction.
namespace deliveryhub::orders::order_repository {

void insert(core::db::Transaction& tx, const Order& order, const std::string& payment_method);
std::optional<Order> find(core::db::Transaction& tx, const std::string& id);
/// Writes status, payment_id, delivery_id and rejection_reason if the version matches, bumps
/// it and appends the status to the history when it changed. False when the version did not match.
bool update(core::db::Transaction& tx, const Order& order, bool status_changed);
/// Adds a refund made by payments to the order's refunded_amount.
void add_refund(core::db::Transaction& tx, const std::string& order_id, std::int64_t amount, core::TimePoint now);
std::vector<Order> list(core::db::Transaction& tx, const std::optional<std::string>& customer_id,
                        const std::optional<std::string>& status, const std::optional<std::string>& before_id,
                        std::size_t limit);
std::string payment_method_of(core::db::Transaction& tx, const std::string& order_id);

/// How many orders are in each status (statuses without orders absent), and how many sagas are
/// unfinished: the operator's dashboard. Scans orders; one GROUP BY per call.
struct OrderCounts {
  std::vector<std::pair<std::string, std::int64_t>> by_status;
  std::int64_t unfinished_sagas = 0;
};
OrderCounts counts(core::db::Transaction& tx);

struct SagaRow {
  std::string order_id;
  std::string step;
  std::int64_t attempts = 0;
  std::string trace_id;  // of the request that started (or redirected) it, for its log lines
};
void start_saga(core::db::Transaction& tx, const std::string& order_id, const std::string& step, core::TimePoint now,
                const std::string& trace_id);
/// Claims up to `limit` due sagas no live claim holds for `runner` until `lease_until`, and
/// returns them. A claim ends when the saga finishes or waits for a retry, or when it expires.
std::vector<SagaRow> claim_due_sagas(core::db::Transaction& tx, const std::string& runner, core::TimePoint now,
                                     core::TimePoint lease_until, std::size_t limit);
std::optional<SagaRow> find_saga(core::db::Transaction& tx, const std::string& order_id);
void set_step(core::db::Transaction& tx, const std::string& order_id, const std::string& step);
/// Points the order's saga at `step`, due now: reopens a finished saga or starts one.
void redirect_saga(core::db::Transaction& tx, const std::string& order_id, const std::string& step, core::TimePoint now,
                   const std::string& trace_id);
void finish_saga(core::db::Transaction& tx, const std::string& order_id, core::TimePoint now);
void retry_saga(core::db::Transaction& tx, const std::string& order_id, std::int64_t attempts,
                core::TimePoint next_attempt, const std::string& error);
std::int64_t unfinished_sagas(core::db::Transaction& tx);

}  // namespace deliveryhub::orders::order_repository
