#include "surrogate_escapes.h"

#include <cstring>

namespace proxy_client::detail {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The code unit of a `\uXXXX` escape starting at json[i] (the backslash), or -1.
long EscapedCodeUnit(const char* json, std::size_t size, std::size_t i) {
  if (i + 6 > size || json[i] != '\\' || json[i + 1] != 'u') return -1;
  long unit = 0;
  for (std::size_t k = 2; k < 6; ++k) {
    const int digit = HexDigit(json[i + k]);
    if (digit < 0) return -1;
    unit = unit * 16 + digit;
  }
  return unit;
}

bool IsHighSurrogate(long unit) { return unit >= 0xD800 && unit <= 0xDBFF; }
bool IsLowSurrogate(long unit) { return unit >= 0xDC00 && unit <= 0xDFFF; }

void WriteReplacement(char* at) { std::memcpy(at, "\\ufffd", 6); }

}  // namespace

std::size_t ReplaceLoneSurrogateEscapes(char* json, std::size_t size) {
  std::size_t replaced = 0;
  std::size_t i = 0;
  while (i < size) {
    // memchr skips the (vast) backslash-free stretches at memory speed.
    const void* hit = std::memchr(json + i, '\\', size - i);
    if (hit == nullptr) break;
    i = static_cast<std::size_t>(static_cast<const char*>(hit) - json);
    if (i + 1 >= size) break;
    if (json[i + 1] != 'u') {
      i += 2;  // a two-character escape such as \\ or \" : its second byte is not an escape
      continue;
    }
    const long unit = EscapedCodeUnit(json, size, i);
    if (IsHighSurrogate(unit)) {
      if (IsLowSurrogate(EscapedCodeUnit(json, size, i + 6))) {
        i += 12;  // a proper pair
        continue;
      }
      WriteReplacement(json + i);
      ++replaced;
    } else if (IsLowSurrogate(unit)) {
      WriteReplacement(json + i);
      ++replaced;
    }
    i += 6;
  }
  return replaced;
}

}  // namespace proxy_client::detail
