#include "exporter/conversion/metric_names.h"

namespace exporter::conversion {
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

std::optional<std::string_view> MetricNamespaceProblem(std::string_view metric_namespace) {
  // Colons are reserved for recording rules, so a namespace never has one.
  if (!MatchesName(metric_namespace, false)) return "must match [a-zA-Z_][a-zA-Z0-9_]*";
  if (metric_namespace.starts_with("__")) {
    return "must not start with \"__\" (reserved for Prometheus' internal use)";
  }
  return std::nullopt;
}

bool IsValidMetricName(std::string_view name) { return MatchesName(name, true); }

}  // namespace exporter::conversion
