#include "page_memory/page_pool.h"

#include <doctest/doctest.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "page_memory/large_block.h"
#include "page_memory/page_buffer.h"
#include "page_residency.h"

using test_support::KernelOffersHugePages;
using test_support::ResidentPages;

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;
constexpr std::size_t kPageBytes = 4096;

// Minor page faults of this thread so far: a fresh page written is one (a huge page, one for
// 2 MiB), a pooled page written is none.
long MinorFaults() {
  rusage usage{};
  REQUIRE(getrusage(RUSAGE_THREAD, &usage) == 0);
  return usage.ru_minflt;
}

// AddressSanitizer checks every write against its shadow memory, an eighth of the range, which
// takes faults of its own (4 KiB pages) the first time a range is written.
#if defined(__SANITIZE_ADDRESS__)
constexpr long ShadowFaults(std::size_t bytes) { return static_cast<long>(bytes / 8 / kPageBytes); }
#else
constexpr long ShadowFaults(std::size_t) { return 0; }
#endif

// Faults taken while `bytes` at `data` are written.
long FaultsWriting(void* data, std::size_t bytes) {
  const long before = MinorFaults();
  std::memset(data, 0x5A, bytes);
  return MinorFaults() - before;
}

// A buffer of `bytes`, every byte of it written with `mark`, and its pages lent to the pool.
void WriteAndLend(page_memory::PageBuffer* buffer, std::size_t bytes, char mark) {
  REQUIRE(buffer->Reserve(bytes, 0));
  buffer->MakeWritable(bytes);
  std::memset(buffer->data(), mark, bytes);
  buffer->ReleasePages();
}

}  // namespace

TEST_CASE("A block mapped after another was freed is written in the freed pages, without faults") {
  page_memory::ReturnPooledPages();
  const std::size_t bytes = 8 * kMiB;
  void* first = page_memory::MapAligned(bytes);
  REQUIRE(first != nullptr);
  const long fresh_faults = FaultsWriting(first, bytes);
  CHECK(fresh_faults > ShadowFaults(bytes));  // faults of its own: fresh pages
  page_memory::UnmapAligned(first, bytes);
  if (!KernelOffersHugePages()) {
    CHECK(page_memory::PooledBytes() == 0);
    return;
  }
  CHECK(page_memory::PooledBytes() == bytes);
  void* second = page_memory::MapAligned(bytes);
  REQUIRE(second != nullptr);
  CHECK(page_memory::PooledBytes() == 0);
  // Resident before it is written: the freed block's pages, moved.
  CHECK(ResidentPages(second, bytes) == bytes / kPageBytes);
  CHECK(FaultsWriting(second, bytes) <= ShadowFaults(bytes));
  page_memory::UnmapAligned(second, bytes);
  page_memory::ReturnPooledPages();
  CHECK(page_memory::PooledBytes() == 0);
}

TEST_CASE("Pages never written are not pooled") {
  page_memory::ReturnPooledPages();
  const std::size_t bytes = 8 * kMiB;
  auto* block = static_cast<char*>(page_memory::MapAligned(bytes));
  REQUIRE(block != nullptr);
  block[0] = 1;  // the first huge page only
  page_memory::UnmapAligned(block, bytes);
  CHECK(page_memory::PooledBytes() == (KernelOffersHugePages() ? 2 * kMiB : 0));
  page_memory::ReturnPooledPages();
}

TEST_CASE("Pooled pages go back to the kernel once pooled longer than asked") {
  page_memory::ReturnPooledPages();
  const std::size_t bytes = 4 * kMiB;
  void* block = page_memory::MapAligned(bytes);
  REQUIRE(block != nullptr);
  std::memset(block, 1, bytes);
  page_memory::UnmapAligned(block, bytes);
  if (!KernelOffersHugePages()) return;
  const auto now = std::chrono::steady_clock::now();
  page_memory::ReturnPagesPooledBefore(now - std::chrono::hours(1));
  CHECK(page_memory::PooledBytes() == bytes);  // pooled just now: kept
  page_memory::ReturnPagesPooledBefore(now + std::chrono::seconds(1));
  CHECK(page_memory::PooledBytes() == 0);
}

static_assert(page_memory::kPoolHoldTime > std::chrono::minutes(1),
              "longer than Prometheus' default scrape interval");

TEST_CASE("A page lent again keeps the age it had in the pool") {
  page_memory::ReturnPooledPages();
  page_memory::PageBuffer buffer;
  WriteAndLend(&buffer, 2 * kMiB, 1);
  if (!KernelOffersHugePages()) return;
  const auto first_lent = std::chrono::steady_clock::now();
  REQUIRE(page_memory::PooledBytes() == 2 * kMiB);
  buffer.ReleasePages();  // as the body is, twice a fetch: never taken back in between
  page_memory::ReturnPagesPooledBefore(first_lent);
  CHECK(page_memory::PooledBytes() == 0);
  // Given back in place: the buffer's mapping stays, empty.
  buffer.MakeWritable(2 * kMiB);
  CHECK(ResidentPages(buffer.data(), 2 * kMiB) == 0);
  CHECK(buffer.data()[0] == 0);
}

TEST_CASE("A discarded buffer's lent pages leave the pool with it") {
  page_memory::ReturnPooledPages();
  page_memory::PageBuffer buffer;
  WriteAndLend(&buffer, 4 * kMiB, 1);
  CHECK(page_memory::PooledBytes() == (KernelOffersHugePages() ? 4 * kMiB : 0));
  buffer.Discard();
  CHECK(buffer.data() == nullptr);
  CHECK(buffer.capacity() == 0);
  CHECK(page_memory::PooledBytes() == 0);
}

