#include "core/sync/affine_pool.hpp"

namespace deliveryhub::core::sync {

std::size_t this_thread_pool_hint() {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t hint = next.fetch_add(1, std::memory_order_relaxed);
  return hint;
}

}  // namespace deliveryhub::core::sync
