#include "exporter/metric_family_builder.h"

#include <algorithm>
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

namespace {

void SetValue(prometheus::MetricType type, double value, prometheus::ClientMetric* metric) {
  switch (type) {
    case prometheus::MetricType::Counter:
      metric->counter.value = value;
      break;
    case prometheus::MetricType::Gauge:
      metric->gauge.value = value;
      break;
    case prometheus::MetricType::Untyped:
      metric->untyped.value = value;
      break;
    case prometheus::MetricType::Summary:
    case prometheus::MetricType::Histogram:
      assert(false && "only single-value types are built here");
      break;
  }
}

}  // namespace

prometheus::ClientMetric& AddSample(prometheus::MetricFamily* family, double value) {
  prometheus::ClientMetric& metric = family->metric.emplace_back();
  SetValue(family->type, value, &metric);
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

MetricFamilyStream::MetricFamilyStream(std::size_t max_part_samples, Sink sink)
    : max_part_samples_(std::max<std::size_t>(max_part_samples, 1)), sink_(std::move(sink)) {}

void MetricFamilyStream::Begin(std::string_view name, std::string_view help,
                               prometheus::MetricType type, std::size_t expected_samples) {
  End();
  assert(IsValidMetricName(name) && "metric names are built from fixed parts only");
  name_.assign(name);
  help_.assign(help);
  part_.type = type;
  part_.metric.reserve(std::min(expected_samples, max_part_samples_));
  open_ = true;
  first_ = true;
}

void MetricFamilyStream::Add(double value, std::initializer_list<LabelView> labels) {
  assert(open_ && "Begin a family first");
  if (used_ == max_part_samples_) Flush();
  prometheus::ClientMetric* metric;
  if (used_ < part_.metric.size()) {
    metric = &part_.metric[used_];
    metric->counter.value = 0;
    metric->gauge.value = 0;
    metric->untyped.value = 0;
  } else {
    metric = &part_.metric.emplace_back();
  }
  ++used_;
  SetValue(part_.type, value, metric);
  // Assigning into the labels a previous sample left keeps their strings' storage.
  metric->label.resize(labels.size());
  auto label = metric->label.begin();
  for (const LabelView& view : labels) {
    label->name.assign(view.name);
    label->value.assign(view.value);
    ++label;
  }
}

void MetricFamilyStream::End() {
  if (!open_) return;
  if (first_ || used_ > 0) Flush();
  open_ = false;
}

void MetricFamilyStream::Flush() {
  part_.metric.resize(used_);  // samples beyond are left over from a longer part
  part_.name = name_;
  part_.help = help_;
  sink_(part_, first_);
  first_ = false;
  used_ = 0;
}

}  // namespace exporter
