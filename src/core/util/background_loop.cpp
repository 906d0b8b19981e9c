#include "core/util/background_loop.hpp"

#include "core/log/log.hpp"

namespace deliveryhub::core {

BackgroundLoop::BackgroundLoop(std::string name, std::chrono::milliseconds interval, std::function<void()> tick)
    : name_(std::move(name)), interval_(interval), tick_(std::move(tick)) {}

BackgroundLoop::~BackgroundLoop() {
  stop();
}

void BackgroundLoop::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] {
    while (running_) {
      try {
        tick_();
      } catch (const std::exception& e) {
        log::error(name_ + " failed", {{"error", e.what()}});
      }
      wait();
    }
  });
}

void BackgroundLoop::stop() {
  if (!running_.exchange(false)) return;
  wake();
  if (thread_.joinable()) thread_.join();
}

void BackgroundLoop::wake() {
  {
    std::lock_guard lock(mutex_);
    pending_ = true;
  }
  woken_.notify_one();
}

void BackgroundLoop::wait() {
  std::unique_lock lock(mutex_);
  woken_.wait_for(lock, interval_, [this] { return pending_; });
  pending_ = false;
}

}  // namespace deliveryhub::core
