#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>

/// Locks that count how often they were found held and how long their takers waited: the
/// evidence of what serialises the process (`deliveryhub_lock_*` metrics). An uncontended
/// acquisition costs one try_lock more than the plain lock — no clock read, no shared write.
namespace deliveryhub::core::sync {

/// What the takers of one named lock waited, since the process started.
struct LockWaits {
  std::uint64_t contended = 0;  // acquisitions that found the lock held
  std::uint64_t wait_ns = 0;    // time those spent waiting for it
};

/// The counters of every lock of one name (all instances together). Lives as long as the process.
class LockCounter {
 public:
  /// The counter of `name`, created on first use; the same object for every later call.
  static LockCounter& named(std::string_view name);
  void waited(std::chrono::steady_clock::duration waited) {
    contended_.fetch_add(1, std::memory_order_relaxed);
    wait_ns_.fetch_add(static_cast<std::uint64_t>(std::chrono::nanoseconds(waited).count()), std::memory_order_relaxed);
  }
  LockWaits read() const {
    return {contended_.load(std::memory_order_relaxed), wait_ns_.load(std::memory_order_relaxed)};
  }

 private:
  std::atomic<std::uint64_t> contended_{0};
  std::atomic<std::uint64_t> wait_ns_{0};
};

/// Every named lock's waits so far, by name (names used at least once).
std::map<std::string, LockWaits> lock_waits();

/// A std::mutex with a name whose waits are counted. Lockable: std::lock_guard, std::unique_lock
/// and std::condition_variable_any take it.
class CountedMutex {
 public:
  explicit CountedMutex(std::string_view name) : counter_(&LockCounter::named(name)) {}
  void lock() {
    if (mutex_.try_lock()) return;
    const auto start = std::chrono::steady_clock::now();
    mutex_.lock();
    counter_->waited(std::chrono::steady_clock::now() - start);
  }
  bool try_lock() { return mutex_.try_lock(); }
  void unlock() { mutex_.unlock(); }

 private:
  std::mutex mutex_;
  LockCounter* counter_;
};

/// A std::shared_mutex with a name whose waits, shared or exclusive, are counted.
class CountedSharedMutex {
 public:
  explicit CountedSharedMutex(std::string_view name) : counter_(&LockCounter::named(name)) {}
  void lock() {
    if (mutex_.try_lock()) return;
    const auto start = std::chrono::steady_clock::now();
    mutex_.lock();
    counter_->waited(std::chrono::steady_clock::now() - start);
  }
  bool try_lock() { return mutex_.try_lock(); }
  void unlock() { mutex_.unlock(); }
  void lock_shared() {
    if (mutex_.try_lock_shared()) return;
    const auto start = std::chrono::steady_clock::now();
    mutex_.lock_shared();
    counter_->waited(std::chrono::steady_clock::now() - start);
  }
  bool try_lock_shared() { return mutex_.try_lock_shared(); }
  void unlock_shared() { mutex_.unlock_shared(); }

 private:
  std::shared_mutex mutex_;
  LockCounter* counter_;
};

}  // namespace deliveryhub::core::sync
