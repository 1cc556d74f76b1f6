#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace exporter::web {

// True when an Accept-Encoding header value admits gzip (a "gzip" or "*" coding whose q is not 0).
bool AcceptsGzip(std::string_view accept_encoding);

// Raw deflate of `text` with a fresh dictionary, ended byte-aligned and not final, so that it
// can be placed between other segments of one gzip member; with the CRC-32 and size of `text`.
struct DeflateSegment {
  std::string bytes;
  std::uint32_t crc32 = 0;
  std::uint64_t size = 0;
};
std::optional<DeflateSegment> DeflateSegmentOf(std::string_view text);

// One gzip member (RFC 1952) whose content is the segments' texts in order.
std::string GzipMember(std::initializer_list<const DeflateSegment*> segments);

}  // namespace exporter::web
