#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace deliveryhub::core {

/// One thread that runs `tick`, then waits `interval` or until wake(), and again, until stop()
/// (or destruction). A tick that throws is logged under `name` and the loop goes on. For the
/// background work of modules (the order saga's runner, the late-incident watch).
class BackgroundLoop {
 public:
  BackgroundLoop(std::string name, std::chrono::milliseconds interval, std::function<void()> tick);
  ~BackgroundLoop();
  BackgroundLoop(const BackgroundLoop&) = delete;
  BackgroundLoop& operator=(const BackgroundLoop&) = delete;

  void start();
  /// Returns once the current tick (if any) has finished and the thread has ended.
  void stop();
  /// Runs the next tick now rather than after the interval.
  void wake();

 private:
  void wait();

  std::string name_;
  std::chrono::milliseconds interval_;
  std::function<void()> tick_;
  std::mutex mutex_;
  std::condition_variable woken_;
  bool pending_ = false;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace deliveryhub::core
