#include "exporter/web/gzip.h"

#include <doctest/doctest.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "gunzip.h"
#include "temp_dir.h"

namespace exporter::web {
namespace {

using test_support::Gunzip;

// True when raw inflate consumes all of `bytes` without reaching a final block: what lets a segment
// sit in the middle of a member.
bool IsOpenRawDeflate(std::string_view bytes) {
  z_stream stream{};
  if (inflateInit2(&stream, -15) != Z_OK) return false;
  std::vector<char> chunk(1 << 16);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  int result = Z_OK;
  while (result == Z_OK && stream.avail_in > 0) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    result = inflate(&stream, Z_SYNC_FLUSH);
  }
  inflateEnd(&stream);
  return (result == Z_OK || result == Z_BUF_ERROR) && stream.avail_in == 0;
}

// Exposition-like text: compresses the way a real body does, but not to nothing.
std::string MetricsText(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string text;
  text.reserve(size + 100);
  while (text.size() < size) {
    text += "smartproxy_ip_connections_active{ip=\"10." + std::to_string(rng() % 256) + "." +
            std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) + "\"} " +
            std::to_string(rng() % 100000) + "\n";
  }
  text.resize(size);
  return text;
}

// Uniform random bytes, NUL and 0xff included: incompressible, so ISA-L stores them.
std::string BinaryText(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string text(size, '\0');
  for (char& c : text) c = static_cast<char>(rng() & 0xff);
  return text;
}

DeflateSegment SegmentOf(std::string_view text) {
  auto segment = DeflateSegmentOf(text);
  REQUIRE(segment.has_value());
  return std::move(*segment);
}

std::uint32_t Crc32(std::string_view text) {
  return static_cast<std::uint32_t>(
      crc32_z(0, reinterpret_cast<const Bytef*>(text.data()), text.size()));
}

std::uint32_t LittleEndian32(std::string_view bytes) {
  std::uint32_t value = 0;
  for (std::size_t i = 4; i-- > 0;) value = value << 8 | static_cast<unsigned char>(bytes[i]);
  return value;
}

constexpr std::size_t kSizes[] = {0,     1,     2,     300,   4095,  4096,   4097,
                                  32767, 32768, 65535, 65536, 65537, 131072, 1 << 20};

TEST_CASE("AcceptsGzip admits a gzip or * coding unless its q is zero") {
  SUBCASE("admitted") {
    CHECK(AcceptsGzip("gzip"));
    CHECK(AcceptsGzip("deflate, GZIP;q=0.5"));
    CHECK(AcceptsGzip("*"));
    CHECK(AcceptsGzip("GzIp"));
    CHECK(AcceptsGzip(" \tgzip\t "));
    CHECK(AcceptsGzip("gzip, deflate, br"));
    CHECK(AcceptsGzip("identity,gzip"));
    CHECK(AcceptsGzip("gzip;q=1"));
    CHECK(AcceptsGzip("gzip;Q=0.001"));
    CHECK(AcceptsGzip("gzip ; q=0.5"));
    CHECK(AcceptsGzip("gzip;level=1;q=0.2"));
    CHECK(AcceptsGzip("gzip;q=0, *"));  // the wildcard still admits it
    CHECK(AcceptsGzip("gzip;q="));      // no value: not a quality, the coding stands
    CHECK(AcceptsGzip("gzip;foo"));
    CHECK(AcceptsGzip(",gzip,"));
  }
  SUBCASE("refused") {
    CHECK_FALSE(AcceptsGzip(""));
    CHECK_FALSE(AcceptsGzip("identity"));
    CHECK_FALSE(AcceptsGzip("gzip;q=0"));
    CHECK_FALSE(AcceptsGzip("gzip; q=0.000"));
    CHECK_FALSE(AcceptsGzip("x-gzip2"));
    CHECK_FALSE(AcceptsGzip("x-gzip"));  // today's behaviour: only the registered name
    CHECK_FALSE(AcceptsGzip("gzip2"));
    CHECK_FALSE(AcceptsGzip("g zip"));
    CHECK_FALSE(AcceptsGzip("deflate, br"));
    CHECK_FALSE(AcceptsGzip("GZIP;Q=0"));
    CHECK_FALSE(AcceptsGzip("gzip;q=0.0, identity"));
    CHECK_FALSE(AcceptsGzip("*;q=0"));
    CHECK_FALSE(AcceptsGzip("gzip;q=-1"));
    CHECK_FALSE(AcceptsGzip("gzip;q=abc"));  // unparsable reads as 0, as today
    CHECK_FALSE(AcceptsGzip(" , ,"));
  }
}

