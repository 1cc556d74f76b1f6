#pragma once

#include <zlib.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace test_support {

// The oracle is zlib's inflate, not our own code: the whole member as gzip (windowBits 16+15),
// which checks the header, every block, the CRC-32 and ISIZE, and that nothing follows.
// nullopt unless `member` is exactly one complete gzip member.
inline std::optional<std::string> Gunzip(std::string_view member) {
  z_stream stream{};
  if (inflateInit2(&stream, 16 + 15) != Z_OK) return std::nullopt;
  std::string out;
  std::vector<char> chunk(1 << 16);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(member.data()));
  stream.avail_in = static_cast<uInt>(member.size());
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    result = inflate(&stream, Z_NO_FLUSH);
    out.append(chunk.data(), chunk.size() - stream.avail_out);
  }
  const bool complete = result == Z_STREAM_END && stream.avail_in == 0;
  inflateEnd(&stream);
  if (!complete) return std::nullopt;
  return out;
}

}  // namespace test_support
