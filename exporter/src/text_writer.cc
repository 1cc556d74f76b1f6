#include "exporter/text_writer.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>

namespace exporter {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Longest output of AppendDouble / AppendInteger: "-1.797693134862316e+308" is 23 bytes.
constexpr std::size_t kNumberBufferSize = 32;

// Doubles are written as prometheus-cpp 1.0.1 writes them: "Nan", "+Inf", "-Inf", otherwise
// an ostream with precision 16 and the default float field, i.e. printf("%.16g").
// std::to_chars with a precision is specified as printf with that precision.
void AppendDouble(double value, std::string* out) {
  if (std::isnan(value)) {
    out->append("Nan");
    return;
  }
  if (std::isinf(value)) {
    out->append(value < 0 ? "-Inf" : "+Inf");
    return;
  }
  char buffer[kNumberBufferSize];
  char* end;
  // Fast path: an integer below 1e16 has at most 16 digits, so %.16g prints it exactly
  // and without an exponent. -0 keeps its sign ("-0"), which the integer path would lose.
  if (std::fabs(value) < 1e16 && value == std::trunc(value) &&
      !(value == 0 && std::signbit(value))) {
    end = std::to_chars(buffer, buffer + sizeof buffer, static_cast<std::int64_t>(value)).ptr;
  } else {
    end = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, 16).ptr;
  }
  out->append(buffer, static_cast<std::size_t>(end - buffer));
}

template <typename Integer>
void AppendInteger(Integer value, std::string* out) {
  char buffer[kNumberBufferSize];
  char* end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  out->append(buffer, static_cast<std::size_t>(end - buffer));
}

// Label values escape `\`, `"` and newline (text format 0.0.4,
// https://prometheus.io/docs/instrumenting/exposition_formats/#comments-help-text-and-type-information).
// HELP escapes `\` and newline only.
template <bool kEscapeQuote>
void AppendEscaped(std::string_view text, std::string* out) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' || c == '\n' || (kEscapeQuote && c == '"')) {
      out->append(text.data() + start, i - start);
      out->append(c == '\n' ? "\\n" : c == '\\' ? "\\\\" : "\\\"", 2);
      start = i + 1;
    }
  }
  out->append(text.data() + start, text.size() - start);
}

// Name and labels up to and including the space before the value. `extra_name` is the
// `quantile` / `le` label that summaries and histograms add after the sample's own labels.
void AppendHead(const MetricFamily& family, const ClientMetric& metric, std::string_view suffix,
                std::string_view extra_name, std::string* out) {
  out->append(family.name);
  out->append(suffix);
  if (metric.label.empty() && extra_name.empty()) {
    out->push_back(' ');
    return;
  }
  out->push_back('{');
  bool first = true;
  for (const auto& label : metric.label) {
    if (!first) out->push_back(',');
    first = false;
    out->append(label.name);
    out->append("=\"", 2);
    AppendEscaped<true>(label.value, out);
    out->push_back('"');
  }
  if (!extra_name.empty()) {
    if (!first) out->push_back(',');
    out->append(extra_name);
    out->append("=\"", 2);
  }
}

// Closes a head opened with an extra label whose value has just been written.
void CloseExtraLabel(std::string* out) { out->append("\"} ", 3); }

void CloseHead(const ClientMetric& metric, std::string* out) {
  if (!metric.label.empty()) out->append("} ", 2);
}

void AppendTail(const ClientMetric& metric, std::string* out) {
  if (metric.timestamp_ms != 0) {
    out->push_back(' ');
    AppendInteger(metric.timestamp_ms, out);
  }
  out->push_back('\n');
}

void AppendSimple(const MetricFamily& family, const ClientMetric& metric, double value,
                  std::string* out) {
  AppendHead(family, metric, {}, {}, out);
  CloseHead(metric, out);
  AppendDouble(value, out);
  AppendTail(metric, out);
}

