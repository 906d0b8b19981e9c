#pragma once
#include "core/events/bus.hpp"
#include "core/metrics/metrics.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace deliveryhub::core::events {

struct AmqpOptions {
  std::string url;                             // amqp://user:pass@host:port/vhost
  std::string prefix = "deliveryhub";          // exchange <prefix>.events (topic, routed by event type),
                                               // queues <prefix>.<module>, .retry and .dlq
  int max_attempts = 5;                        // a message that fails this often goes to the DLQ
  std::chrono::milliseconds first_retry{500};  // delay before the 2nd attempt; doubles each time
  std::chrono::milliseconds max_retry{30'000};
  std::chrono::milliseconds timeout{5'000};  // connect, RPCs and each publisher confirm
  unsigned prefetch = 32;
};

/// The event bus of the split shape, on RabbitMQ (ADR 0013).
/// - publish: a persistent message on the topic exchange, routed by event type. It returns only
///   after the broker's publisher confirm, so the relay marks an outbox row delivered only once
///   the broker owns the event. While the broker is down it throws, and the outbox keeps the
///   events for the relay's next attempt.
/// - consume: every consuming module of this process has a durable queue `<prefix>.<module>`, bound to
///   exactly the event types it subscribes to. One consumer thread applies each message through
///   the inbox (deliver_once) and acks it after the inbox transaction committed. A failure goes
///   to `<prefix>.<module>.retry` with a growing per-message TTL, which dead-letters it back to the
///   queue. After `max_attempts`, or at once for a body that is not an event, it goes to
///   `<prefix>.<module>.dlq`. Replicas share the queue; their inboxes make a redelivery a no-op.
/// - Connections recover with backoff, up to 5 s between attempts.
class AmqpBus final : public EventBus {
 public:
  AmqpBus(AmqpOptions options, metrics::Metrics& metrics);
  ~AmqpBus() override;

  void subscribe(Subscription subscription) override;
  void publish(const Envelope& envelope) override;
  void start() override;
  void stop() override;

  /// True while the consumer holds a connection with its queues declared (a test hook).
  bool consuming() const { return consuming_; }

 private:
  class Connection;
  void consume_loop();
  void handle_message(Connection& connection, const std::string& module, const std::string& type,
                      const std::string& body, int attempts, std::uint64_t delivery_tag);
  void declare_topology(Connection& connection);
  void read_dead_letter_depths(Connection& connection);
  void sleep_interruptibly(std::chrono::milliseconds delay);
  std::string exchange() const { return options_.prefix + ".events"; }
  std::string queue_of(const std::string& module) const { return options_.prefix + "." + module; }

  AmqpOptions options_;
  std::map<std::string, std::vector<Subscription>> by_module_;  // consuming module → its subscriptions
  std::mutex publish_mutex_;
  std::unique_ptr<Connection> publisher_;
  std::chrono::steady_clock::time_point next_publisher_attempt_{};
  std::chrono::milliseconds publisher_backoff_{0};
  std::thread consumer_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> consuming_{false};
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  prometheus::Family<prometheus::Counter>& published_;
  prometheus::Family<prometheus::Counter>& consumed_;
  prometheus::Family<prometheus::Gauge>& dead_letter_depth_;
};

}  // namespace deliveryhub::core::events
