#include "huge_page_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <new>
#include <vector>

#include "huge_pages.h"
#include "page_memory/page_buffer.h"
#include "page_memory/page_pool.h"

namespace page_memory {
namespace detail {
namespace {

using Clock = std::chrono::steady_clock;

// 512 MiB: more than the buffers of a 1M-IP scrape hold at once; keeps the linear searches
// short whatever is freed.
constexpr std::size_t kMaxPooledPages = 256;

void* Address(std::uintptr_t address) { return reinterpret_cast<void*>(address); }

// Whether the first page at `address` is resident: a huge page is resident whole, and a buffer
// is written from its start, so a page whose start is not resident was not written. (A page
// only read maps the shared zero page and counts as resident: pooling it costs nothing.)
bool IsResident(std::uintptr_t address) {
  unsigned char residency = 0;
  return mincore(Address(address), PageBytes(), &residency) == 0 && (residency & 1) != 0;
}

class HugePagePool {
 public:
  std::uintptr_t Give(std::uintptr_t begin, std::uintptr_t end, bool kept_by_owner) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const Clock::time_point now = Clock::now();
    const std::uintptr_t huge = HugePageBytes();
    std::uintptr_t pooled_end = begin;
    for (std::uintptr_t page = begin; page < end; page += huge) {
      const auto pooled = FindPooled(page);
      if (pooled != pooled_.end()) {
        // Lent earlier by an owner that lends it again or now unmaps its range. Its age stays:
        // a page lent at every scrape and never taken back still goes back to the kernel.
        pooled->kept_by_owner = kept_by_owner;
        pooled_end = page + huge;
        continue;
      }
      if (!IsResident(page)) {
        // Never written, or a fresh page standing in for a lent one taken: nothing to keep.
        if (!kept_by_owner) munmap(Address(page), huge);
        continue;
      }
      if (pooled_.size() >= kMaxPooledPages) {
        // Beyond any scrape's buffers (a huge or hostile body once): the kernel has it back.
        Return({page, kept_by_owner, now});
        continue;
      }
      try {
        pooled_.push_back({page, kept_by_owner, now});
        pooled_end = page + huge;
      } catch (const std::bad_alloc&) {
        Return({page, kept_by_owner, now});  // no room to remember it: the kernel has it back
      }
    }
    ReturnIdle(now);
    return pooled_end;
  }

  void Take(std::uintptr_t begin, std::uintptr_t end, std::uintptr_t fill_end) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const std::uintptr_t huge = HugePageBytes();
    // First the caller's own pages, so that none of them is moved into another of its places.
    std::erase_if(pooled_, [&](const Pooled& p) { return p.address >= begin && p.address < end; });
    for (std::uintptr_t page = begin; page < std::min(end, fill_end) && !pooled_.empty();) {
      // A resident page is its own, or written already: never replaced. A refused move is
      // tried again with the next pooled page.
      if (IsResident(page) || MoveLastPooledTo(page)) page += huge;
    }
    ReturnIdle(Clock::now());
  }

  std::size_t Bytes() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return pooled_.size() * HugePageBytes();
  }

  void Forget(std::uintptr_t begin, std::uintptr_t end) {
    const std::lock_guard<std::mutex> lock(mutex_);
    std::erase_if(pooled_, [&](const Pooled& p) { return p.address >= begin && p.address < end; });
  }

  void ReturnPooledBefore(Clock::time_point time) {
    const std::lock_guard<std::mutex> lock(mutex_);
    ReturnBefore(time);
  }

 private:
  struct Pooled {
    std::uintptr_t address;
    bool kept_by_owner;  // still inside its owner's mapping (PoolGive)
    Clock::time_point since;
  };

  std::vector<Pooled>::iterator FindPooled(std::uintptr_t address) {
    return std::find_if(pooled_.begin(), pooled_.end(),
                        [&](const Pooled& p) { return p.address == address; });
  }

  // Moves the most recently pooled page (the likeliest to be resident) to `to`, which is part
  // of a mapping of the caller's, and takes it out of the pool. False when the kernel refuses:
  // the page is then out of the pool too (its owner's again, or given back to the kernel).
  bool MoveLastPooledTo(std::uintptr_t to) {
    const std::uintptr_t huge = HugePageBytes();
    const Pooled pooled = pooled_.back();
    pooled_.pop_back();
    // A lent page leaves its owner's range mapped and empty in the same step (MREMAP_DONTUNMAP,
    // Linux 5.7): a hole there, even for an instant, could be handed to another thread's mmap,
    // and filling it afterwards would clobber that mapping.
    const int flags = MREMAP_MAYMOVE | MREMAP_FIXED | (pooled.kept_by_owner ? MREMAP_DONTUNMAP : 0);
    if (mremap(Address(pooled.address), huge, huge, flags, Address(to)) != MAP_FAILED) return true;
    if (!pooled.kept_by_owner) munmap(Address(pooled.address), huge);
    return false;
  }

  static void Return(const Pooled& pooled) {
    if (pooled.kept_by_owner) {
      // Still part of its owner's mapping: only its memory goes.
      madvise(Address(pooled.address), HugePageBytes(), MADV_DONTNEED);
    } else {
      munmap(Address(pooled.address), HugePageBytes());
    }
  }

  void ReturnBefore(Clock::time_point time) {
    std::erase_if(pooled_, [&](const Pooled& p) {
      if (p.since >= time) return false;
      Return(p);
      return true;
    });
  }
  void ReturnIdle(Clock::time_point now) {
    if (now - last_check_ < std::chrono::seconds(1)) return;
    last_check_ = now;
    ReturnBefore(now - kPoolHoldTime);
  }

  std::mutex mutex_;
  std::vector<Pooled> pooled_;  // at most kMaxPooledPages: searched linearly
  Clock::time_point last_check_{};
};

HugePagePool& Pool() {
  // Never destroyed: buffers in static storage may give pages back during exit.
  static HugePagePool* const pool = new HugePagePool;
  return *pool;
}

}  // namespace

std::uintptr_t PoolGive(std::uintptr_t begin, std::uintptr_t end, bool kept_by_owner) {
  return begin < end ? Pool().Give(begin, end, kept_by_owner) : begin;
}
void PoolTake(std::uintptr_t begin, std::uintptr_t end, std::uintptr_t fill_end) {
  if (begin < end) Pool().Take(begin, end, fill_end);
}
void PoolForget(std::uintptr_t begin, std::uintptr_t end) {
  if (begin < end) Pool().Forget(begin, end);
}

}  // namespace detail

std::size_t PooledBytes() { return HugePagesOffered() ? detail::Pool().Bytes() : 0; }

void ReturnPagesPooledBefore(std::chrono::steady_clock::time_point time) {
  if (HugePagesOffered()) detail::Pool().ReturnPooledBefore(time);
}

void ReturnPooledPages() { ReturnPagesPooledBefore(std::chrono::steady_clock::time_point::max()); }

}  // namespace page_memory
