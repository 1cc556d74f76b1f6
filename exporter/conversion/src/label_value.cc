#include "exporter/conversion/label_value.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace exporter::conversion {
namespace {

// Length of the well-formed UTF-8 sequence at `text[i]`, or 0 when it is ill-formed; then
// `*bad` is set to the length of the maximal ill-formed subpart to replace (>= 1).
// Table 3-7 of the Unicode Standard, "Well-Formed UTF-8 Byte Sequences".
std::size_t SequenceLength(std::string_view text, std::size_t i, std::size_t* bad) {
  auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(text[k]); };
  std::uint8_t lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length;
  std::uint8_t low = 0x80;
  std::uint8_t high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    *bad = 1;
    return 0;
  }
  for (std::size_t k = 1; k < length; ++k) {
    if (i + k >= text.size()) {
      *bad = k;
      return 0;
    }
    std::uint8_t continuation = byte(i + k);
    bool ok = k == 1 ? (continuation >= low && continuation <= high)
                     : (continuation >= 0x80 && continuation <= 0xBF);
    if (!ok) {
      *bad = k;
      return 0;
    }
  }
  return length;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  // Label values are nearly always ASCII: eight bytes without a high bit are eight characters,
  // checked at once.
  constexpr std::uint64_t kHighBits = 0x8080808080808080;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.size() - i >= sizeof(std::uint64_t)) {
      std::uint64_t word = 0;
      std::memcpy(&word, text.data() + i, sizeof word);  // unaligned, without aliasing
      if ((word & kHighBits) == 0) {
        i += sizeof word;
        continue;
      }
    }
    if (static_cast<std::uint8_t>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    std::size_t bad = 0;
    std::size_t length = SequenceLength(text, i, &bad);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::string ToValidUtf8(std::string_view text) {
  if (IsValidUtf8(text)) return std::string(text);
  std::string result;
  result.reserve(text.size() + 8);
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t bad = 0;
    std::size_t length = SequenceLength(text, i, &bad);
    if (length == 0) {
      result.append("\xEF\xBF\xBD");
      i += bad;
    } else {
      result.append(text.data() + i, length);
      i += length;
    }
  }
  return result;
}

}  // namespace exporter::conversion
