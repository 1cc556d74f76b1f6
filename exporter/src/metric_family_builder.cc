#include "exporter/metric_family_builder.h"

#include <cassert>
#include <utility>

namespace exporter {
namespace {

bool IsNameStart(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
}

bool IsNameChar(char c, bool allow_colon) {
  return IsNameStart(c, allow_colon) || (c >= '0' && c <= '9');
}

bool MatchesName(std::string_view name, bool allow_colon) {
  if (name.empty() || !IsNameStart(name.front(), allow_colon)) return false;
  for (char c : name) {
    if (!IsNameChar(c, allow_colon)) return false;
  }
  return true;
}

}  // namespace

bool IsValidMetricNamespace(std::string_view metric_namespace) {
  // Colons are reserved for recording rules, so a namespace never has one.
  return MatchesName(metric_namespace, false) && metric_namespace.substr(0, 2) != "__";
}

bool IsValidMetricName(std::string_view name) { return MatchesName(name, true); }

prometheus::MetricFamily MakeFamily(std::string name, std::string help, prometheus::MetricType type,
                                    std::size_t expected_samples) {
  assert(IsValidMetricName(name) && "metric names are built from fixed parts only");
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  family.metric.reserve(expected_samples);
  return family;
}

prometheus::ClientMetric& AddSample(prometheus::MetricFamily* family, double value) {
  prometheus::ClientMetric& metric = family->metric.emplace_back();
  switch (family->type) {
    case prometheus::MetricType::Counter:
      metric.counter.value = value;
      break;
    case prometheus::MetricType::Gauge:
      metric.gauge.value = value;
      break;
    case prometheus::MetricType::Untyped:
      metric.untyped.value = value;
      break;
    case prometheus::MetricType::Summary:
    case prometheus::MetricType::Histogram:
      assert(false && "AddSample takes single-value types only");
      break;
  }
  return metric;
}

void AddLabel(prometheus::ClientMetric* metric, std::string name, std::string value) {
  metric->label.push_back({std::move(name), std::move(value)});
}

prometheus::MetricFamily MakeGauge(std::string name, std::string help, double value) {
  auto family = MakeFamily(std::move(name), std::move(help), prometheus::MetricType::Gauge, 1);
  AddSample(&family, value);
  return family;
}

prometheus::MetricFamily MakeCounter(std::string name, std::string help, double value) {
  auto family = MakeFamily(std::move(name), std::move(help), prometheus::MetricType::Counter, 1);
  AddSample(&family, value);
  return family;
}

}  // namespace exporter