TEST_CASE("Pages lent by a buffer and taken are replaced from the pool when it writes again") {
  page_memory::ReturnPooledPages();
  page_memory::PageBuffer lender;
  page_memory::PageBuffer other;
  REQUIRE(other.Reserve(8 * kMiB, 0));
  other.MakeWritable(8 * kMiB);  // before anything is pooled: fresh pages
  std::memset(other.data(), 'o', 8 * kMiB);
  WriteAndLend(&lender, 8 * kMiB, 'a');
  if (!KernelOffersHugePages()) {
    CHECK(page_memory::PooledBytes() == 0);
    return;
  }
  // Lent in place: still resident, now the pool's.
  CHECK(ResidentPages(lender.data(), 8 * kMiB) == 8 * kMiB / kPageBytes);
  CHECK(page_memory::PooledBytes() == 8 * kMiB);
  page_memory::PageBuffer taker;
  REQUIRE(taker.Reserve(4 * kMiB, 0));
  CHECK(ResidentPages(taker.data(), 4 * kMiB) == 0);  // fresh until written
  taker.MakeWritable(4 * kMiB);
  CHECK(ResidentPages(taker.data(), 4 * kMiB) == 4 * kMiB / kPageBytes);
  CHECK(taker.data()[0] == 'a');  // moved, not copied or zeroed
  CHECK(page_memory::PooledBytes() == 4 * kMiB);
  // Where the lender's pages were taken, its range stays mapped, empty.
  CHECK(ResidentPages(lender.data(), 8 * kMiB) == 4 * kMiB / kPageBytes);
  other.ReleasePages();
  CHECK(page_memory::PooledBytes() == 12 * kMiB);
  lender.MakeWritable(8 * kMiB);
  // Its own two pages back, and two of the other buffer's where its own were taken.
  CHECK(ResidentPages(lender.data(), 8 * kMiB) == 8 * kMiB / kPageBytes);
  CHECK(page_memory::PooledBytes() == 4 * kMiB);
  CHECK(FaultsWriting(lender.data(), 8 * kMiB) == 0);
  other.MakeWritable(8 * kMiB);  // two of its own left, two fresh
  CHECK(page_memory::PooledBytes() == 0);
  CHECK(FaultsWriting(other.data(), 8 * kMiB) >= 2);
  CHECK(other.data()[8 * kMiB - 1] == 0x5A);
}

TEST_CASE("A mapped block takes back all its own pages, and others only as far as asked") {
  page_memory::ReturnPooledPages();
  const std::size_t bytes = 8 * kMiB;
  auto* other = static_cast<char*>(page_memory::MapAligned(bytes));
  auto* block = static_cast<char*>(page_memory::MapAlignedFresh(bytes));
  REQUIRE(other != nullptr);
  REQUIRE(block != nullptr);
  std::memset(other, 'o', bytes);
  std::memset(block, 'b', 4 * kMiB);  // as a parse that wrote half of it
  const std::size_t lent = page_memory::ReleaseMappedPages(block, bytes);
  page_memory::UnmapAligned(other, bytes);
  if (!KernelOffersHugePages()) {
    CHECK(lent == 0);
    CHECK(page_memory::PooledBytes() == 0);
    page_memory::UnmapAligned(block, bytes);
    return;
  }
  CHECK(lent == 4 * kMiB);  // as far as pages were resident
  CHECK(page_memory::PooledBytes() == 12 * kMiB);
  // The next writer may write anywhere in the block but expects 6 MiB: its own two pages come
  // back, one pooled page fills the third, the last stays empty.
  page_memory::ReclaimMappedPages(block, bytes, 6 * kMiB);
  CHECK(page_memory::PooledBytes() == 6 * kMiB);
  CHECK(ResidentPages(block, 6 * kMiB) == 6 * kMiB / kPageBytes);
  CHECK(ResidentPages(block + 6 * kMiB, 2 * kMiB) == 0);
  CHECK(block[0] == 'b');
  CHECK(block[5 * kMiB] == 'o');
  page_memory::UnmapAligned(block, bytes);
  page_memory::ReturnPooledPages();
}

// Threads lend, take and free pages all at once (as civetweb's workers, the collector and main
// do): every buffer must read back exactly what its own thread last wrote, whichever pages the
// pool moved under or out of it meanwhile.
TEST_CASE("Buffers of many threads keep their contents while the pool moves pages among them" *
          doctest::test_suite("concurrency")) {
  page_memory::ReturnPooledPages();
  constexpr int kThreads = 4;
  constexpr int kRounds = 40;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &mismatches] {
      page_memory::PageBuffer kept;  // lent between rounds, as the body and the text are
      for (int round = 0; round < kRounds; ++round) {
        const auto mark = static_cast<char>('A' + (t * kRounds + round) % 50);
        const std::size_t kept_bytes = (2 + (round + t) % 5) * kMiB;
        if (!kept.Reserve(kept_bytes, 0)) continue;
        kept.MakeWritable(kept_bytes);
        std::memset(kept.data(), mark, kept_bytes);
        // A block of its own, mapped from the pool and freed back into it.
        const std::size_t block_bytes = (2 + round % 3) * 2 * kMiB;
        auto* block = static_cast<char*>(page_memory::MapAligned(block_bytes));
        if (block != nullptr) {
          std::memset(block, mark + 1, block_bytes);
          for (std::size_t i = 0; i < block_bytes; i += kPageBytes) {
            if (block[i] != mark + 1) mismatches.fetch_add(1);
          }
          page_memory::UnmapAligned(block, block_bytes);
        }
        for (std::size_t i = 0; i < kept_bytes; i += kPageBytes) {
          if (kept.data()[i] != mark) mismatches.fetch_add(1);
        }
        kept.ReleasePages();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(mismatches.load() == 0);
  page_memory::ReturnPooledPages();
}
