#pragma once

#include <cstddef>

// Why this exists (measured on the 2-core VMs this project is built on, bench/scrape/README.md):
// a scrape of 300k series writes three buffers of tens of MB once each (the 7 MB snapshot body,
// the parser's ~21 MB document, the 24 MB text). Kept resident between scrapes, all three add up
// in the peak RSS (93 MiB); freed and faulted back in 4 KiB pages, they cost 0.47 ms of kernel
// time per MB (25 ms a scrape). In 2 MiB transparent huge pages the same faults cost 0.05 ms per
// MB, so with huge pages on offer the pages go to a pool after each use, from which the next
// buffer takes them before any fresh page (page_pool.h: no faults, no zeroing), and the
// buffers keep their pages otherwise.
namespace page_memory {

// Whether the kernel backs memory advised with MADV_HUGEPAGE by transparent huge pages
// (/sys/kernel/mm/transparent_hugepage/enabled is "always" or "madvise"). Read once.
bool HugePagesOffered();

// Asks for transparent huge pages in the part of [data, data + size) aligned to huge pages
// (2 MiB on x86-64; hpage_pmd_size).
void AdviseHugePages(void* data, std::size_t size);

// When huge pages are offered, gives back to the kernel the 2 MiB-aligned part of
// [data, data + size): it reads as zero afterwards and is faulted in again, in huge pages, when
// written. The rest stays: a buffer too small to span a huge page costs little to keep, and
// refaulting it in 4 KiB pages would cost more than it saves. Nothing is unmapped, so the range
// may be part of an allocation made by someone else, as long as its contents are not needed.
void ReleaseHugePages(void* data, std::size_t size);

// A byte buffer in a mapping of its own, in transparent huge pages where offered. Unlike
// std::string it never fills room before it is written. Where huge pages are offered it takes
// its pages from the pool (page_pool.h) as it is written, and can lend them to other buffers
// while it keeps its capacity (ReleasePages): bytes [0, room()) are writable, and
// MakeWritable(end) must come before a write beyond room(). Elsewhere room() is the capacity.
class PageBuffer {
 public:
  PageBuffer() = default;
  ~PageBuffer();
  PageBuffer(PageBuffer&& other) noexcept;
  PageBuffer& operator=(PageBuffer&& other) noexcept;
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;

  char* data() const { return data_; }
  std::size_t capacity() const { return capacity_; }
  std::size_t room() const { return room_; }

  // Room for `capacity` bytes in all, keeping the first `keep` bytes written (copied into the
  // new mapping when it has to grow). False (nothing changed) when the kernel refuses the
  // memory. Never shrinks.
  bool Reserve(std::size_t capacity, std::size_t keep);
  // Makes the first `end` bytes (at most the capacity) writable: the pages under them come
  // from the pool where it has some, up to the next huge page.
  void MakeWritable(std::size_t end) {
    if (end > room_) TakePages(end);
  }
  // The buffer's contents are done with until it is next written: its pages go to the pool
  // for other buffers (ReleaseMappedPages), its capacity stays, its room is 0.
  void ReleasePages();
  // Unmaps the buffer without pooling its pages (a buffer far larger than the next ones will
  // be): it is empty afterwards.
  void Discard();

 private:
  void TakePages(std::size_t end);

  char* data_ = nullptr;
  std::size_t capacity_ = 0;  // bytes mapped, a multiple of the page size
  std::size_t room_ = 0;      // bytes writable now (MakeWritable)
};

}  // namespace page_memory