TEST_CASE("A segment is open raw deflate with the CRC-32 and size of its text") {
  for (const std::size_t size : kSizes) {
    for (const bool binary : {false, true}) {
      CAPTURE(size);
      CAPTURE(binary);
      const std::string text = binary ? BinaryText(size, size) : MetricsText(size, size);
      const DeflateSegment segment = SegmentOf(text);
      CHECK(segment.size == size);
      CHECK(segment.crc32 == Crc32(text));
      CHECK(IsOpenRawDeflate(segment.bytes));
      if (!binary && size >= 65536) CHECK(segment.bytes.size() < size / 3);
    }
  }
}

TEST_CASE("A single-segment member decompresses to its text") {
  for (const std::size_t size : kSizes) {
    for (const bool binary : {false, true}) {
      CAPTURE(size);
      CAPTURE(binary);
      const std::string text = binary ? BinaryText(size, size + 1) : MetricsText(size, size + 1);
      const DeflateSegment segment = SegmentOf(text);
      CHECK(Gunzip(GzipMember({&segment})) == text);
    }
  }
}

// From 6 MiB on, the first guess of the output (a sixth of the text) is 1 MiB or more: deflate
// writes into pages of its own, grown by doubling for a text that does not compress (random
// bytes need about 6 MiB of output, three doublings), and copies the result out.
TEST_CASE("A segment of a large text decompresses to it, compressible or not") {
  for (const bool binary : {false, true}) {
    CAPTURE(binary);
    const std::size_t size = (6 << 20) + 1;
    const std::string text = binary ? BinaryText(size, 3) : MetricsText(size, 3);
    const DeflateSegment segment = SegmentOf(text);
    CHECK(segment.size == size);
    CHECK(segment.crc32 == Crc32(text));
    CHECK(IsOpenRawDeflate(segment.bytes));
    CHECK(Gunzip(GzipMember({&segment})) == text);
    if (binary) CHECK(segment.bytes.size() > size);  // stored: larger than the text
  }
}

TEST_CASE("A member spliced from head, shared snapshot and tail decompresses to all three" *
          doctest::test_suite("concurrency")) {
  const std::string big = MetricsText(5 << 20, 7);  // several MB, past ISA-L's first guess
  const DeflateSegment snapshot = SegmentOf(big);
  const std::size_t small_sizes[] = {0, 1, 300, 2048, 4096, 65536};
  for (const std::size_t head_size : small_sizes) {
    for (const std::size_t tail_size : small_sizes) {
      CAPTURE(head_size);
      CAPTURE(tail_size);
      const std::string head = MetricsText(head_size, 1);
      const std::string tail = BinaryText(tail_size, 2);
      const DeflateSegment head_segment = SegmentOf(head);
      const DeflateSegment tail_segment = SegmentOf(tail);
      CHECK(Gunzip(GzipMember({&head_segment, &snapshot, &tail_segment})) == head + big + tail);
    }
  }
}

TEST_CASE("Segments splice in any order, repeated, empty, binary, and of every size") {
  std::vector<std::string> texts;
  std::vector<DeflateSegment> segments;
  for (const std::size_t size : kSizes) {
    texts.push_back(size % 2 ? BinaryText(size, size + 3) : MetricsText(size, size + 3));
  }
  texts.push_back(BinaryText(3 << 20, 11));  // incompressible: stored blocks, several MB
  texts.push_back(std::string(1 << 20, '\0'));
  for (const std::string& text : texts) segments.push_back(SegmentOf(text));

  SUBCASE("all in order") {
    std::vector<const DeflateSegment*> list;
    std::string expected;
    for (std::size_t i = 0; i < segments.size(); ++i) {
      list.push_back(&segments[i]);
      expected += texts[i];
    }
    CHECK(Gunzip(GzipMember(list)) == expected);
  }
  SUBCASE("reversed, each twice, nulls skipped") {
    std::vector<const DeflateSegment*> list;
    std::string expected;
    for (std::size_t i = segments.size(); i-- > 0;) {
      list.insert(list.end(), {&segments[i], nullptr, &segments[i]});
      expected += texts[i] + texts[i];
    }
    CHECK(Gunzip(GzipMember(list)) == expected);
  }
  SUBCASE("only empty segments, or none") {
    const DeflateSegment empty = SegmentOf("");
    CHECK(Gunzip(GzipMember({&empty, &empty})) == "");
    CHECK(Gunzip(GzipMember({nullptr})) == "");
    CHECK(Gunzip(GzipMember(std::span<const DeflateSegment* const>())) == "");
  }
}

