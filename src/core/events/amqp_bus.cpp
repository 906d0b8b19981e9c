#include "core/events/amqp_bus.hpp"

#include "core/errors.hpp"
#include "core/log/log.hpp"

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace deliveryhub::core::events {

namespace {

constexpr amqp_channel_t kChannel = 1;
constexpr amqp_channel_t kMetricsChannel = 2;
constexpr const char* kAttemptsHeader = "x-deliveryhub-attempts";
constexpr const char* kErrorHeader = "x-deliveryhub-error";

std::string to_string(amqp_bytes_t bytes) {
  return bytes.bytes == nullptr ? std::string() : std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

amqp_bytes_t bytes_of(const std::string& text) {
  return amqp_bytes_t{text.size(), const_cast<char*>(text.data())};
}

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

std::string describe(const amqp_rpc_reply_t& reply) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return "ok";
    case AMQP_RESPONSE_NONE:
      return "no reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return amqp_error_string2(reply.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD || reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const auto* close = static_cast<amqp_channel_close_t*>(reply.reply.decoded);
        return "broker closed: " + std::to_string(close->reply_code) + " " + to_string(close->reply_text);
      }
      return "broker error, method " + std::to_string(reply.reply.id);
  }
  return "unknown";
}

// The int value of `name` in a message's headers, or 0.
int header_int(const amqp_basic_properties_t& properties, const char* name) {
  if ((properties._flags & AMQP_BASIC_HEADERS_FLAG) == 0) return 0;
  for (int i = 0; i < properties.headers.num_entries; ++i) {
    const auto& entry = properties.headers.entries[i];
    if (to_string(entry.key) != name) continue;
    switch (entry.value.kind) {
      case AMQP_FIELD_KIND_I32:
        return entry.value.value.i32;
      case AMQP_FIELD_KIND_I64:
        return static_cast<int>(entry.value.value.i64);
      default:
        return 0;
    }
  }
  return 0;
}

}  // namespace

/// One AMQP connection with channel 1 open. Not thread-safe: one thread uses it.
class AmqpBus::Connection {
 public:
  Connection(const std::string& url, std::chrono::milliseconds timeout) : state_(amqp_new_connection()) {
    try {
      open(url, timeout);
    } catch (...) {  // the destructor will not run: free what amqp_new_connection made
      amqp_destroy_connection(state_);
      throw;
    }
  }

  void open(const std::string& url, std::chrono::milliseconds timeout) {
    std::vector<char> buffer(url.begin(), url.end());
    buffer.push_back('\0');
    amqp_connection_info info;
    amqp_default_connection_info(&info);
    if (amqp_parse_url(buffer.data(), &info) != AMQP_STATUS_OK) fail("not an amqp:// URL");
    static char default_vhost[] = "/";
    if (info.vhost == nullptr || info.vhost[0] == '\0') info.vhost = default_vhost;  // "amqp://host/" means "/"
    auto* socket = amqp_tcp_socket_new(state_);
    if (socket == nullptr) fail("cannot create a socket");
    const auto connect_timeout = to_timeval(timeout);
    if (int status = amqp_socket_open_noblock(socket, info.host, info.port, &connect_timeout);
        status != AMQP_STATUS_OK) {
      fail(std::string("cannot connect: ") + amqp_error_string2(status));
    }
    amqp_set_rpc_timeout(state_, &connect_timeout);
    check(amqp_login(state_, info.vhost, 0, 131072, 30, AMQP_SASL_METHOD_PLAIN, info.user, info.password), "login");
    amqp_channel_open(state_, kChannel);
    check(amqp_get_rpc_reply(state_), "channel.open");
  }
  ~Connection() {
    amqp_channel_close(state_, kChannel, AMQP_REPLY_SUCCESS);
    amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(state_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  amqp_connection_state_t get() const { return state_; }

  void check(const amqp_rpc_reply_t& reply, const char* what) const {
    if (reply.reply_type != AMQP_RESPONSE_NORMAL) fail(std::string(what) + ": " + describe(reply));
  }
  void check_last(const char* what) const { check(amqp_get_rpc_reply(state_), what); }

  [[noreturn]] static void fail(const std::string& message) { throw std::runtime_error("AMQP: " + message); }

  /// Publishes on channel 1; `confirm`: waits for the broker's ack (channel in confirm mode).
  void publish(const std::string& exchange, const std::string& routing_key, const std::string& body,
               amqp_basic_properties_t& properties, bool confirm, std::chrono::milliseconds timeout) {
    if (int status = amqp_basic_publish(state_, kChannel, bytes_of(exchange), bytes_of(routing_key), 0, 0, &properties,
                                        bytes_of(body));
        status != AMQP_STATUS_OK) {
      fail(std::string("publish: ") + amqp_error_string2(status));
    }
    if (!confirm) return;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) fail("no publisher confirm within the timeout");
      auto wait = to_timeval(left);
      amqp_frame_t frame;
      if (int status = amqp_simple_wait_frame_noblock(state_, &frame, &wait); status != AMQP_STATUS_OK) {
        fail(std::string("waiting for the confirm: ") + amqp_error_string2(status));
      }
      if (frame.frame_type != AMQP_FRAME_METHOD) continue;
      switch (frame.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD:
          return;  // one publish in flight at a time: this ack is ours
        case AMQP_BASIC_NACK_METHOD:
          fail("the broker refused the message (nack)");
        case AMQP_CHANNEL_CLOSE_METHOD:
        case AMQP_CONNECTION_CLOSE_METHOD:
          fail("the broker closed the channel");
        default:
          continue;
      }
    }
  }

