#pragma once

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <cstddef>
#include <string>
#include <string_view>

// Small helpers to build prometheus::MetricFamily values by hand (a custom Collectable
// bypasses prometheus-cpp's own name checks, so names are validated here).
namespace exporter {

// True for a valid metric-name prefix: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"
// (reserved for Prometheus' internal use).
bool IsValidMetricNamespace(std::string_view metric_namespace);

// True for a valid metric name: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsValidMetricName(std::string_view name);

// An empty family; `expected_samples` reserves room for that many samples.
prometheus::MetricFamily MakeFamily(std::string name, std::string help, prometheus::MetricType type,
                                    std::size_t expected_samples = 0);

// Appends a sample holding `value` in the field of the family's type (counter, gauge or
// untyped; asserts on others) and returns it so labels can be added.
prometheus::ClientMetric& AddSample(prometheus::MetricFamily* family, double value);

// Appends a label; the caller guarantees a valid name and a valid UTF-8 value.
void AddLabel(prometheus::ClientMetric* metric, std::string name, std::string value);

// A family with one unlabelled sample.
prometheus::MetricFamily MakeGauge(std::string name, std::string help, double value);
prometheus::MetricFamily MakeCounter(std::string name, std::string help, double value);

}  // namespace exporter
