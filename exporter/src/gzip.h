#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace exporter {

// True when an Accept-Encoding header value admits gzip (a "gzip" or "*" coding whose q is not 0).
bool AcceptsGzip(std::string_view accept_encoding);

// gzip (RFC 1952) of `data` at zlib's fastest level; nullopt if zlib fails.
std::optional<std::string> Gzip(std::string_view data);

}  // namespace exporter
