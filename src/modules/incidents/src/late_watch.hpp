#pragma once
#include "core/events/outbox.hpp"
#include "service.hpp"

#include <atomic>
#include <chrono>
#include <thread>

namespace deliveryhub::incidents {

/// A background thread that opens `late` incidents every `interval` (IncidentService::
/// open_late_incidents). Stops on stop() or destruction.
class LateWatch {
 public:
  LateWatch(IncidentService& incidents, std::chrono::milliseconds interval);
  ~LateWatch();
  void start();
  void stop();

 private:
  IncidentService& incidents_;
  std::chrono::milliseconds interval_;
  core::events::OutboxSignal signal_;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace deliveryhub::incidents
