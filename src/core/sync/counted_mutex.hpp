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

/// A mutex (std::mutex, std::shared_mutex) with a name whose waits are counted. Lockable:
/// std::lock_guard, std::unique_lock and std::condition_variable_any take it.
template <class Mutex>
class BasicCountedMutex {
 public:
  explicit BasicCountedMutex(std::string_view name) : counter_(&LockCounter::named(name)) {}
  void lock() {
    acquire([this] { return mutex_.try_lock(); }, [this] { mutex_.lock(); });
  }
  bool try_lock() { return mutex_.try_lock(); }
  void unlock() { mutex_.unlock(); }

 protected:
  // Takes the lock through `try_take`, or when that fails through `take`, counting the wait.
  template <class TryTake, class Take>
  void acquire(const TryTake& try_take, const Take& take) {
    if (try_take()) return;
    const auto start = std::chrono::steady_clock::now();
    take();
    counter_->waited(std::chrono::steady_clock::now() - start);
  }
  Mutex mutex_;

 private:
  LockCounter* counter_;
};

using CountedMutex = BasicCountedMutex<std::mutex>;

/// A std::shared_mutex with a name whose waits, shared or exclusive, are counted.
class CountedSharedMutex : public BasicCountedMutex<std::shared_mutex> {
 public:
  using BasicCountedMutex::BasicCountedMutex;
  void lock_shared() {
    acquire([this] { return mutex_.try_lock_shared(); }, [this] { mutex_.lock_shared(); });
  }
  bool try_lock_shared() { return mutex_.try_lock_shared(); }
  void unlock_shared() { mutex_.unlock_shared(); }
};

}  // namespace deliveryhub::core::sync
