#pragma once

#include <cstddef>
#include <string_view>

// ASCII text rules shared by the HTTP and configuration code. Locale-independent on purpose:
// HTTP tokens (RFC 9110 5.6.2) and YAML keywords compare as ASCII, whatever LC_CTYPE says.
namespace exporter::strings {

constexpr char ToLowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// ASCII case-insensitive equality: "gzip" == "GZip", "Basic" == "BASIC".
constexpr bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

// `text` without leading and trailing spaces and tabs (HTTP's optional whitespace, OWS).
constexpr std::string_view TrimOws(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace exporter::strings
