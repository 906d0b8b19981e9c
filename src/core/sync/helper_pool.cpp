#include "core/sync/helper_pool.hpp"

#include <algorithm>
#include <utility>

namespace deliveryhub::core::sync {

HelperPool::HelperPool(std::size_t helpers) {
  threads_.reserve(helpers);
  for (std::size_t i = 0; i < helpers; ++i) threads_.emplace_back([this] { helper_loop(); });
}

HelperPool::~HelperPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  job_posted_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void HelperPool::run(std::size_t count, std::size_t parallelism, const std::function<void(std::size_t)>& work) {
  if (count == 0) return;
  std::lock_guard turn(run_mutex_);
  const std::size_t seats = std::min({std::max<std::size_t>(parallelism, 1) - 1, count - 1, threads_.size()});
  {
    std::lock_guard lock(mutex_);
    work_ = &work;
    count_ = count;
    next_ = 0;
    seats_ = seats;
    first_error_ = nullptr;
  }
  if (seats == 1) job_posted_.notify_one();
  if (seats > 1) job_posted_.notify_all();
  work_through();
  std::unique_lock lock(mutex_);
  // No helper may take a seat once the caller is done: one that had not started finds none.
  seats_ = 0;
  helper_done_.wait(lock, [this] { return helpers_working_ == 0; });
  work_ = nullptr;
  if (first_error_) std::rethrow_exception(std::exchange(first_error_, nullptr));
}

void HelperPool::work_through() {
  std::unique_lock lock(mutex_);
  while (next_ < count_) {
    const std::size_t item = next_++;
    const auto* work = work_;
    lock.unlock();
    try {
      (*work)(item);
    } catch (...) {
      lock.lock();
      if (!first_error_) first_error_ = std::current_exception();
      continue;
    }
    lock.lock();
  }
}

void HelperPool::helper_loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    job_posted_.wait(lock, [this] { return stopping_ || (seats_ > 0 && next_ < count_); });
    if (stopping_) return;
    --seats_;
    ++helpers_working_;
    lock.unlock();
    work_through();
    lock.lock();
    --helpers_working_;
    if (helpers_working_ == 0) helper_done_.notify_all();
  }
}

}  // namespace deliveryhub::core::sync
