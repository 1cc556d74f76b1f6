#include "exporter/web/gzip.h"

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <memory>
#include <new>

#include "exporter/strings/ascii.h"
#include "exporter/web/http_lists.h"
#include "page_memory/page_buffer.h"

namespace exporter::web {
namespace {

std::uint32_t Crc32(std::string_view text) {
  // ISA-L's folding CRC runs at ~30 GB/s here, zlib 1.2.13's at ~4 GB/s (compression_bench).
  return crc32_gzip_refl(0, reinterpret_cast<const unsigned char*>(text.data()), text.size());
}

// Below this a text is one of a scrape's own small parts (head ~150 B, tail ~2.5 KB). Level 0
// with the fixed Huffman code needs no level buffer and builds no tables: ~0.4 us for the head,
// ~2.7 us for the tail, against ~4 us and ~9 us at level 1, for at most ~150 bytes more. From
// here on, level 1: about as fast per MB as level 0 and ~25% smaller (bench/compression/README.md).
constexpr std::size_t kLevel1MinBytes = 4096;

// Output room for Deflate: a string (resized, its new bytes zeroed) or pages (never filled).
struct StringRoom {
  page_memory::LargeString* bytes;
  char* data() const { return bytes->data(); }
  std::size_t size() const { return bytes->size(); }
  bool Grow(std::size_t /*written*/) const {
    bytes->resize(2 * bytes->size());
    return true;
  }
};
struct PageRoom {
  page_memory::PageBuffer* pages;
  char* data() const { return pages->data(); }
  std::size_t size() const { return pages->room(); }
  bool Grow(std::size_t written) const {
    if (!pages->Reserve(2 * pages->capacity(), written)) return false;
    pages->MakeWritable(pages->capacity());
    return true;
  }
};

// Runs `stream` (its input set) to the end into `room`, doubling it as needed; `*written`: the
// bytes produced. False when ISA-L reports an error. Throws std::bad_alloc if room is refused.
template <typename Room>
bool Deflate(isal_zstream* stream, Room room, std::size_t* written) {
  while (true) {
    const std::size_t free_bytes =
        std::min<std::size_t>(room.size() - *written, std::numeric_limits<std::uint32_t>::max());
    stream->next_out = reinterpret_cast<std::uint8_t*>(room.data() + *written);
    stream->avail_out = static_cast<std::uint32_t>(free_bytes);
    if (isal_deflate(stream) != COMP_OK) return false;
    *written += free_bytes - stream->avail_out;
    // igzip_lib.h: output space left over means all input was compressed and flushed.
    if (stream->avail_in == 0 && stream->avail_out > 0) return true;
    if (!room.Grow(*written)) throw std::bad_alloc();
  }
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  // RFC 9110 12.5.3: a coding with q=0 is "not acceptable".
  bool accepts = false;
  ForEachListElement(accept_encoding, [&](std::string_view coding, std::string_view parameters) {
    if ((strings::EqualsIgnoreCase(coding, "gzip") || coding == "*") && Quality(parameters) > 0) {
      accepts = true;
    }
  });
  return accepts;
}

std::optional<DeflateSegment> DeflateSegmentOf(std::string_view text) {
  // No bytes at all is a valid segment for no text: nothing to compress, nothing to allocate.
  if (text.empty()) return DeflateSegment{};
  // ISA-L counts input in 32 bits.
  if (text.size() >= std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  const bool level1 = text.size() >= kLevel1MinBytes;
  // Level 1 needs a buffer for its hash table and tokens. Its size (276 KB) made no difference
  // per MB, and a fresh one per call measured the same as one kept per thread.
  std::unique_ptr<std::uint8_t[]> level_buf;
  if (level1) level_buf = std::make_unique_for_overwrite<std::uint8_t[]>(ISAL_DEF_LVL1_DEFAULT);
  // 82 KB: too big for a server thread's stack; the heap costs less than the compression.
  const auto stream = std::make_unique_for_overwrite<isal_zstream>();
  isal_deflate_init(stream.get());
  if (!level1 &&
      isal_deflate_set_hufftables(stream.get(), nullptr, IGZIP_HUFFTABLE_STATIC) != COMP_OK) {
    return std::nullopt;
  }
  stream->level = level1 ? 1 : 0;
  stream->level_buf = level_buf.get();
  stream->level_buf_size = level1 ? ISAL_DEF_LVL1_DEFAULT : 0;
  // FULL_FLUSH without end_of_stream: the output ends with an empty stored block, so it is
  // byte-aligned and has no final block; and no match reaches into a later segment.
  stream->flush = FULL_FLUSH;
  stream->end_of_stream = 0;
  stream->gzip_flag = IGZIP_DEFLATE;
  stream->next_in = reinterpret_cast<std::uint8_t*>(const_cast<char*>(text.data()));
  stream->avail_in = static_cast<std::uint32_t>(text.size());

  DeflateSegment segment;
  segment.size = text.size();
  segment.crc32 = Crc32(text);
  // The exposition format compresses ~7:1 (bench/compression/README.md), so a sixth of the
  // input is one pass nearly always; a text that compresses worse doubles the room.
  const std::size_t guess = text.size() / 6 + 4096;
  std::size_t written = 0;
  if (guess < page_memory::kLargeBlockBytes) {
    // A scrape's head and tail, or a small snapshot: straight into the segment.
    segment.bytes.resize(guess);
    if (!Deflate(stream.get(), StringRoom{&segment.bytes}, &written)) return std::nullopt;
    segment.bytes.resize(written);
    // A text that compressed worse than the guess doubled the room: give back what is unused.
    if (segment.bytes.capacity() - written > written / 8 + 4096) segment.bytes.shrink_to_fit();
  } else {
    // Into pages that are never filled before they are written (deflate's worst case is more
    // than the input), then copied to a segment of the exact size: the shared segment lives as
    // long as its fetch.
    page_memory::PageBuffer out;
    if (!out.Reserve(guess, 0)) throw std::bad_alloc();
    out.MakeWritable(guess);
    if (!Deflate(stream.get(), PageRoom{&out}, &written)) return std::nullopt;
    segment.bytes.assign(out.data(), written);
  }
  return segment;
}

bool InflateSegment(const DeflateSegment& segment, std::size_t piece_bytes,
                    const std::function<bool(std::string_view)>& write) {
  if (segment.bytes.size() >= std::numeric_limits<std::uint32_t>::max()) return false;
  // 40 KB of state: on the heap, as for deflate.
  const auto state = std::make_unique_for_overwrite<inflate_state>();
  isal_inflate_init(state.get());
  state->crc_flag = ISAL_DEFLATE;  // raw deflate: the segment has no header of its own
  state->next_in = reinterpret_cast<std::uint8_t*>(const_cast<char*>(segment.bytes.data()));
  state->avail_in = static_cast<std::uint32_t>(segment.bytes.size());
  piece_bytes = std::clamp<std::size_t>(piece_bytes, 4096, std::uint32_t{1} << 30);
  const auto piece = std::make_unique_for_overwrite<char[]>(piece_bytes);
  std::uint64_t produced = 0;
  while (produced < segment.size) {
    state->next_out = reinterpret_cast<std::uint8_t*>(piece.get());
    state->avail_out =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(piece_bytes, segment.size - produced));
    const std::uint32_t room = state->avail_out;
    if (isal_inflate(state.get()) != ISAL_DECOMP_OK) return false;
    const std::uint32_t written = room - state->avail_out;
    // No progress: the input ended before `size` bytes came out.
    if (written == 0) return false;
    produced += written;
    if (!write(std::string_view(piece.get(), written))) return false;
  }
  return true;
}

std::string_view GzipHeader() {
  // RFC 1952 2.3: ID1 ID2, CM=8 (deflate), FLG=0, MTIME=0 (none), XFL=4 (fastest), OS=3 (Unix).
  return {"\x1f\x8b\x08\x00\x00\x00\x00\x00\x04\x03", 10};
}

std::string GzipTrailer(std::span<const DeflateSegment* const> segments) {
  std::uint32_t crc = 0;
  std::uint64_t size = 0;
  for (const DeflateSegment* segment : segments) {
    if (segment == nullptr) continue;
    // crc32_combine's length is a signed z_off_t: fine for any one segment that fits in memory.
    crc = static_cast<std::uint32_t>(
        crc32_combine(crc, segment->crc32, static_cast<z_off_t>(segment->size)));
    size += segment->size;
  }
  // RFC 1951 3.2.3: BFINAL=1, BTYPE=01 (fixed Huffman), then end-of-block (7 zero bits).
  std::string trailer = {'\x03', '\x00'};
  // RFC 1952 2.3.1: CRC32, then ISIZE (size mod 2^32), both little-endian.
  for (int shift = 0; shift < 32; shift += 8) trailer += static_cast<char>((crc >> shift) & 0xff);
  for (int shift = 0; shift < 32; shift += 8) trailer += static_cast<char>((size >> shift) & 0xff);
  return trailer;
}

std::string GzipMember(std::span<const DeflateSegment* const> segments) {
  const std::string trailer = GzipTrailer(segments);
  std::size_t total = GzipHeader().size() + trailer.size();
  for (const DeflateSegment* segment : segments) {
    if (segment != nullptr) total += segment->bytes.size();
  }
  std::string member;
  member.reserve(total);
  member += GzipHeader();
  for (const DeflateSegment* segment : segments) {
    if (segment != nullptr) member += segment->bytes;
  }
  member += trailer;
  return member;
}

}  // namespace exporter::web
