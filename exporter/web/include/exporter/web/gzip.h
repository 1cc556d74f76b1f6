#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "page_memory/large_block.h"

// gzip for /metrics, built so that the big shared part of a body is compressed once per fetch:
// each part is deflated on its own into a DeflateSegment, and a scrape's response is one gzip
// member (RFC 1952) framed around the segments of its parts, the shared one included unchanged.
namespace exporter::web {

// True when an Accept-Encoding header value admits gzip: a "gzip" or "*" coding (ASCII case
// insensitive) whose q is not 0 (RFC 9110 12.5.3).
bool AcceptsGzip(std::string_view accept_encoding);

// Raw deflate (RFC 1951) of a text with a fresh dictionary, ended byte-aligned by a flush and
// without a final block, so that it can sit between other segments of one gzip member; with the
// CRC-32 and size in bytes of the text. Immutable once built: share it across threads. The
// snapshot's segment (3.4 MB at 300k series) lives until the next fetch's replaces it: in a
// mapping of its own (page_memory/large_block.h), so that it is gone once freed.
// LargeBlockAllocator is always equal, so moving the string never takes basic_string's copying
// branch, which clang-tidy follows all the same.
// NOLINTNEXTLINE(bugprone-exception-escape)
struct DeflateSegment {
  page_memory::LargeString bytes;
  std::uint32_t crc32 = 0;
  std::uint64_t size = 0;
};

// The segment of `text` (an empty text gives empty bytes). ~1 ms of CPU per MB of exposition
// text, compressed ~7:1 (ISA-L level 1; level 0 below 4 KiB). Pure and thread-safe; never throws
// except std::bad_alloc; nullopt if ISA-L reports an error or `text` is 4 GiB or more.
std::optional<DeflateSegment> DeflateSegmentOf(std::string_view text);

// Decompresses `segment` into pieces of at most `piece_bytes`, handing each to `write` in
// order; stops early, returning false, when `write` returns false. False too when the bytes
// are not the deflate of `segment.size` bytes (never for DeflateSegmentOf's output). Serves
// an identity response from the compressed copy, so that a slow client holds 1/7 of the text.
bool InflateSegment(const DeflateSegment& segment, std::size_t piece_bytes,
                    const std::function<bool(std::string_view)>& write);

// The 10 bytes every member starts with: no name, no timestamp, "fastest" compression.
std::string_view GzipHeader();

// The 10 bytes that close a member made of `segments` (in order; null entries are skipped): a
// final empty deflate block, then the CRC-32 and the size mod 2^32 of their texts together.
std::string GzipTrailer(std::span<const DeflateSegment* const> segments);
inline std::string GzipTrailer(std::initializer_list<const DeflateSegment*> segments) {
  return GzipTrailer(std::span<const DeflateSegment* const>(segments.begin(), segments.size()));
}

// One complete gzip member: GzipHeader(), each segment's bytes in order, GzipTrailer(). Null
// entries are skipped, so an absent part can be passed as nullptr. This copies every segment;
// to send the shared one without a copy, send those same pieces as a list of buffers.
std::string GzipMember(std::span<const DeflateSegment* const> segments);
inline std::string GzipMember(std::initializer_list<const DeflateSegment*> segments) {
  return GzipMember(std::span<const DeflateSegment* const>(segments.begin(), segments.size()));
}

}  // namespace exporter::web
