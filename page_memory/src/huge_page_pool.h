#pragma once

#include <cstdint>

// Whole huge pages that one buffer of a scrape is done with, kept for the next one that needs
// them. A fresh page is zeroed by the kernel when first written: at 300k series a scrape writes
// ~70 MB of buffers once each, and zeroing them was a sixth of its CPU time (perf:
// clear_page_erms). A pooled page is moved (mremap, a page-table move: no copy, no zeroing)
// into the next buffer about to be written, so the resident total stays at what was in use at
// once, as long as every buffer takes pooled pages before it writes fresh ones.
//
// All addresses are huge-page aligned and every range is whole huge pages. Thread-safe.
namespace page_memory::detail {

// The owner of [begin, end) is done with its contents; its resident pages are pooled.
// kept_by_owner: the range stays its owner's mapping (a buffer keeping its capacity), and a
// page taken from it leaves an empty one in its place (mremap's MREMAP_DONTUNMAP). Otherwise the
// owner is unmapping the range: the pool owns its pooled pages from now on, and the rest is
// unmapped. Returns the end of the last page pooled (begin when none was).
std::uintptr_t PoolGive(std::uintptr_t begin, std::uintptr_t end, bool kept_by_owner);

// The caller may write anywhere in [begin, end), a range of a mapping of its own whose contents
// it does not need: its own pages still pooled there come back; and it expects to write
// [begin, fill_end): there pooled pages are moved in where no page is resident, for as many
// as the pool has. Moved pages keep what they held.
void PoolTake(std::uintptr_t begin, std::uintptr_t end, std::uintptr_t fill_end);

// The owner of [begin, end) unmaps it without pooling its pages: the pool drops what it lent.
void PoolForget(std::uintptr_t begin, std::uintptr_t end);

}  // namespace page_memory::detail
