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

// Copies `text` to `out` and returns its end. Names, label values and most numbers are short
// (3 to 40 bytes): copied with two overlapping loads and stores of a fixed size, which the
// compiler turns into a few moves, instead of a call to memcpy per piece (a tenth of the
// conversion's CPU in bench/conversion_bench). Reads and writes stay within the n bytes.
inline char* WriteBytes(char* out, std::string_view text) {
  const char* const in = text.data();
  const std::size_t n = text.size();
  if (n >= 16) {
    if (n > 32) {
      std::memcpy(out, in, n);
      return out + n;
    }
    char head[16];
    char tail[16];
    std::memcpy(head, in, 16);
    std::memcpy(tail, in + n - 16, 16);
    std::memcpy(out, head, 16);
    std::memcpy(out + n - 16, tail, 16);
  } else if (n >= 8) {
    std::uint64_t head;
    std::uint64_t tail;
    std::memcpy(&head, in, 8);
    std::memcpy(&tail, in + n - 8, 8);
    std::memcpy(out, &head, 8);
    std::memcpy(out + n - 8, &tail, 8);
  } else if (n >= 4) {
    std::uint32_t head;
    std::uint32_t tail;
    std::memcpy(&head, in, 4);
    std::memcpy(&tail, in + n - 4, 4);
    std::memcpy(out, &head, 4);
    std::memcpy(out + n - 4, &tail, 4);
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = in[i];
  }
  return out + n;
}

// Doubles are written as prometheus-cpp 1.0.1 writes them: "Nan", "+Inf", "-Inf", otherwise
// an ostream with precision 16 and the default float field, i.e. printf("%.16g").
// std::to_chars with a precision is specified as printf with that precision. OpenMetrics
// spells NaN "NaN" (its ABNF); every other form is the same in both flavours.
char* WriteDouble(char* out, double value, TextFormat format) {
  if (std::isnan(value)) return WriteBytes(out, format == TextFormat::kOpenMetrics ? "NaN" : "Nan");
  if (std::isinf(value)) return WriteBytes(out, value < 0 ? "-Inf" : "+Inf");
  // Fast path: an integer below 1e16 has at most 16 digits, so %.16g prints it exactly
  // and without an exponent. -0 keeps its sign ("-0"), which the integer path would lose.
  // The round trip through int64 is the integer test: cheaper than std::trunc without SSE4.1.
  if (std::fabs(value) < 1e16) {
    const auto integer = static_cast<std::int64_t>(value);
    if (static_cast<double>(integer) == value && !(integer == 0 && std::signbit(value))) {
      return std::to_chars(out, out + kMaxNumberBytes, integer).ptr;
    }
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
[[gnu::always_inline]] inline bool NeedsEscaping(std::string_view text) {
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
// (https://prometheus.io/docs/instrumenting/exposition_formats/#comments-help-text-and-type-information),
// except in OpenMetrics, whose HELP escapes `"` too. `out` has room for twice the text.
template <bool kEscapeQuote>
[[gnu::always_inline]] inline char* WriteEscaped(char* out, std::string_view text) {
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

std::string_view TypeName(MetricType type, TextFormat format) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kInfo:
      return format == TextFormat::kOpenMetrics ? "info" : "gauge";
  }
  return "untyped";
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// OpenMetrics names a family without the suffix its type gives its samples.
std::string_view OpenMetricsFamilyName(std::string_view name, MetricType type) {
  const std::string_view suffix = type == MetricType::kCounter ? "_total"
                                  : type == MetricType::kInfo  ? "_info"
                                                               : "";
  assert(EndsWith(name, suffix) && "counters end in _total, info families in _info");
  return EndsWith(name, suffix) ? name.substr(0, name.size() - suffix.size()) : name;
}

// The OpenMetrics unit of a family, from the base unit its name ends in (the specification
// requires the name to end in `_<unit>`); empty when it names none. Info families have none.
std::string_view OpenMetricsUnit(std::string_view family_name, MetricType type) {
  if (type == MetricType::kInfo) return {};
  for (const std::string_view unit : {std::string_view("seconds"), std::string_view("bytes")}) {
    if (family_name.size() > unit.size() + 1 && EndsWith(family_name, unit) &&
        family_name[family_name.size() - unit.size() - 1] == '_') {
      return unit;
    }
  }
  return {};
}

}  // namespace

void TextWriter::Family(const FamilyInfo& family) {
  assert(IsValidMetricName(family.name) && "metric names are built from fixed parts only");
  name_.assign(family.name);
  const bool open_metrics = format_ == TextFormat::kOpenMetrics;
  const std::string_view family_name =
      open_metrics ? OpenMetricsFamilyName(family.name, family.type) : family.name;
  created_.clear();
  if (open_metrics && family.type == MetricType::kCounter && family.created_seconds) {
    created_.assign(family_name).append("_created");
    created_seconds_ = *family.created_seconds;
  }
  const std::string_view type = TypeName(family.type, format_);
  const std::string_view unit = open_metrics ? OpenMetricsUnit(family_name, family.type) : "";
  char* out = out_->Extend(2 * family.help.size() + 3 * family.name.size() + type.size() +
                           unit.size() + 48);
  if (!family.help.empty()) {
    out = WriteBytes(out, "# HELP ");
    out = WriteBytes(out, family_name);
    *out++ = ' ';
    out =
        open_metrics ? WriteEscaped<true>(out, family.help) : WriteEscaped<false>(out, family.help);
    *out++ = '\n';
  }
  out = WriteBytes(out, "# TYPE ");
  out = WriteBytes(out, family_name);
  *out++ = ' ';
  out = WriteBytes(out, type);
  *out++ = '\n';
  if (!unit.empty()) {
    out = WriteBytes(out, "# UNIT ");
    out = WriteBytes(out, family_name);
    *out++ = ' ';
    out = WriteBytes(out, unit);
    *out++ = '\n';
  }
  out_->Commit(out);
}

void TextWriter::Sample(double value, std::initializer_list<Label> labels) {
  WriteSample(name_, value, labels);
  if (!created_.empty()) WriteSample(created_, created_seconds_, labels);
}

void TextWriter::End() {
  if (format_ == TextFormat::kOpenMetrics) out_->Append("# EOF\n");
}

void TextWriter::WriteSample(std::string_view name, double value,
                             std::initializer_list<Label> labels) {
  // One bound for the whole line, so the line is written without further size checks.
  std::size_t bound = name.size() + kMaxNumberBytes + 4;
  for (const Label& label : labels) bound += label.name.size() + 2 * label.value.size() + 4;
  char* out = out_->Extend(bound);
  out = WriteBytes(out, name);
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
  out = WriteDouble(out, value, format_);
  *out++ = '\n';
  out_->Commit(out);
}

}  // namespace exporter::conversion
