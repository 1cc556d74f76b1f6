#pragma once

#include <optional>
#include <string_view>

// The naming rules of Prometheus' data model
// (https://prometheus.io/docs/concepts/data_model/#metric-names-and-labels), one place for the
// configuration (metrics.namespace) and the conversion.
namespace exporter::conversion {

// What is wrong with a metric-name prefix, or nothing when it is valid: it must match
// [a-zA-Z_][a-zA-Z0-9_]* and must not start with "__" (reserved for Prometheus' internal use).
std::optional<std::string_view> MetricNamespaceProblem(std::string_view metric_namespace);
inline bool IsValidMetricNamespace(std::string_view metric_namespace) {
  return !MetricNamespaceProblem(metric_namespace).has_value();
}

// True for a valid metric name: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsValidMetricName(std::string_view name);

}  // namespace exporter::conversion
