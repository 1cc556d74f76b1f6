#include "exporter/conversion/metric_names.h"

#include <doctest/doctest.h>

TEST_CASE("Metric namespaces are validated") {
  CHECK(exporter::conversion::IsValidMetricNamespace("smartproxy"));
  CHECK(exporter::conversion::IsValidMetricNamespace("_x9"));
  CHECK(exporter::conversion::IsValidMetricNamespace("Edge_Proxy2"));
  CHECK_FALSE(exporter::conversion::IsValidMetricNamespace(""));
  CHECK_FALSE(exporter::conversion::IsValidMetricNamespace("9lives"));
  CHECK_FALSE(exporter::conversion::IsValidMetricNamespace("a:b"));
  CHECK_FALSE(exporter::conversion::IsValidMetricNamespace("a-b"));
  CHECK_FALSE(exporter::conversion::IsValidMetricNamespace("__reserved"));
  CHECK_FALSE(exporter::conversion::IsValidMetricNamespace("__"));
  CHECK_FALSE(exporter::conversion::IsValidMetricNamespace("caf\xc3\xa9"));
  CHECK(exporter::conversion::IsValidMetricNamespace("_"));
  CHECK(exporter::conversion::IsValidMetricNamespace("_x_"));
}

TEST_CASE("Metric names allow colons, namespaces do not") {
  CHECK(exporter::conversion::IsValidMetricName("job:smartproxy_up:sum"));
  CHECK(exporter::conversion::IsValidMetricName(":x"));
  CHECK(exporter::conversion::IsValidMetricName("__name"));
  CHECK_FALSE(exporter::conversion::IsValidMetricName(""));
  CHECK_FALSE(exporter::conversion::IsValidMetricName("1x"));
  CHECK_FALSE(exporter::conversion::IsValidMetricName("a b"));
  CHECK_FALSE(exporter::conversion::IsValidMetricName("a.b"));
}
