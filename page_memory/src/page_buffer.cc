#include "page_memory/page_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <utility>

namespace page_memory {
namespace {

std::uintptr_t PageBytes() {
  static const auto bytes = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  return bytes;
}

std::uintptr_t RoundUp(std::uintptr_t value, std::uintptr_t unit) {
  return (value + unit - 1) / unit * unit;
}
std::uintptr_t RoundDown(std::uintptr_t value, std::uintptr_t unit) { return value / unit * unit; }

// madvise over the `unit`-aligned part of [data, data + size); nothing when there is none.
void AdviseAligned(void* data, std::size_t size, std::uintptr_t unit, int advice) {
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = RoundUp(begin, unit);
  const std::uintptr_t last = RoundDown(begin + size, unit);
  if (data == nullptr || last <= first) return;
  madvise(reinterpret_cast<void*>(first), last - first, advice);
}

// The size of a transparent huge page (2 MiB on x86-64); 0 when the kernel has none.
std::uintptr_t ReadHugePageBytes() {
  std::FILE* file = std::fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "r");
  if (file == nullptr) return 0;
  unsigned long long bytes = 0;
  const bool read = std::fscanf(file, "%llu", &bytes) == 1;
  std::fclose(file);
  return read ? static_cast<std::uintptr_t>(bytes) : 0;
}

std::uintptr_t HugePageBytes() {
  static const std::uintptr_t bytes = ReadHugePageBytes();
  return bytes;
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

PageBuffer::~PageBuffer() {
  if (data_ != nullptr) munmap(data_, capacity_);
}

PageBuffer::PageBuffer(PageBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), capacity_(std::exchange(other.capacity_, 0)) {}

PageBuffer& PageBuffer::operator=(PageBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) munmap(data_, capacity_);
    data_ = std::exchange(other.data_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

bool PageBuffer::Reserve(std::size_t capacity, std::size_t keep) {
  if (capacity <= capacity_) return true;
  const std::size_t bytes = RoundUp(capacity, PageBytes());
  void* mapped = MAP_FAILED;
  if (data_ == nullptr || keep == 0) {
    mapped = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) return false;
    if (data_ != nullptr) munmap(data_, capacity_);
  } else {
    // The written pages move with the mapping: a 24 MB text is not copied to grow.
    mapped = mremap(data_, capacity_, bytes, MREMAP_MAYMOVE);
    if (mapped == MAP_FAILED) return false;
  }
  data_ = static_cast<char*>(mapped);
  capacity_ = bytes;
  AdviseHugePages(data_, capacity_);
  return true;
}

void PageBuffer::ReleaseHugePages() { page_memory::ReleaseHugePages(data_, capacity_); }

}  // namespace page_memory
