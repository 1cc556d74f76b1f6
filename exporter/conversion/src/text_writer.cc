#include "exporter/conversion/text_writer.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "exporter/conversion/metric_names.h"

namespace exporter::conversion {
namespace {

// Longest output of WriteDouble: "-1.797693134862316e+308" is 23 bytes.
constexpr std::size_t kMaxNumberBytes = 32;

char* WriteBytes(char* out, std::string_view text) {
  std::memcpy(out, text.data(), text.size());
  return out + text.size();
}

// Doubles are written as prometheus-cpp 1.0.1 writes them: "Nan", "+Inf", "-Inf", otherwise
// an ostream with precision 16 and the default float field, i.e. printf("%.16g").
// std::to_chars with a precision is specified as printf with that precision.
char* WriteDouble(char* out, double value) {
  if (std::isnan(value)) return WriteBytes(out, "Nan");
  if (std::isinf(value)) return WriteBytes(out, value < 0 ? "-Inf" : "+Inf");
  // Fast path: an integer below 1e16 has at most 16 digits, so %.16g prints it exactly
  // and without an exponent. -0 keeps its sign ("-0"), which the integer path would lose.
  if (std::fabs(value) < 1e16 && value == std::trunc(value) &&
      !(value == 0 && std::signbit(value))) {
    return std::to_chars(out, out + kMaxNumberBytes, static_cast<std::int64_t>(value)).ptr;
  }
  return std::to_chars(out, out + kMaxNumberBytes, value, std::chars_format::general, 16).ptr;
}

// True when a byte of `word` equals `byte` (the classic SWAR zero-byte test on word ^ byte).
constexpr bool HasByte(std::uint64_t word, unsigned char byte) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  const std::uint64_t x = word ^ (kOnes * byte);
  return ((x - kOnes) & ~x & kHighs) != 0;
}

// Whether `text` holds a byte that must be escaped, eight bytes at a time: most label values
// (IPs, route names) have none and are then copied whole.
template <bool kEscapeQuote>
bool NeedsEscaping(std::string_view text) {
  const auto special = [](std::uint64_t word) {
    return HasByte(word, '\\') || HasByte(word, '\n') || (kEscapeQuote && HasByte(word, '"'));
  };
  if (text.size() < 8) {
    for (const char c : text) {
      if (c == '\\' || c == '\n' || (kEscapeQuote && c == '"')) return true;
    }
    return false;
  }
  std::uint64_t word;
  for (std::size_t i = 0; i + 8 <= text.size(); i += 8) {
    std::memcpy(&word, text.data() + i, 8);
    if (special(word)) return true;
  }
  // The last eight bytes, overlapping the ones already checked: one load, no byte loop.
  std::memcpy(&word, text.data() + text.size() - 8, 8);
  if (special(word)) return true;
  return false;
}

// Label values escape `\`, `"` and newline; HELP text escapes `\` and newline only
// (https://prometheus.io/docs/instrumenting/exposition_formats/#comments-help-text-and-type-information).
// `out` has room for twice the text.
template <bool kEscapeQuote>
char* WriteEscaped(char* out, std::string_view text) {
  if (!NeedsEscaping<kEscapeQuote>(text)) return WriteBytes(out, text);
  for (const char c : text) {
    if (c == '\\' || c == '\n' || (kEscapeQuote && c == '"')) {
      *out++ = '\\';
      *out++ = c == '\n' ? 'n' : c;
    } else {
      *out++ = c;
    }
  }
  return out;
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
    case MetricType::kInfo:
      return "gauge";
  }
  return "untyped";
}

}  // namespace

void TextWriter::Family(const FamilyInfo& family) {
  assert(IsValidMetricName(family.name) && "metric names are built from fixed parts only");
  name_.assign(family.name);
  const std::string_view type = TypeName(family.type);
  char* out = out_->Extend(2 * family.help.size() + 2 * family.name.size() + type.size() + 32);
  if (!family.help.empty()) {
    out = WriteBytes(out, "# HELP ");
    out = WriteBytes(out, family.name);
    *out++ = ' ';
    out = WriteEscaped<false>(out, family.help);
    *out++ = '\n';
  }
  out = WriteBytes(out, "# TYPE ");
  out = WriteBytes(out, family.name);
  *out++ = ' ';
  out = WriteBytes(out, type);
  *out++ = '\n';
  out_->Commit(out);
}

void TextWriter::Sample(double value, std::initializer_list<Label> labels) {
  // One bound for the whole line, so the line is written without further size checks.
  std::size_t bound = name_.size() + kMaxNumberBytes + 4;
  for (const Label& label : labels) bound += label.name.size() + 2 * label.value.size() + 4;
  char* out = out_->Extend(bound);
  out = WriteBytes(out, name_);
  if (labels.size() > 0) {
    char separator = '{';
    for (const Label& label : labels) {
      *out++ = separator;
      separator = ',';
      out = WriteBytes(out, label.name);
      *out++ = '=';
      *out++ = '"';
      out = WriteEscaped<true>(out, label.value);
      *out++ = '"';
    }
    *out++ = '}';
  }
  *out++ = ' ';
  out = WriteDouble(out, value);
  *out++ = '\n';
  out_->Commit(out);
}

}  // namespace exporter::conversion