 private:
  amqp_connection_state_t state_;
};

AmqpBus::AmqpBus(AmqpOptions options, metrics::Metrics& metrics)
    : options_(std::move(options)),
      published_(prometheus::BuildCounter()
                     .Name("deliveryhub_events_published_total")
                     .Help("Events handed to the broker, by outcome (confirmed, failed)")
                     .Register(metrics.registry())),
      consumed_(prometheus::BuildCounter()
                    .Name("deliveryhub_events_consumed_total")
                    .Help("Broker messages taken by a consuming module, by outcome (applied, retried, "
                          "dead_lettered)")
                    .Register(metrics.registry())),
      dead_letter_depth_(prometheus::BuildGauge()
                             .Name("deliveryhub_events_dead_letter_queue_depth")
                             .Help("Messages waiting in a consuming module's dead-letter queue (read every 5 s)")
                             .Register(metrics.registry())) {}

AmqpBus::~AmqpBus() {
  stop();
}

void AmqpBus::subscribe(Subscription subscription) {
  by_module_[subscription.module].push_back(std::move(subscription));
}

void AmqpBus::publish(const Envelope& envelope) {
  std::lock_guard lock(publish_mutex_);
  // While the broker is down, fail fast between reconnection attempts (the outbox keeps the
  // event). Outside the try below: waiting out the pause must not lengthen it.
  if (!publisher_ && std::chrono::steady_clock::now() < next_publisher_attempt_) {
    published_.Add({{"outcome", "failed"}}).Increment();
    throw BusUnavailable("AMQP: broker unavailable; reconnecting later");
  }
  try {
    if (!publisher_) {
      auto connection = std::make_unique<Connection>(options_.url, options_.timeout);
      amqp_confirm_select(connection->get(), kChannel);
      connection->check_last("confirm.select");
      amqp_exchange_declare(connection->get(), kChannel, bytes_of(exchange()), amqp_cstring_bytes("topic"), 0, 1, 0, 0,
                            amqp_empty_table);
      connection->check_last("exchange.declare");
      publisher_ = std::move(connection);
      publisher_backoff_ = std::chrono::milliseconds(0);
    }
    const std::string body = to_json(envelope).dump();
    amqp_basic_properties_t properties{};
    properties._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
                        AMQP_BASIC_TYPE_FLAG;
    properties.content_type = amqp_cstring_bytes("application/json");
    properties.delivery_mode = 2;  // persistent
    properties.message_id = bytes_of(envelope.id);
    properties.type = bytes_of(envelope.type);
    publisher_->publish(exchange(), envelope.type, body, properties, true, options_.timeout);
    published_.Add({{"outcome", "confirmed"}}).Increment();
  } catch (const std::exception& e) {
    published_.Add({{"outcome", "failed"}}).Increment();
    publisher_backoff_ =
        std::clamp(publisher_backoff_ * 2, std::chrono::milliseconds(100), std::chrono::milliseconds(5000));
    next_publisher_attempt_ = std::chrono::steady_clock::now() + publisher_backoff_;
    publisher_.reset();
    // No connection, no confirm, a closed channel: the broker, not this event. (A nack, too: the
    // broker refused to take it now; it is asked again after the reconnection pause.)
    throw BusUnavailable(e.what());
  }
}

