#include "huge_page_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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

void* Address(std::uintptr_t address) { return reinterpret_cast<void*>(address); }

// Whether the first page at `address` is resident: a huge page is whole, and a buffer is written
// from its start, so a page untouched there is untouched.
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
        // Lent earlier by an owner that lends it again or now unmaps its range.
        pooled->kept_by_owner = kept_by_owner;
        pooled->since = now;
        pooled_end = page + huge;
        continue;
      }
      if (!IsResident(page)) {
        // Never written, or a fresh page standing in for a lent one taken: nothing to keep.
        if (!kept_by_owner) munmap(Address(page), huge);
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

  void Take(std::uintptr_t begin, std::uintptr_t end) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const std::uintptr_t huge = HugePageBytes();
    // First the caller's own pages, so that none of them is moved into another of its places.
    std::erase_if(pooled_, [&](const Pooled& p) { return p.address >= begin && p.address < end; });
    for (std::uintptr_t page = begin; page < end && !pooled_.empty(); page += huge) {
      if (IsResident(page)) continue;  // its own, or written already: never replaced
      if (!MoveLastPooledTo(page)) break;
    }
    ReturnIdle(Clock::now());
  }

  std::size_t Bytes() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return pooled_.size() * HugePageBytes();
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
  // of a mapping of the caller's. False (the pool unchanged) when the kernel refuses.
  bool MoveLastPooledTo(std::uintptr_t to) {
    const std::uintptr_t huge = HugePageBytes();
    const Pooled pooled = pooled_.back();
    if (mremap(Address(pooled.address), huge, huge, MREMAP_MAYMOVE | MREMAP_FIXED, Address(to)) ==
        MAP_FAILED) {
      return false;
    }
    if (pooled.kept_by_owner) {
      // The owner's range must stay mapped: a fresh page goes where this one was.
      void* plug = mmap(Address(pooled.address), huge, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      if (plug == MAP_FAILED) {
        // Out of memory for mappings: give the page back to its owner, where it was, and a
        // fresh one to the caller. Both ranges were just vacated; should the kernel refuse
        // even that, a hole would be left in a buffer and fault at its next write: stop here.
        if (mremap(Address(to), huge, huge, MREMAP_MAYMOVE | MREMAP_FIXED,
                   Address(pooled.address)) == MAP_FAILED ||
            mmap(Address(to), huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                 -1, 0) == MAP_FAILED) {
          std::fputs("page_memory: the kernel refused to restore a buffer's mapping\n", stderr);
          std::abort();
        }
        pooled_.pop_back();
        return false;
      }
      madvise(plug, huge, MADV_HUGEPAGE);
    }
    pooled_.pop_back();
    return true;
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
  std::vector<Pooled> pooled_;  // a few dozen at most: searched linearly
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
void PoolTake(std::uintptr_t begin, std::uintptr_t end) {
  if (begin < end) Pool().Take(begin, end);
}

}  // namespace detail

std::size_t PooledBytes() { return HugePagesOffered() ? detail::Pool().Bytes() : 0; }

void ReturnPagesPooledBefore(std::chrono::steady_clock::time_point time) {
  if (HugePagesOffered()) detail::Pool().ReturnPooledBefore(time);
}

void ReturnPooledPages() { ReturnPagesPooledBefore(std::chrono::steady_clock::time_point::max()); }

}  // namespace page_memory
