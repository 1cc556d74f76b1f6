#include "page_memory/large_block.h"

#include <sys/mman.h>

#include <cstdint>
#include <limits>

#include "huge_pages.h"
#include "page_memory/page_buffer.h"

namespace page_memory {

std::size_t MappedBytes(std::size_t bytes) {
  const std::uintptr_t length = detail::RoundUp(bytes, detail::PageBytes());
  const std::uintptr_t huge = detail::HugePageBytes();
  if (huge == 0 || length % huge < huge / 2) return length;
  return detail::RoundUp(length, huge);
}

void* MapAligned(std::size_t bytes) {
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

void UnmapAligned(void* data, std::size_t bytes) noexcept {
  if (data != nullptr) munmap(data, MappedBytes(bytes));
}

bool MapsLargeBlock(std::size_t bytes) { return bytes >= kLargeBlockBytes && HugePagesOffered(); }

}  // namespace page_memory
