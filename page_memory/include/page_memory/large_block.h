#pragma once

#include <cstddef>
#include <limits>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

// Blocks of a few MB that live for one scrape: the snapshot's per-IP maps, the folded series,
// the parser's document. On glibc's heap they stay resident after they are freed (main.cc keeps
// freed heap for the next scrape, since refaulting 4 KiB pages costs 0.47 ms per MB), and so
// add up with the next scrape's body and document in the peak RSS (bench/scrape/README.md).
// In mappings of their own, aligned to huge pages, their whole huge pages go to the pool when
// they are freed (page_pool.h) and the next block written takes them before fresh ones, so that
// freed memory is never resident beside fresh memory.
namespace page_memory {

// Blocks smaller than this stay with operator new: they cost little to keep.
inline constexpr std::size_t kLargeBlockBytes = std::size_t{1} << 20;

// The length MapAligned maps for `bytes`: whole pages, and a whole huge page for a last part
// that fills half of one or more. A huge page costs a tenth of the faults of its 4 KiB pages; a
// smaller last part stays in 4 KiB pages (at most 256 faults), so that a 4.6 MiB block costs
// 4.6 MiB, not 6: never more than 1 MiB is resident unused.
std::size_t MappedBytes(std::size_t bytes);
// A mapping of MappedBytes(bytes) that starts on a huge-page boundary when it can hold a huge
// page, with MADV_HUGEPAGE over its whole huge pages, which come from the pool where it has
// some (page_memory/page_pool.h): its contents are unspecified. nullptr when the kernel refuses.
void* MapAligned(std::size_t bytes);
// The same with every page fresh, for a block its writer fills only in part and takes pooled
// pages for itself as far as it writes (ReclaimMappedPages).
void* MapAlignedFresh(std::size_t bytes);
// Unmaps what MapAligned(bytes) returned; its whole huge pages go to the pool.
void UnmapAligned(void* data, std::size_t bytes) noexcept;
// For a block of MapAligned(bytes) that stays mapped when its contents are done with (a buffer
// kept for the next scrape): its resident whole huge pages go to the pool. Returns how far from
// `data` they reach (0 when none went): what to reclaim. Until then its contents are lost and
// its pages may be moved to another block (a fresh page stands in for each one taken).
std::size_t ReleaseMappedPages(void* data, std::size_t bytes) noexcept;
// Before such a block is written again: its own pages still pooled come back, and in its first
// `fill` bytes (what ReleaseMappedPages returned, or less) pooled pages fill the places of
// those taken, where the pool has some.
void ReclaimMappedPages(void* data, std::size_t bytes, std::size_t fill) noexcept;

// Whether a block of `bytes` goes to MapAligned: large ones, and only where huge pages are
// offered (without them, refaulting a fresh mapping costs more than keeping the heap's copy).
bool MapsLargeBlock(std::size_t bytes);

// A stateless std allocator: blocks for which MapsLargeBlock holds are mapped (MapAligned) and
// unmapped when freed (UnmapAligned: their pages pooled); smaller ones come from operator new.
// For containers that can grow to MBs within one scrape and are freed after it.
template <typename T>
struct LargeBlockAllocator {
  using value_type = T;
  // Stateless: any instance frees what another allocated, so containers move in O(1), noexcept.
  using is_always_equal = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

  LargeBlockAllocator() noexcept = default;
  template <typename U>
  LargeBlockAllocator(const LargeBlockAllocator<U>&) noexcept {}  // NOLINT: rebinding

  T* allocate(std::size_t count) {
    if (count > std::numeric_limits<std::size_t>::max() / sizeof(T))
      throw std::bad_array_new_length();
    const std::size_t bytes = count * sizeof(T);
    if (!MapsLargeBlock(bytes)) return static_cast<T*>(::operator new(bytes));
    void* data = MapAligned(bytes);
    if (data == nullptr) throw std::bad_alloc();
    return static_cast<T*>(data);
  }
  void deallocate(T* data, std::size_t count) noexcept {
    const std::size_t bytes = count * sizeof(T);
    if (MapsLargeBlock(bytes)) {
      UnmapAligned(data, bytes);
    } else {
      ::operator delete(data);
    }
  }

  template <typename U>
  bool operator==(const LargeBlockAllocator<U>&) const noexcept {
    return true;
  }
};

// A vector whose storage, once it reaches kLargeBlockBytes, is a mapping of its own.
template <typename T>
using LargeVector = std::vector<T, LargeBlockAllocator<T>>;
using LargeString = std::basic_string<char, std::char_traits<char>, LargeBlockAllocator<char>>;

}  // namespace page_memory
