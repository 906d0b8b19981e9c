#include "late_watch.hpp"

#include "core/log/log.hpp"

namespace deliveryhub::incidents {

LateWatch::LateWatch(IncidentService& incidents, std::chrono::milliseconds interval)
    : incidents_(incidents), interval_(interval) {}

LateWatch::~LateWatch() {
  stop();
}

void LateWatch::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] {
    while (running_) {
      signal_.wait_for(interval_);
      if (!running_) break;
      try {
        incidents_.open_late_incidents();
      } catch (const std::exception& e) {
        core::log::error("late-incident check failed", {{"error", e.what()}});
      }
    }
  });
}

void LateWatch::stop() {
  if (!running_.exchange(false)) return;
  signal_.notify();
  if (thread_.joinable()) thread_.join();
}

}  // namespace deliveryhub::incidents
