#include "page_memory/large_block.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "huge_page_pool.h"
#include "huge_pages.h"
#include "page_memory/page_buffer.h"

namespace page_memory {
namespace {

// The part of a MapAligned(bytes) block at `data` that the pool deals in: its whole huge
// pages, from its start (aligned whenever it holds one). Empty where nothing is pooled.
struct PooledRange {
  std::uintptr_t begin = 0;
  std::uintptr_t end = 0;
};
PooledRange WholeHugePages(void* data, std::size_t bytes) {
  const std::uintptr_t huge = detail::HugePageBytes();
  if (data == nullptr || huge == 0 || !HugePagesOffered()) return {};
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  return {begin, begin + detail::RoundDown(MappedBytes(bytes), huge)};
}

}  // namespace

std::size_t MappedBytes(std::size_t bytes) {
  const std::uintptr_t length = detail::RoundUp(bytes, detail::PageBytes());
  const std::uintptr_t huge = detail::HugePageBytes();
  if (huge == 0 || length % huge < huge / 2) return length;
  return detail::RoundUp(length, huge);
}

void* MapAlignedFresh(std::size_t bytes) {
  // No size near the top of the address space: the rounding and the slack below would wrap.
  if (bytes > (std::numeric_limits<std::size_t>::max() >> 1)) return nullptr;
  const std::uintptr_t length = MappedBytes(bytes);
  const std::uintptr_t huge = detail::HugePageBytes();
  if (huge == 0 || length < huge) {
    // Too small to hold a huge page: where it starts makes no difference.
    void* mapped =
        mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return mapped == MAP_FAILED ? nullptr : mapped;
  }
  // Map a huge page more than needed and unmap what lies before the first boundary and after
  // the block: mmap itself aligns only lengths that are multiples of a huge page.
  void* mapped =
      mmap(nullptr, length + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) return nullptr;
  const auto begin = reinterpret_cast<std::uintptr_t>(mapped);
  const std::uintptr_t aligned = detail::RoundUp(begin, huge);
  if (aligned > begin) munmap(mapped, aligned - begin);
  const std::uintptr_t end = begin + length + huge;
  if (end > aligned + length) {
    munmap(reinterpret_cast<void*>(aligned + length), end - aligned - length);
  }
  void* data = reinterpret_cast<void*>(aligned);
  AdviseHugePages(data, length);
  return data;
}

void* MapAligned(std::size_t bytes) {
  void* data = MapAlignedFresh(bytes);
  const PooledRange pooled = WholeHugePages(data, bytes);
  detail::PoolTake(pooled.begin, pooled.end, pooled.end);
  return data;
}

void UnmapAligned(void* data, std::size_t bytes) noexcept {
  if (data == nullptr) return;
  const std::uintptr_t length = MappedBytes(bytes);
  const PooledRange pooled = WholeHugePages(data, bytes);
  if (pooled.begin == pooled.end) {
    munmap(data, length);
    return;
  }
  detail::PoolGive(pooled.begin, pooled.end, /*kept_by_owner=*/false);
  const std::uintptr_t end = pooled.begin + length;
  if (end > pooled.end) munmap(reinterpret_cast<void*>(pooled.end), end - pooled.end);
}

std::size_t ReleaseMappedPages(void* data, std::size_t bytes) noexcept {
  const PooledRange pooled = WholeHugePages(data, bytes);
  return detail::PoolGive(pooled.begin, pooled.end, /*kept_by_owner=*/true) - pooled.begin;
}

void ReclaimMappedPages(void* data, std::size_t bytes, std::size_t fill) noexcept {
  const PooledRange pooled = WholeHugePages(data, bytes);
  detail::PoolTake(pooled.begin, pooled.end,
                   pooled.begin + std::min<std::uintptr_t>(fill, pooled.end - pooled.begin));
}

bool MapsLargeBlock(std::size_t bytes) { return bytes >= kLargeBlockBytes && HugePagesOffered(); }

}  // namespace page_memory
