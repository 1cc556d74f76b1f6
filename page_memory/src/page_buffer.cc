#include "page_memory/page_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <utility>

#include "huge_pages.h"
#include "page_memory/large_block.h"

namespace page_memory {
namespace detail {

std::uintptr_t PageBytes() {
  static const auto bytes = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  return bytes;
}

}  // namespace detail
namespace {

using detail::HugePageBytes;
using detail::PageBytes;
using detail::RoundDown;
using detail::RoundUp;

// madvise over the `unit`-aligned part of [data, data + size); nothing when there is none.
void AdviseAligned(void* data, std::size_t size, std::uintptr_t unit, int advice) {
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = RoundUp(begin, unit);
  const std::uintptr_t last = RoundDown(begin + size, unit);
  if (data == nullptr || last <= first) return;
  madvise(reinterpret_cast<void*>(first), last - first, advice);
}

std::uintptr_t ReadHugePageBytes() {
  std::FILE* file = std::fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "r");
  if (file == nullptr) return 0;
  unsigned long long bytes = 0;
  const bool read = std::fscanf(file, "%llu", &bytes) == 1;
  std::fclose(file);
  return read ? static_cast<std::uintptr_t>(bytes) : 0;
}

bool ReadHugePagesOffered() {
  if (HugePageBytes() == 0) return false;
  std::FILE* file = std::fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (file == nullptr) return false;  // a kernel without transparent huge pages
  char line[128] = {};
  const bool read = std::fgets(line, sizeof line, file) != nullptr;
  std::fclose(file);
  // The active choice is bracketed: "always [madvise] never".
  return read &&
         (std::strstr(line, "[always]") != nullptr || std::strstr(line, "[madvise]") != nullptr);
}

}  // namespace

std::uintptr_t detail::HugePageBytes() {
  static const std::uintptr_t bytes = ReadHugePageBytes();
  return bytes;
}

bool HugePagesOffered() {
  static const bool offered = ReadHugePagesOffered();
  return offered;
}

void AdviseHugePages(void* data, std::size_t size) {
  if (HugePageBytes() != 0) AdviseAligned(data, size, HugePageBytes(), MADV_HUGEPAGE);
}

void ReleaseHugePages(void* data, std::size_t size) {
  if (HugePagesOffered()) AdviseAligned(data, size, HugePageBytes(), MADV_DONTNEED);
}

PageBuffer::~PageBuffer() { UnmapAligned(data_, capacity_); }

PageBuffer::PageBuffer(PageBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), capacity_(std::exchange(other.capacity_, 0)) {}

PageBuffer& PageBuffer::operator=(PageBuffer&& other) noexcept {
  if (this != &other) {
    UnmapAligned(data_, capacity_);
    data_ = std::exchange(other.data_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

bool PageBuffer::Reserve(std::size_t capacity, std::size_t keep) {
  if (capacity <= capacity_) return true;
  // Whole huge pages from a huge-page boundary, so that ReleaseHugePages gives back every byte
  // and every 2 MiB of it can be a huge page. Pages never written cost nothing.
  const std::uintptr_t unit =
      HugePageBytes() != 0 && capacity >= HugePageBytes() ? HugePageBytes() : PageBytes();
  const std::size_t bytes = MappedBytes(RoundUp(capacity, unit));
  void* mapped = MapAligned(bytes);
  if (mapped == nullptr) return false;
  // Copied, not moved with mremap: pages moved into the new mapping stay a region of their own,
  // and the huge page that straddles its end is faulted in 4 KiB pages ever after (500 faults a
  // scrape for the body). Callers that know the size reserve it up front, so this is rare.
  if (data_ != nullptr && keep != 0) std::memcpy(mapped, data_, keep);
  UnmapAligned(data_, capacity_);
  data_ = static_cast<char*>(mapped);
  capacity_ = bytes;
  return true;
}

void PageBuffer::ReleaseHugePages() { page_memory::ReleaseHugePages(data_, capacity_); }

}  // namespace page_memory
