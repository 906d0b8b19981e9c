#pragma once
#include "core/sync/counted_mutex.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <string_view>
#include <vector>

namespace deliveryhub::core::sync {

/// This thread's preferred slot in any AffinePool: threads are numbered as they first ask, so
/// as many threads as a pool has slots each get one of their own.
std::size_t this_thread_pool_hint();

/// A fixed set of objects (connections) lent one at a time, without a shared lock: each thread
/// first tries "its" slot (this_thread_pool_hint() modulo the size), then the others, with one
/// compare-and-swap on a flag on that slot's own cache line. Only when every slot is lent does a
/// taker wait (counted as a wait of the named lock, deliveryhub_lock_* metrics). With at least as many slots
/// as threads that use the pool, a thread always finds its own slot free.
template <class T>
class AffinePool {
 public:
  AffinePool(std::vector<T*> objects, std::string_view lock_name)
      : slots_(objects.size()), counter_(&LockCounter::named(lock_name)) {
    for (std::size_t i = 0; i < objects.size(); ++i) slots_[i].object = objects[i];
  }

  /// An object lent to the caller until the Lease is destroyed; waits while all are lent.
  class Lease {
   public:
    Lease(AffinePool& pool, std::size_t slot) : pool_(pool), slot_(slot) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_.give_back(slot_); }
    T& operator*() const { return *pool_.slots_[slot_].object; }
    T* operator->() const { return pool_.slots_[slot_].object; }

   private:
    AffinePool& pool_;
    std::size_t slot_;
  };

  Lease take() {
    std::size_t slot = 0;
    if (try_take(slot)) return Lease(*this, slot);
    const auto start = std::chrono::steady_clock::now();
    {
      std::unique_lock lock(mutex_);
      waiting_.fetch_add(1, std::memory_order_seq_cst);
      returned_.wait(lock, [&] { return try_take(slot); });
      waiting_.fetch_sub(1, std::memory_order_relaxed);
    }
    counter_->waited(std::chrono::steady_clock::now() - start);
    return Lease(*this, slot);
  }

  std::size_t size() const { return slots_.size(); }

 private:
  struct alignas(64) Slot {
    T* object = nullptr;
    std::atomic<bool> lent{false};
  };

  bool try_take(std::size_t& slot) {
    const std::size_t count = slots_.size();
    const std::size_t first = this_thread_pool_hint() % count;
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t candidate = (first + i) % count;
      auto& lent = slots_[candidate].lent;
      if (!lent.load(std::memory_order_relaxed) && !lent.exchange(true, std::memory_order_acquire)) {
        slot = candidate;
        return true;
      }
    }
    return false;
  }

  void give_back(std::size_t slot) {
    // seq_cst pairs with the waiter's increment: either the waiter's scan (after its increment)
    // sees this slot free, or this load sees the waiter and wakes it under the mutex, which the
    // waiter holds from its scan until it sleeps.
    slots_[slot].lent.store(false, std::memory_order_seq_cst);
    if (waiting_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard lock(mutex_);
      returned_.notify_one();
    }
  }

  std::vector<Slot> slots_;
  std::atomic<int> waiting_{0};
  LockCounter* counter_;  // counts the takes that found every slot lent, and their waits
  std::mutex mutex_;
  std::condition_variable returned_;
};

}  // namespace deliveryhub::core::sync