void AppendCountAndSum(const MetricFamily& family, const ClientMetric& metric, std::uint64_t count,
                       double sum, std::string* out) {
  AppendHead(family, metric, "_count", {}, out);
  CloseHead(metric, out);
  AppendInteger(count, out);
  AppendTail(metric, out);
  AppendHead(family, metric, "_sum", {}, out);
  CloseHead(metric, out);
  AppendDouble(sum, out);
  AppendTail(metric, out);
}

void AppendSummary(const MetricFamily& family, const ClientMetric& metric, std::string* out) {
  const auto& summary = metric.summary;
  AppendCountAndSum(family, metric, summary.sample_count, summary.sample_sum, out);
  for (const auto& quantile : summary.quantile) {
    AppendHead(family, metric, {}, "quantile", out);
    AppendDouble(quantile.quantile, out);
    CloseExtraLabel(out);
    AppendDouble(quantile.value, out);
    AppendTail(metric, out);
  }
}

void AppendHistogram(const MetricFamily& family, const ClientMetric& metric, std::string* out) {
  const auto& histogram = metric.histogram;
  AppendCountAndSum(family, metric, histogram.sample_count, histogram.sample_sum, out);
  double last = -std::numeric_limits<double>::infinity();
  for (const auto& bucket : histogram.bucket) {
    AppendHead(family, metric, "_bucket", "le", out);
    AppendDouble(bucket.upper_bound, out);
    CloseExtraLabel(out);
    AppendInteger(bucket.cumulative_count, out);
    AppendTail(metric, out);
    last = bucket.upper_bound;
  }
  // Like prometheus-cpp, a +Inf bucket is added unless the last one already is +Inf.
  if (last != std::numeric_limits<double>::infinity()) {
    AppendHead(family, metric, "_bucket", "le", out);
    out->append("+Inf");
    CloseExtraLabel(out);
    AppendInteger(histogram.sample_count, out);
    AppendTail(metric, out);
  }
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Summary:
      return "summary";
    case MetricType::Untyped:
      return "untyped";
    case MetricType::Histogram:
      return "histogram";
  }
  return "untyped";
}

// A cheap upper-bound-ish guess of the family's size, so the output grows once.
std::size_t EstimateSize(const MetricFamily& family) {
  std::size_t per_line = family.name.size() + 32;
  if (!family.metric.empty()) {
    for (const auto& label : family.metric.front().label) {
      per_line += label.name.size() + label.value.size() + 4;
    }
  }
  std::size_t lines = family.metric.size();
  if (family.type == MetricType::Summary || family.type == MetricType::Histogram) lines *= 4;
  return family.help.size() + 2 * family.name.size() + 32 + lines * per_line;
}

}  // namespace

void AppendFamilyPart(const MetricFamily& part, bool first, std::string* out) {
  if (first) {
    if (!part.help.empty()) {
      out->append("# HELP ");
      out->append(part.name);
      out->push_back(' ');
      AppendEscaped<false>(part.help, out);
      out->push_back('\n');
    }
    out->append("# TYPE ");
    out->append(part.name);
    out->push_back(' ');
    out->append(TypeName(part.type));
    out->push_back('\n');
  }
  for (const auto& metric : part.metric) {
    switch (part.type) {
      case MetricType::Counter:
        AppendSimple(part, metric, metric.counter.value, out);
        break;
      case MetricType::Gauge:
        AppendSimple(part, metric, metric.gauge.value, out);
        break;
      case MetricType::Untyped:
        AppendSimple(part, metric, metric.untyped.value, out);
        break;
      case MetricType::Summary:
        AppendSummary(part, metric, out);
        break;
      case MetricType::Histogram:
        AppendHistogram(part, metric, out);
        break;
    }
  }
}

void AppendTextFormat(const std::vector<MetricFamily>& families, std::string* out) {
  std::size_t estimate = out->size();
  for (const auto& family : families) estimate += EstimateSize(family);
  if (estimate > out->capacity()) out->reserve(estimate);
  for (const auto& family : families) AppendFamilyPart(family, true, out);
}

std::string ToTextFormat(const std::vector<MetricFamily>& families) {
  std::string out;
  AppendTextFormat(families, &out);
  return out;
}

}  // namespace exporter
