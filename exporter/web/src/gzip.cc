#include "exporter/web/gzip.h"

#include <zlib.h>

#include <cstdlib>

#include "exporter/strings/ascii.h"

namespace exporter::web {
namespace {

using strings::EqualsIgnoreCase;
using strings::TrimOws;

// RFC 9110 12.5.3: a coding with q=0 is "not acceptable".
bool QualityIsZero(std::string_view parameters) {
  while (!parameters.empty()) {
    const auto semicolon = parameters.find(';');
    const std::string_view parameter = TrimOws(parameters.substr(0, semicolon));
    if (parameter.size() > 2 && (parameter[0] == 'q' || parameter[0] == 'Q') &&
        parameter[1] == '=') {
      const std::string value(parameter.substr(2));
      return std::strtod(value.c_str(), nullptr) <= 0.0;
    }
    if (semicolon == std::string_view::npos) break;
    parameters.remove_prefix(semicolon + 1);
  }
  return false;
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    const std::string_view item = accept_encoding.substr(0, comma);
    const auto semicolon = item.find(';');
    const std::string_view coding = TrimOws(item.substr(0, semicolon));
    const std::string_view parameters =
        semicolon == std::string_view::npos ? std::string_view() : item.substr(semicolon + 1);
    if ((EqualsIgnoreCase(coding, "gzip") || coding == "*") && !QualityIsZero(parameters)) {
      return true;
    }
    if (comma == std::string_view::npos) break;
    accept_encoding.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<DeflateSegment> DeflateSegmentOf(std::string_view text) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::nullopt;
  }
  DeflateSegment segment;
  segment.size = text.size();
  segment.crc32 = static_cast<std::uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
  segment.bytes.resize(deflateBound(&stream, static_cast<uLong>(text.size())) + 16);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(segment.bytes.data());
  stream.avail_out = static_cast<uInt>(segment.bytes.size());
  const int result = deflate(&stream, Z_SYNC_FLUSH);
  const bool ok = result == Z_OK && stream.avail_in == 0;
  segment.bytes.resize(segment.bytes.size() - stream.avail_out);
  deflateEnd(&stream);
  if (!ok) return std::nullopt;
  return segment;
}

std::string GzipMember(std::initializer_list<const DeflateSegment*> segments) {
  std::size_t bytes = 10 + 2 + 8;
  for (const DeflateSegment* segment : segments) bytes += segment->bytes.size();
  std::string out;
  out.reserve(bytes);
  out.append("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
  uLong crc = 0;
  std::uint64_t size = 0;
  for (const DeflateSegment* segment : segments) {
    out += segment->bytes;
    crc = crc32_combine(crc, segment->crc32, static_cast<z_off_t>(segment->size));
    size += segment->size;
  }
  out.append("\x03\x00", 2);  // an empty final block with fixed Huffman codes
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((size >> (8 * i)) & 0xff));
  return out;
}

}  // namespace exporter::web
