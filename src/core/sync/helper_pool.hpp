#pragma once
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace deliveryhub::core::sync {

/// Threads kept for running one job's items side by side with its caller — instead of starting
/// threads for every job, which costs a thread creation each and gives every thread-local cache
/// (log buffers, metric handles, a reader connection's slot) a new thread to fill. Thread-safe:
/// concurrent run() calls take turns.
class HelperPool {
 public:
  /// Starts `helpers` threads, idle until run() needs them.
  explicit HelperPool(std::size_t helpers);
  /// Stops and joins the threads (after the job running now, if any).
  ~HelperPool();
  HelperPool(const HelperPool&) = delete;
  HelperPool& operator=(const HelperPool&) = delete;

  /// Calls work(0) … work(count - 1), up to `parallelism` at once: the caller and at most
  /// parallelism - 1 helpers. Returns when every call has returned; if any threw, rethrows the
  /// first exception (the other items still run).
  void run(std::size_t count, std::size_t parallelism, const std::function<void(std::size_t)>& work);

  std::size_t helpers() const { return threads_.size(); }

 private:
  void helper_loop();
  void work_through();  // takes items of the current job until none is left

  std::mutex run_mutex_;  // one job at a time
  std::mutex mutex_;      // guards everything below
  std::condition_variable job_posted_;
  std::condition_variable helper_done_;
  const std::function<void(std::size_t)>* work_ = nullptr;
  std::size_t count_ = 0;
  std::size_t next_ = 0;   // the next item to take
  std::size_t seats_ = 0;  // helpers the current job may still take
  std::size_t helpers_working_ = 0;
  std::exception_ptr first_error_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace deliveryhub::core::sync
