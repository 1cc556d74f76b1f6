#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exporter {

// True when an Accept-Encoding header value admits gzip (a "gzip" or "*" coding whose q is not 0).
bool AcceptsGzip(std::string_view accept_encoding);

// gzip (RFC 1952) of the concatenation of `parts`, at zlib's fastest level; nullopt if zlib
// fails.
std::optional<std::string> Gzip(const std::vector<std::string_view>& parts);

}  // namespace exporter
