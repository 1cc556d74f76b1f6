#include "page_memory/page_buffer.h"

#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "page_memory/page_pool.h"
#include "page_residency.h"

using test_support::KernelOffersHugePages;
using test_support::ResidentPages;

namespace {

std::size_t PageBytes() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

constexpr std::size_t kMiB = std::size_t{1} << 20;

}  // namespace

TEST_CASE("PageBuffer grows to page multiples and keeps what was written") {
  page_memory::PageBuffer buffer;
  CHECK(buffer.data() == nullptr);
  CHECK(buffer.capacity() == 0);
  REQUIRE(buffer.Reserve(1000, 0));
  CHECK(buffer.capacity() >= 1000);
  CHECK(buffer.capacity() % PageBytes() == 0);
  std::memcpy(buffer.data(), "snapshot", 8);
  // Growing by far more than one mapping's worth keeps what was written.
  REQUIRE(buffer.Reserve(64 * kMiB, 8));
  CHECK(buffer.capacity() >= 64 * kMiB);
  CHECK(std::memcmp(buffer.data(), "snapshot", 8) == 0);
  buffer.data()[64 * kMiB - 1] = 'x';  // the whole capacity is writable
  const std::size_t capacity = buffer.capacity();
  CHECK(buffer.Reserve(100, 0));  // never shrinks, and keeps the contents
  CHECK(buffer.capacity() == capacity);
  CHECK(std::memcmp(buffer.data(), "snapshot", 8) == 0);
}

TEST_CASE("PageBuffer moves own their mapping") {
  page_memory::PageBuffer first;
  REQUIRE(first.Reserve(4 * kMiB, 0));
  std::memcpy(first.data(), "text", 4);
  page_memory::PageBuffer second(std::move(first));
  CHECK(first.data() == nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state
  CHECK(first.capacity() == 0);
  CHECK(std::memcmp(second.data(), "text", 4) == 0);
  page_memory::PageBuffer third;
  REQUIRE(third.Reserve(kMiB, 0));
  third = std::move(second);
  CHECK(std::memcmp(third.data(), "text", 4) == 0);
}

TEST_CASE("HugePagesOffered follows the kernel's transparent huge page setting") {
  CHECK(page_memory::HugePagesOffered() == KernelOffersHugePages());
}

TEST_CASE("ReleasePages lends whole pages where huge pages are offered, and keeps the buffer") {
  page_memory::ReturnPooledPages();
  page_memory::PageBuffer buffer;
  REQUIRE(buffer.Reserve(16 * kMiB, 0));
  buffer.MakeWritable(buffer.capacity());
  REQUIRE(buffer.room() == buffer.capacity());
  std::memset(buffer.data(), 'a', buffer.capacity());
  const std::size_t pages = buffer.capacity() / PageBytes();
  REQUIRE(ResidentPages(buffer.data(), buffer.capacity()) == pages);
  buffer.ReleasePages();
  if (KernelOffersHugePages()) {
    // The mapping starts on a huge page and ends on one: every byte is lent, still resident.
    CHECK(reinterpret_cast<std::uintptr_t>(buffer.data()) % (2 * kMiB) == 0);
    CHECK(page_memory::PooledBytes() == buffer.capacity());
    CHECK(buffer.room() == 0);
  } else {
    CHECK(page_memory::PooledBytes() == 0);
    CHECK(buffer.room() == buffer.capacity());
  }
  // Lent or not, the buffer is usable at its capacity once it takes its pages back.
  buffer.MakeWritable(buffer.capacity());
  CHECK(page_memory::PooledBytes() == 0);
  CHECK(ResidentPages(buffer.data(), buffer.capacity()) == pages);
  buffer.data()[buffer.capacity() - 1] = 'b';
  CHECK(buffer.data()[buffer.capacity() - 1] == 'b');
}

TEST_CASE("MakeWritable takes back a huge page at a time, up to the bytes asked for") {
  page_memory::ReturnPooledPages();
  page_memory::PageBuffer buffer;
  REQUIRE(buffer.Reserve(8 * kMiB, 0));
  buffer.MakeWritable(8 * kMiB);
  std::memset(buffer.data(), 'a', buffer.capacity());
  buffer.ReleasePages();
  buffer.MakeWritable(3 * kMiB);  // the first two huge pages
  if (KernelOffersHugePages()) {
    CHECK(buffer.room() == 4 * kMiB);
    CHECK(page_memory::PooledBytes() == 4 * kMiB);
  } else {
    CHECK(buffer.room() == buffer.capacity());
  }
  buffer.MakeWritable(100 * kMiB);  // never beyond the capacity
  CHECK(buffer.room() == buffer.capacity());
  CHECK(page_memory::PooledBytes() == 0);
}

TEST_CASE("ReleaseHugePages leaves the bytes outside the aligned part of a range alone") {
  // A block from malloc, as simdjson's document is: only whole huge pages inside it may go.
  const std::size_t bytes = 9 * kMiB + 123;
  auto* block = static_cast<unsigned char*>(std::malloc(bytes));
  REQUIRE(block != nullptr);
  std::memset(block, 0xA5, bytes);
  page_memory::ReleaseHugePages(block + 1, bytes - 2);
  CHECK(block[0] == 0xA5);
  CHECK(block[bytes - 1] == 0xA5);
  std::size_t changed = 0;
  for (std::size_t i = 0; i < bytes; ++i) changed += block[i] != 0xA5 ? 1 : 0;
  if (KernelOffersHugePages()) {
    // 9 MiB spans at least three whole aligned huge pages wherever it starts.
    CHECK(changed >= 3 * 2 * kMiB);
    CHECK(changed % (2 * kMiB) == 0);
  } else {
    CHECK(changed == 0);
  }
  std::free(block);
}
