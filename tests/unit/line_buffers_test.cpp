// Log lines buffered per thread on their way to a file descriptor.
#include "core/log/line_buffers.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using deliveryhub::core::log::LineBuffers;

namespace {

// A temp file to write to, and what it holds.
class Sink {
 public:
  Sink() : path_(std::filesystem::temp_directory_path() / ("line_buffers_" + std::to_string(::getpid()))) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd_ >= 0);
  }
  ~Sink() {
    ::close(fd_);
    std::filesystem::remove(path_);
  }
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;
  int fd() const { return fd_; }
  std::string text() const {
    std::ifstream in(path_);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

 private:
  std::filesystem::path path_;
  int fd_;
};

}  // namespace

TEST_CASE("lines wait in their thread's buffer until a flush, a full buffer or an urgent line") {
  Sink sink;
  LineBuffers buffers(sink.fd());
  buffers.append("one\n", false);
  buffers.append("two\n", false);
  CHECK(sink.text().empty());
  buffers.append("a warning\n", true);  // takes what waited before it along, in order
  CHECK(sink.text() == "one\ntwo\na warning\n");
  const std::string line(100, 'x');
  std::size_t appended = 0;
  while (appended < LineBuffers::kFlushBytes - 101) {
    buffers.append(line + "\n", false);
    appended += 101;
  }
  CHECK(sink.text().size() == 18);  // not yet 4 KiB
  buffers.append(line + "\n", false);
  CHECK(sink.text().size() == 18 + appended + 101);
  buffers.append("last\n", false);
  buffers.flush_all();
  CHECK(sink.text().ends_with(line + "\nlast\n"));
}

TEST_CASE("threads logging at once lose no line, split none, and keep each thread's order") {
  Sink sink;
  constexpr int kThreads = 8;
  constexpr int kLines = 3000;
  {
    LineBuffers buffers(sink.fd());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&buffers, t] {
        for (int n = 0; n < kLines; ++n) {
          buffers.append(
              "thread " + std::to_string(t) + " line " + std::to_string(n) + " " + std::string(n % 97, '.') + "\n",
              n % 500 == 0);
        }
      });
    }
    buffers.flush_every(std::chrono::milliseconds(5));
    for (auto& thread : threads) thread.join();
  }  // destruction flushes the rest, including the buffers of threads that have ended
  std::istringstream lines(sink.text());
  std::map<int, int> next;
  int count = 0;
  for (std::string line; std::getline(lines, line);) {
    int t = -1;
    int n = -1;
    REQUIRE(std::sscanf(line.c_str(), "thread %d line %d", &t, &n) == 2);
    REQUIRE(line == "thread " + std::to_string(t) + " line " + std::to_string(n) + " " + std::string(n % 97, '.'));
    REQUIRE(n == next[t]);  // in order, none missing in between
    next[t] = n + 1;
    ++count;
  }
  CHECK(count == kThreads * kLines);
}

TEST_CASE("the flusher writes every thread's lines within its interval") {
  Sink sink;
  LineBuffers buffers(sink.fd());
  buffers.flush_every(std::chrono::milliseconds(20));
  std::thread([&buffers] { buffers.append("from a thread that ends\n", false); }).join();
  buffers.append("from this one\n", false);
  std::string seen;
  for (int i = 0; i < 200 && seen.size() < 38; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    seen = sink.text();
  }
  CHECK(seen.find("from a thread that ends\n") != std::string::npos);
  CHECK(seen.find("from this one\n") != std::string::npos);
}

TEST_CASE("a line longer than a chunk leaves whole, in one piece") {
  Sink sink;
  LineBuffers buffers(sink.fd());
  const std::string long_line(3 * LineBuffers::kChunkBytes, 'y');
  buffers.append("short\n", false);
  buffers.append(long_line + "\n", false);
  buffers.append("after\n", false);
  buffers.flush_all();
  CHECK(sink.text() == "short\n" + long_line + "\nafter\n");
}

TEST_CASE("a flush merges the threads' lines by their order prefix: a shutdown line comes last") {
  Sink sink;
  LineBuffers buffers(sink.fd(), 2);
  buffers.append("03 main: draining\n", false);
  std::thread([&buffers] { buffers.append("01 worker: a request\n02 worker: another\n", false); }).join();
  std::thread([&buffers] { buffers.append("02 other: a request\n04 other: late\n", false); }).join();
  buffers.append("05 main: stopped\n", false);
  buffers.flush_all();
  CHECK(sink.text() ==
        "01 worker: a request\n02 worker: another\n02 other: a request\n03 main: draining\n04 other: late\n"
        "05 main: stopped\n");
}
