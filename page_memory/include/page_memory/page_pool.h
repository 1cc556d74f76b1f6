#pragma once

#include <chrono>
#include <cstddef>

// The huge pages a scrape's buffers are done with are kept for the next scrape's buffers
// (MapAligned, PageBuffer::MakeWritable) instead of being given back and zero-filled again by
// the kernel when next written. Pooled pages count in the resident set, but a buffer takes a
// pooled page before a fresh one, as far as it writes, so the resident total stays at what the
// largest scrape had in use at once; the pool never holds more than 512 MiB. Only where
// transparent huge pages are offered; without them nothing is pooled.
namespace page_memory {

// A page pooled and unused this long goes back to the kernel (checked whenever the pool is
// used, and by the exporter's main thread every 30 s): longer than the 1 m default scrape
// interval of Prometheus and the 2 m some exporters are scraped at, so that a steady scraper
// always finds the last scrape's pages.
inline constexpr std::chrono::seconds kPoolHoldTime{150};

// Bytes held in the pool now, in use by nobody.
std::size_t PooledBytes();

// Gives back to the kernel every page pooled before `time` (the pool does this itself, for
// pages pooled longer than kPoolHoldTime, whenever it is used).
void ReturnPagesPooledBefore(std::chrono::steady_clock::time_point time);
// Gives every pooled page back to the kernel now.
void ReturnPooledPages();

}  // namespace page_memory
