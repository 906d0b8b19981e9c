#include "core/log/line_buffers.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <unordered_map>

namespace deliveryhub::core::log {
namespace {

std::uint64_t next_id() {
  static std::atomic<std::uint64_t> last{0};
  return ++last;
}

void write_fully(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return;  // stdout closed or full disk: a logger cannot report its own failure anywhere
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

}  // namespace

struct LineBuffers::ThreadBuffer {
  std::mutex mutex;  // the owning thread's, taken by the flusher once an interval
  std::string text;
};

LineBuffers::LineBuffers(int fd, std::size_t order_prefix) : fd_(fd), order_prefix_(order_prefix), id_(next_id()) {}

LineBuffers::~LineBuffers() {
  {
    std::lock_guard lock(flusher_mutex_);
    stopping_ = true;
  }
  flusher_wake_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  flush_all();
}

LineBuffers::ThreadBuffer& LineBuffers::mine() {
  // Each thread's buffers, by instance: shared with the registry, which outlives the thread.
  thread_local std::unordered_map<std::uint64_t, std::shared_ptr<ThreadBuffer>> owned;
  auto& slot = owned[id_];
  if (!slot) {
    slot = std::make_shared<ThreadBuffer>();
    std::lock_guard lock(registry_mutex_);
    buffers_.push_back(slot);
  }
  return *slot;
}

void LineBuffers::append(std::string_view lines, bool urgent) {
  auto& buffer = mine();
  std::lock_guard lock(buffer.mutex);
  buffer.text.append(lines);
  if (urgent || buffer.text.size() >= kFlushBytes) write_out(buffer);
}

void LineBuffers::write_out(ThreadBuffer& buffer) {
  std::string_view rest(buffer.text);
  while (!rest.empty()) {
    // Up to kChunkBytes ending at a line's end; a longer line alone.
    std::size_t end = rest.size();
    if (end > kChunkBytes) {
      const auto last_newline = rest.rfind('\n', kChunkBytes - 1);
      end = last_newline == std::string_view::npos ? rest.find('\n') : last_newline;
      end = end == std::string_view::npos ? rest.size() : end + 1;
    }
    write_fully(fd_, rest.substr(0, end));
    rest.remove_prefix(end);
  }
  buffer.text.clear();
}

void LineBuffers::flush_all() {
  std::vector<std::shared_ptr<ThreadBuffer>> all;
  {
    std::lock_guard lock(registry_mutex_);
    all = buffers_;
  }
  // Every buffer held while its lines are written, so that no thread's later lines overtake
  // them (a thread only ever holds its own buffer's lock: no order to deadlock on).
  std::vector<std::unique_lock<std::mutex>> held;
  held.reserve(all.size());
  std::vector<std::string_view> pending;  // what is left of each buffer, line by line
  for (const auto& buffer : all) {
    held.emplace_back(buffer->mutex);
    pending.emplace_back(buffer->text);
  }
  // Merge the threads' lines by their first order_prefix_ bytes (each thread's are in order
  // already; equal keys keep registry order), in chunks of whole lines.
  std::string chunk;
  chunk.reserve(kChunkBytes);
  while (true) {
    std::size_t next = pending.size();
    for (std::size_t i = 0; i < pending.size(); ++i) {
      if (pending[i].empty()) continue;
      if (next == pending.size() || pending[i].substr(0, order_prefix_) < pending[next].substr(0, order_prefix_)) {
        next = i;
      }
    }
    if (next == pending.size()) break;
    auto& rest = pending[next];
    const auto end = rest.find('\n');
    const auto line = rest.substr(0, end == std::string_view::npos ? rest.size() : end + 1);
    if (!chunk.empty() && chunk.size() + line.size() > kChunkBytes) {
      write_fully(fd_, chunk);
      chunk.clear();
    }
    chunk.append(line);
    rest.remove_prefix(line.size());
  }
  if (!chunk.empty()) write_fully(fd_, chunk);
  for (const auto& buffer : all) buffer->text.clear();
  held.clear();
  // Buffers whose thread has ended (the registry's copy and `all`'s are the last) are empty now.
  all.clear();
  std::lock_guard lock(registry_mutex_);
  std::erase_if(buffers_, [](const auto& buffer) { return buffer.use_count() == 1 && buffer->text.empty(); });
}

void LineBuffers::flush_every(std::chrono::milliseconds interval) {
  std::lock_guard lock(flusher_mutex_);
  if (flusher_.joinable() || stopping_) return;
  flusher_ = std::thread([this, interval] {
    std::unique_lock wait_lock(flusher_mutex_);
    while (!stopping_) {
      flusher_wake_.wait_for(wait_lock, interval, [this] { return stopping_; });
      wait_lock.unlock();
      flush_all();
      wait_lock.lock();
    }
  });
}

}  // namespace deliveryhub::core::log