void AmqpBus::start() {
  if (by_module_.empty() || consumer_.joinable()) return;  // nothing consumed here
  stopping_ = false;
  consumer_ = std::thread([this] { consume_loop(); });
}

void AmqpBus::stop() {
  stopping_ = true;
  wake_.notify_all();
  if (consumer_.joinable()) consumer_.join();
  std::lock_guard lock(publish_mutex_);
  publisher_.reset();
}

void AmqpBus::sleep_interruptibly(std::chrono::milliseconds delay) {
  std::unique_lock lock(sleep_mutex_);
  wake_.wait_for(lock, delay, [this] { return stopping_.load(); });
}

void AmqpBus::declare_topology(Connection& connection) {
  auto* state = connection.get();
  amqp_exchange_declare(state, kChannel, bytes_of(exchange()), amqp_cstring_bytes("topic"), 0, 1, 0, 0,
                        amqp_empty_table);
  connection.check_last("exchange.declare");
  for (const auto& [module, subscriptions] : by_module_) {
    const std::string queue = queue_of(module);
    amqp_queue_declare(state, kChannel, bytes_of(queue), 0, 1, 0, 0, amqp_empty_table);
    connection.check_last("queue.declare");
    std::set<std::string> types;
    for (const auto& subscription : subscriptions) types.insert(subscription.event_type);
    for (const auto& type : types) {
      amqp_queue_bind(state, kChannel, bytes_of(queue), bytes_of(exchange()), bytes_of(type), amqp_empty_table);
      connection.check_last("queue.bind");
    }
    // Retries wait out their per-message TTL here, then dead-letter back to the queue.
    const std::string retry = queue + ".retry";
    amqp_table_entry_t entries[2];
    entries[0].key = amqp_cstring_bytes("x-dead-letter-exchange");
    entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[0].value.value.bytes = amqp_cstring_bytes("");
    entries[1].key = amqp_cstring_bytes("x-dead-letter-routing-key");
    entries[1].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[1].value.value.bytes = bytes_of(queue);
    amqp_table_t arguments{2, entries};
    amqp_queue_declare(state, kChannel, bytes_of(retry), 0, 1, 0, 0, arguments);
    connection.check_last("queue.declare (retry)");
    amqp_queue_declare(state, kChannel, bytes_of(queue + ".dlq"), 0, 1, 0, 0, amqp_empty_table);
    connection.check_last("queue.declare (dlq)");
  }
  amqp_basic_qos(state, kChannel, 0, static_cast<std::uint16_t>(options_.prefetch), 0);
  connection.check_last("basic.qos");
  for (const auto& entry : by_module_) {
    const std::string queue = queue_of(entry.first);
    amqp_basic_consume(state, kChannel, bytes_of(queue), bytes_of(entry.first), 0, 0, 0, amqp_empty_table);
    connection.check_last("basic.consume");
  }
}

void AmqpBus::consume_loop() {
  std::chrono::milliseconds backoff{100};
  while (!stopping_) {
    try {
      Connection connection(options_.url, options_.timeout);
      declare_topology(connection);
      amqp_channel_open(connection.get(), kMetricsChannel);
      connection.check_last("channel.open (metrics)");
      consuming_ = true;
      log::info("consuming events from the broker", {{"queues", by_module_.size()}});
      backoff = std::chrono::milliseconds(100);
      auto next_depth_check = std::chrono::steady_clock::now();
      while (!stopping_) {
        if (std::chrono::steady_clock::now() >= next_depth_check) {
          read_dead_letter_depths(connection);
          next_depth_check = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        }
        amqp_maybe_release_buffers(connection.get());
        amqp_envelope_t message;
        auto poll = to_timeval(std::chrono::milliseconds(200));
        const auto reply = amqp_consume_message(connection.get(), &message, &poll, 0);
        if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_TIMEOUT) continue;
        if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
            reply.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
          amqp_frame_t frame;
          if (amqp_simple_wait_frame(connection.get(), &frame) != AMQP_STATUS_OK) Connection::fail("connection lost");
          if (frame.frame_type == AMQP_FRAME_METHOD && (frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
                                                        frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD)) {
            Connection::fail("the broker closed the channel");
          }
          continue;
        }
        connection.check(reply, "basic.consume");
        struct Release {
          amqp_envelope_t* message;
          ~Release() { amqp_destroy_envelope(message); }
        } release{&message};
        const auto& properties = message.message.properties;
        const std::string type = (properties._flags & AMQP_BASIC_TYPE_FLAG) != 0 ? to_string(properties.type)
                                                                                 : to_string(message.routing_key);
        handle_message(connection, to_string(message.consumer_tag), type, to_string(message.message.body),
                       header_int(properties, kAttemptsHeader), message.delivery_tag);
      }
    } catch (const std::exception& e) {
      consuming_ = false;
      if (stopping_) break;
      log::warn("event consumer lost the broker; reconnecting",
                {{"error", e.what()}, {"retry_in_ms", backoff.count()}});
      sleep_interruptibly(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }
  consuming_ = false;
}

