#pragma once
// The delivery module's public interface: scheduling and cancelling the delivery of an order.
#include "core/util/clock.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deliveryhub::delivery {

enum class DeliveryStatus { unassigned, assigned, picked_up, delivered, failed, cancelled };

/// Where to deliver: a copy of the customer's address at ordering time.
struct DeliveryAddress {
  std::string line1;
  std::string city;
  std::string postal_code;
  std::string country;
};

struct TrackingEvent {
  DeliveryStatus status;
  std::string note;
  core::TimePoint at;
};

struct Delivery {
  std::string id;  // dlv_…
  std::string order_id;
  std::string customer_id;
  std::string zone_id;
  std::optional<std::string> courier_id;  // empty while unassigned
  DeliveryAddress address;
  DeliveryStatus status = DeliveryStatus::unassigned;
  std::vector<TrackingEvent> tracking;
  core::TimePoint promised_by;
  core::TimePoint created_at;
  core::TimePoint updated_at;
  std::int64_t version = 1;
};

struct ScheduleRequest {
  std::string order_id;
  std::string customer_id;
  DeliveryAddress address;
};

/// What scheduling answered: a delivery, or that no zone serves the address.
struct ScheduleOutcome {
  bool zone_served = false;
  std::optional<Delivery> delivery;
};

/// How far a delivery may have gone for a cancellation to stop it. A customer's cancel stops only
/// a delivery the courier has not picked up; the back office (and the saga carrying out a
/// cancellation already accepted) also calls back one that is on its way. None stops a delivery
/// that is delivered or failed: that is final.
enum class StopRule { before_pickup, before_completion };

/// Thread-safe. Idempotent by order id: scheduling an order twice returns the first delivery
/// (a new delivery for the same order is made only by reschedule()). Errors are core::Error.
class DeliveryApi {
 public:
  virtual ~DeliveryApi() = default;
  virtual ScheduleOutcome schedule(const ScheduleRequest& request) = 0;
  /// Cancels the order's active delivery if `rule` allows (a picked-up one only with
  /// before_completion: the courier brings it back); nullopt when the order has none. Repeating
  /// it returns the cancelled delivery. Conflict (with `current_status`) when `rule` refuses, or
  /// once delivered or failed. This is the gate that serialises cancellation with delivery
  /// progress: a courier cannot complete a delivery it cancelled.
  virtual std::optional<Delivery> cancel(std::string_view order_id, StopRule rule) = 0;
  /// A new delivery of the order to the same address (an incident resolved with `redeliver`),
  /// dispatched like any other. Idempotent by `request_id`: a repeat returns the same delivery.
  /// not_found when the order never had a delivery; conflict while one is still under way.
  virtual Delivery redeliver(std::string_view order_id, std::string_view request_id) = 0;
  /// The order's latest delivery.
  virtual std::optional<Delivery> find_by_order(std::string_view order_id) = 0;
};

std::string_view to_string(DeliveryStatus status);
std::string_view to_string(StopRule rule);
/// The rule named `text`, or nullopt.
std::optional<StopRule> stop_rule_from(std::string_view text);

}  // namespace deliveryhub::delivery
