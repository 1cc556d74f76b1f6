#include "gzip.h"

#include <zlib.h>

#include <cctype>
#include <cstdlib>

namespace exporter {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// RFC 9110 12.5.3: a coding with q=0 is "not acceptable".
bool QualityIsZero(std::string_view parameters) {
  while (!parameters.empty()) {
    const auto semicolon = parameters.find(';');
    const std::string_view parameter = Trim(parameters.substr(0, semicolon));
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
    const std::string_view coding = Trim(item.substr(0, semicolon));
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

std::optional<std::string> Gzip(const std::vector<std::string_view>& parts) {
  z_stream stream{};
  // windowBits 15 + 16 selects the gzip wrapper instead of zlib's.
  if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::nullopt;
  }
  std::size_t total = 0;
  for (const auto part : parts) total += part.size();
  // The exposition format compresses about 6:1; growing from a fifth of the input avoids
  // touching deflateBound's worst case (more than the input) for every concurrent scrape.
  std::string out;
  out.resize(total / 5 + 1024);
  std::size_t written = 0;
  int result = Z_OK;
  for (std::size_t i = 0; i < parts.size() && result != Z_STREAM_ERROR; ++i) {
    const bool last = i + 1 == parts.size();
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(parts[i].data()));
    stream.avail_in = static_cast<uInt>(parts[i].size());
    do {
      if (written == out.size()) out.resize(out.size() * 2);
      stream.next_out = reinterpret_cast<Bytef*>(out.data() + written);
      stream.avail_out = static_cast<uInt>(out.size() - written);
      result = deflate(&stream, last ? Z_FINISH : Z_NO_FLUSH);
      written = out.size() - stream.avail_out;
    } while (result != Z_STREAM_ERROR &&
             (stream.avail_in > 0 || (last && result != Z_STREAM_END)));
  }
  deflateEnd(&stream);
  if (result != Z_STREAM_END) return std::nullopt;
  out.resize(written);
  return out;
}

}  // namespace exporter
