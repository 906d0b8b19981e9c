#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace deliveryhub::core::log {

/// Where log lines wait on their way to a file descriptor: a buffer per thread, so that threads
/// logging at once take no lock in common (ADR 0030). A thread's lines leave in its order, in
/// write() calls of whole lines of at most kChunkBytes each where the lines allow (one write of
/// up to PIPE_BUF bytes to a pipe is never interleaved with another's):
/// - when its buffer passes kFlushBytes, or at once for an urgent line (a warning or worse);
/// - every `interval` of flush_every(), for every thread;
/// - at flush_all() (shutdown) and when this object is destroyed.
/// So a crash loses at most the last interval's non-urgent lines: the log's contract. flush_all()
/// merges the threads' lines by their first `order_prefix` bytes (the log's: its `ts`), so what
/// it writes is in time order across threads.
class LineBuffers {
 public:
  static constexpr std::size_t kFlushBytes = 4096;
  static constexpr std::size_t kChunkBytes = 4096;

  explicit LineBuffers(int fd, std::size_t order_prefix = 0);
  ~LineBuffers();
  LineBuffers(const LineBuffers&) = delete;
  LineBuffers& operator=(const LineBuffers&) = delete;

  /// Appends `lines` (whole lines, each ending in '\n') to the calling thread's buffer.
  void append(std::string_view lines, bool urgent);
  /// Writes every thread's buffered lines now.
  void flush_all();
  /// Starts one thread that runs flush_all() every `interval` until destruction (later calls
  /// change nothing).
  void flush_every(std::chrono::milliseconds interval);

 private:
  struct ThreadBuffer;
  ThreadBuffer& mine();
  void write_out(ThreadBuffer& buffer);  // the caller holds buffer.mutex

  int fd_;
  std::size_t order_prefix_;
  std::uint64_t id_;           // tells instances apart in the threads' tables
  std::mutex registry_mutex_;  // taken when a thread first logs and by flush_all, never per line
  std::vector<std::shared_ptr<ThreadBuffer>> buffers_;
  std::mutex flusher_mutex_;
  std::condition_variable flusher_wake_;
  bool stopping_ = false;
  std::thread flusher_;
};

}  // namespace deliveryhub::core::log
