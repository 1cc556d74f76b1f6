#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

// Prometheus text exposition format 0.0.4, written without std::ostream.
namespace exporter {

// Appends `families` to `*out` in the text format. The bytes equal prometheus-cpp 1.0.1's
// TextSerializer for every metric type, with one deliberate exception: HELP text is escaped
// (`\` and newline) as the format requires, which 1.0.1 omits. Never throws except
// std::bad_alloc. Thread-safe for distinct `out`.
void AppendTextFormat(const std::vector<prometheus::MetricFamily>& families, std::string* out);

// The same into a new string.
std::string ToTextFormat(const std::vector<prometheus::MetricFamily>& families);

// Appends one part of a family: its HELP and TYPE lines when `first`, then its samples. A
// family split into consecutive parts, only the first with `first`, gives the same bytes as
// AppendTextFormat on the whole family. Does not reserve: the caller sizes `*out`.
void AppendFamilyPart(const prometheus::MetricFamily& part, bool first, std::string* out);

}  // namespace exporter
