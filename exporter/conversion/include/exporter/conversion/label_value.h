#pragma once

#include <string>
#include <string_view>

// Label values from untrusted proxy data. Prometheus rejects a whole scrape that contains a
// label value that is not valid UTF-8, so every such value passes through here.
namespace exporter::conversion {

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF; RFC 3629).
bool IsValidUtf8(std::string_view text);

// `text` with every maximal ill-formed subsequence replaced by U+FFFD (the Unicode
// "substitution of maximal subparts" practice). Returns `text` unchanged when it is valid.
std::string ToValidUtf8(std::string_view text);

}  // namespace exporter::conversion
