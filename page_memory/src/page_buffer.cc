#include "page_memory/page_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <utility>

#include "huge_page_pool.h"
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

namespace {

// Whether the pool deals in a buffer's pages: Reserve maps a buffer of a huge page or more in
// whole huge pages from a boundary.
bool PoolsPages(std::size_t capacity) {
  return HugePagesOffered() && HugePageBytes() != 0 && capacity >= HugePageBytes();
}

}  // namespace

PageBuffer::~PageBuffer() { UnmapAligned(data_, capacity_); }

PageBuffer::PageBuffer(PageBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      room_(std::exchange(other.room_, 0)) {}

PageBuffer& PageBuffer::operator=(PageBuffer&& other) noexcept {
  if (this != &other) {
    UnmapAligned(data_, capacity_);
    data_ = std::exchange(other.data_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    room_ = std::exchange(other.room_, 0);
  }
  return *this;
}

bool PageBuffer::Reserve(std::size_t capacity, std::size_t keep) {
  if (capacity <= capacity_) return true;
  // Whole huge pages from a huge-page boundary, so that ReleasePages lends every byte and every
  // 2 MiB of it can be a huge page. Pages never written cost nothing.
  const std::uintptr_t unit =
      HugePageBytes() != 0 && capacity >= HugePageBytes() ? HugePageBytes() : PageBytes();
  const std::size_t bytes = MappedBytes(RoundUp(capacity, unit));
  // Fresh: the pool's pages come in as the buffer is written (MakeWritable), so that room
  // reserved and never written does not hold pages other buffers could use.
  void* mapped = MapAlignedFresh(bytes);
  if (mapped == nullptr) return false;
  char* const old_data = data_;
  const std::size_t old_capacity = capacity_;
  data_ = static_cast<char*>(mapped);
  capacity_ = bytes;
  room_ = PoolsPages(bytes) ? 0 : bytes;
  // Copied, not moved with mremap: pages moved into the new mapping stay a region of their own,
  // and the huge page that straddles its end is faulted in 4 KiB pages ever after (500 faults a
  // scrape for the body). Callers that know the size reserve it up front, so this is rare.
  if (old_data != nullptr && keep != 0) {
    MakeWritable(keep);
    std::memcpy(data_, old_data, keep);
  }
  UnmapAligned(old_data, old_capacity);
  return true;
}

void PageBuffer::ReleasePages() {
  if (!PoolsPages(capacity_)) return;
  const auto begin = reinterpret_cast<std::uintptr_t>(data_);
  detail::PoolGive(begin, begin + capacity_, /*kept_by_owner=*/true);
  room_ = 0;
}

void PageBuffer::Discard() {
  if (PoolsPages(capacity_)) {
    const auto begin = reinterpret_cast<std::uintptr_t>(data_);
    detail::PoolForget(begin, begin + capacity_);
  }
  if (data_ != nullptr) munmap(data_, capacity_);
  data_ = nullptr;
  capacity_ = 0;
  room_ = 0;
}

void PageBuffer::TakePages(std::size_t end) {
  if (!PoolsPages(capacity_)) {
    room_ = capacity_;  // nothing pooled: every byte is writable
    return;
  }
  // A huge page at a time: what the writer does not reach stays in the pool for others.
  const std::size_t new_room = std::min<std::size_t>(RoundUp(end, HugePageBytes()), capacity_);
  const auto begin = reinterpret_cast<std::uintptr_t>(data_);
  detail::PoolTake(begin + room_, begin + new_room, begin + new_room);
  room_ = new_room;
}

}  // namespace page_memory