TEST_CASE("The member has a valid gzip header and a trailer with the combined CRC and size") {
  const std::string head = "# HELP smartproxy_up up\n# TYPE smartproxy_up gauge\nsmartproxy_up 1\n";
  const std::string snapshot = MetricsText(200000, 5);
  const std::string tail = BinaryText(2000, 6);
  const DeflateSegment a = SegmentOf(head);
  const DeflateSegment b = SegmentOf(snapshot);
  const DeflateSegment c = SegmentOf(tail);
  const std::string member = GzipMember({&a, &b, &c});
  REQUIRE(member.size() >= 20);

  // RFC 1952 2.3: ID1 ID2 CM, no FLG bits (so no optional fields follow), MTIME 0.
  CHECK(static_cast<unsigned char>(member[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(member[1]) == 0x8b);
  CHECK(member[2] == 8);
  CHECK(member[3] == 0);
  CHECK(LittleEndian32(member.substr(4, 4)) == 0);
  CHECK(member.substr(0, 10) == GzipHeader());
  CHECK(std::string_view(member).substr(10, a.bytes.size()) == std::string_view(a.bytes));

  const std::string whole = head + snapshot + tail;
  const std::string_view trailer = std::string_view(member).substr(member.size() - 8);
  CHECK(LittleEndian32(trailer.substr(0, 4)) == Crc32(whole));
  CHECK(LittleEndian32(trailer.substr(4, 4)) == whole.size());
  const DeflateSegment* segments[] = {&a, &b, &c};
  CHECK(member.substr(member.size() - 10) == GzipTrailer(segments));
  CHECK(member.substr(member.size() - 10, 2) == std::string("\x03\x00", 2));  // final block
  CHECK(member.size() == GzipHeader().size() + a.bytes.size() + b.bytes.size() + c.bytes.size() +
                             GzipTrailer(segments).size());
  CHECK(Gunzip(member) == whole);
}

TEST_CASE("ISIZE is the total size modulo 2^32") {
  // Only the trailer is checked: the sizes are claimed, not compressed.
  DeflateSegment big;
  big.size = (std::uint64_t{1} << 32) + 5;
  big.crc32 = 0;
  DeflateSegment small;
  small.size = 7;
  const DeflateSegment* segments[] = {&big, &small};
  const std::string trailer = GzipTrailer(segments);
  REQUIRE(trailer.size() == 10);
  CHECK(LittleEndian32(std::string_view(trailer).substr(6, 4)) == 12);
}

TEST_CASE("gzip -t accepts a spliced member and gzip -dc restores its text") {
  const std::string head = MetricsText(300, 21);
  const std::string snapshot = MetricsText(3 << 20, 22);
  const std::string tail = BinaryText(2048, 23);
  const DeflateSegment a = SegmentOf(head);
  const DeflateSegment b = SegmentOf(snapshot);
  const DeflateSegment c = SegmentOf(tail);
  const test_support::TempDir dir;
  const std::string gz = dir.File("body.gz");
  const std::string out = dir.File("body");
  test_support::WriteFile(gz, GzipMember({&a, &b, &c}));
  CHECK(std::system(("/bin/gzip -t " + gz).c_str()) == 0);
  REQUIRE(std::system(("/bin/gzip -dc " + gz + " > " + out).c_str()) == 0);
  CHECK(test_support::ReadFile(out) == head + snapshot + tail);
}

}  // namespace
}  // namespace exporter::web

namespace exporter::web {

TEST_CASE("InflateSegment gives back the text in pieces of at most the piece size") {
  for (const std::size_t size :
       {std::size_t{1}, std::size_t{4095}, std::size_t{300000}, std::size_t{3} << 20}) {
    CAPTURE(size);
    const std::string text = MetricsText(size, size);
    const auto segment = DeflateSegmentOf(text);
    REQUIRE(segment.has_value());
    std::string out;
    std::size_t largest = 0;
    CHECK(InflateSegment(*segment, 65536, [&](std::string_view piece) {
      largest = std::max(largest, piece.size());
      out.append(piece);
      return true;
    }));
    CHECK(out == text);
    CHECK(largest <= 65536);
  }
}

TEST_CASE("InflateSegment stops when the writer does, and refuses a truncated segment") {
  const std::string text = MetricsText(1 << 20, 7);
  auto segment = DeflateSegmentOf(text);
  REQUIRE(segment.has_value());
  int pieces = 0;
  CHECK_FALSE(InflateSegment(*segment, 4096, [&](std::string_view) { return ++pieces < 3; }));
  CHECK(pieces == 3);
  segment->bytes.resize(segment->bytes.size() / 2);
  std::string out;
  CHECK_FALSE(InflateSegment(*segment, 4096, [&](std::string_view piece) {
    out.append(piece);
    return true;
  }));
  CHECK(out.size() < text.size());
  CHECK(text.starts_with(out));
}

}  // namespace exporter::web
