#include "page_memory/large_block.h"

#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "page_memory/page_pool.h"
#include "page_residency.h"

using test_support::KernelHugePageBytes;
using test_support::KernelOffersHugePages;

namespace {

std::size_t PageBytes() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

// Whether the page at `data` is mapped at all: mincore(2) fails with ENOMEM on unmapped memory.
bool IsMapped(const void* data) {
  const auto page = reinterpret_cast<std::uintptr_t>(data) / PageBytes() * PageBytes();
  unsigned char residency = 0;
  if (mincore(reinterpret_cast<void*>(page), PageBytes(), &residency) == 0) return true;
  REQUIRE(errno == ENOMEM);
  return false;
}

constexpr std::size_t kMiB = std::size_t{1} << 20;

}  // namespace

TEST_CASE("MapAligned maps writable memory from a huge-page boundary; unmapped, its pages pool") {
  page_memory::ReturnPooledPages();
  const std::size_t bytes = 5 * kMiB + 100;  // three huge pages (a last part of over half of one)
  auto* data = static_cast<unsigned char*>(page_memory::MapAligned(bytes));
  REQUIRE(data != nullptr);
  if (KernelHugePageBytes() != 0) {
    CHECK(reinterpret_cast<std::uintptr_t>(data) % KernelHugePageBytes() == 0);
  }
  data[0] = 1;
  data[bytes - 1] = 2;
  CHECK(data[bytes - 1] == 2);
  page_memory::UnmapAligned(data, bytes);
  if (KernelOffersHugePages()) {
    // The two huge pages written are kept for the next block; the one never written is gone.
    CHECK(IsMapped(data));
    CHECK_FALSE(IsMapped(data + 2 * kMiB));
    CHECK(IsMapped(data + bytes - 1));
    CHECK(page_memory::PooledBytes() == 4 * kMiB);
    page_memory::ReturnPooledPages();
  }
  CHECK_FALSE(IsMapped(data));
  CHECK_FALSE(IsMapped(data + bytes - 1));
}

TEST_CASE("UnmapAligned unmaps a last part in small pages at once") {
  page_memory::ReturnPooledPages();
  const std::size_t bytes = 4 * kMiB + 100;  // two huge pages and one small page
  auto* data = static_cast<unsigned char*>(page_memory::MapAligned(bytes));
  REQUIRE(data != nullptr);
  std::memset(data, 1, bytes);
  page_memory::UnmapAligned(data, bytes);
  CHECK_FALSE(IsMapped(data + bytes - 1));
  CHECK(page_memory::PooledBytes() == (KernelOffersHugePages() ? 4 * kMiB : 0));
  page_memory::ReturnPooledPages();
  CHECK_FALSE(IsMapped(data));
}

TEST_CASE("LargeBlockAllocator maps large blocks where huge pages are offered and unmaps them") {
  CHECK(page_memory::MapsLargeBlock(page_memory::kLargeBlockBytes) == KernelOffersHugePages());
  CHECK_FALSE(page_memory::MapsLargeBlock(page_memory::kLargeBlockBytes - 1));
  const void* block = nullptr;
  {
    page_memory::LargeVector<std::pair<std::string, double>> entries;
    // Grown by push_back through small blocks into mapped ones: every entry survives each move.
    for (int i = 0; i < 100000; ++i) entries.emplace_back("2001:db8::" + std::to_string(i), i);
    REQUIRE(entries.size() == 100000);
    CHECK(entries[0].first == "2001:db8::0");
    CHECK(entries[99999].first == "2001:db8::99999");
    CHECK(entries[54321].second == 54321);
    block = entries.data();
    if (KernelOffersHugePages()) {
      CHECK(reinterpret_cast<std::uintptr_t>(block) % KernelHugePageBytes() == 0);
    }
  }
  // Freed: with huge pages on offer the block was a mapping of its own; its first huge page is
  // pooled for the next block, and gone once the pool gives it back.
  if (KernelOffersHugePages()) {
    CHECK(IsMapped(block));
    page_memory::ReturnPooledPages();
    CHECK_FALSE(IsMapped(block));
  }
}

TEST_CASE("LargeString holds large text like std::string") {
  page_memory::LargeString text(3 * kMiB, 'x');
  text += "end";
  CHECK(text.size() == 3 * kMiB + 3);
  CHECK(std::string_view(text).substr(3 * kMiB) == "end");
  page_memory::LargeString copy = text;
  CHECK(copy == text);
  page_memory::LargeString small = "a";
  CHECK(small.size() == 1);
}