void AmqpBus::read_dead_letter_depths(Connection& connection) {
  for (const auto& entry : by_module_) {
    const std::string dlq = queue_of(entry.first) + ".dlq";
    // Passive: only reads the queue's message count (on a channel of its own; deliveries on
    // channel 1 that arrive meanwhile are queued by the library).
    auto* ok = amqp_queue_declare(connection.get(), kMetricsChannel, bytes_of(dlq), 1, 1, 0, 0, amqp_empty_table);
    connection.check_last("queue.declare (passive)");
    dead_letter_depth_.Add({{"module", entry.first}}).Set(static_cast<double>(ok->message_count));
  }
}

void AmqpBus::handle_message(Connection& connection, const std::string& module, const std::string& type,
                             const std::string& body, int attempts, std::uint64_t delivery_tag) {
  std::string error;
  bool poison = false;
  std::optional<Envelope> envelope;
  try {
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded()) throw Error(ErrorKind::bad_request, "the message body is not JSON");
    envelope = envelope_from_json(json);
  } catch (const Error& e) {  // not an event: no retry will make it one
    error = "not an event: " + e.detail();
    poison = true;
  }
  if (envelope) {
    try {
      for (const auto& subscription : by_module_[module]) {
        if (subscription.event_type == envelope->type) deliver_once(subscription, *envelope);
      }
    } catch (const Error& e) {  // e.g. a provider down: the handler may succeed later
      error = e.detail();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  const std::string queue = queue_of(module);
  if (!error.empty()) {
    const int next_attempt = attempts + 1;
    const bool dead = poison || next_attempt >= options_.max_attempts;
    amqp_table_entry_t entries[2];
    entries[0].key = amqp_cstring_bytes(kAttemptsHeader);
    entries[0].value.kind = AMQP_FIELD_KIND_I32;
    entries[0].value.value.i32 = next_attempt;
    entries[1].key = amqp_cstring_bytes(kErrorHeader);
    entries[1].value.kind = AMQP_FIELD_KIND_UTF8;
    const std::string short_error = error.substr(0, 512);
    entries[1].value.value.bytes = bytes_of(short_error);
    amqp_basic_properties_t properties{};
    properties._flags =
        AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_HEADERS_FLAG;
    properties.content_type = amqp_cstring_bytes("application/json");
    properties.delivery_mode = 2;
    properties.type = bytes_of(type);
    properties.headers = amqp_table_t{2, entries};
    std::string expiration;
    if (!dead) {
      const auto delay =
          std::min<std::int64_t>(options_.max_retry.count(), options_.first_retry.count() << std::min(attempts, 20));
      expiration = std::to_string(delay);
      properties._flags |= AMQP_BASIC_EXPIRATION_FLAG;
      properties.expiration = bytes_of(expiration);
    }
    // Published before the ack on the same channel: a crash in between redelivers, never loses.
    connection.publish("", dead ? queue + ".dlq" : queue + ".retry", body, properties, false, options_.timeout);
    consumed_.Add({{"module", module}, {"outcome", dead ? "dead_lettered" : "retried"}}).Increment();
    const nlohmann::json fields{{"module", module}, {"event_type", type}, {"attempts", next_attempt}, {"error", error}};
    if (dead) {
      log::error("event dead-lettered", fields);
    } else {
      log::warn("event handling failed; will retry", fields);
    }
  } else {
    consumed_.Add({{"module", module}, {"outcome", "applied"}}).Increment();
  }
  if (int status = amqp_basic_ack(connection.get(), kChannel, delivery_tag, 0); status != AMQP_STATUS_OK) {
    Connection::fail(std::string("ack: ") + amqp_error_string2(status));
  }
}

}  // namespace deliveryhub::core::events
