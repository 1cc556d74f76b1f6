#include "exporter/conversion/snapshot_metrics.h"

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "conversion_harness.h"
#include "exporter/conversion/metric_names.h"
#include "exposition.h"
#include "fixture_snapshot.h"

namespace {

using prometheus::MetricFamily;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const MetricFamily* FindFamily(const std::vector<MetricFamily>& families, const std::string& name) {
  for (const auto& family : families) {
    if (family.name == name) return &family;
  }
  return nullptr;
}

// Every (name, label set) of the text, from the sample lines.
void CheckNoDuplicateSeries(const std::vector<MetricFamily>& families) {
  std::set<std::string> seen;
  for (const auto& family : families) {
    CHECK(exporter::conversion::IsValidMetricName(family.name));
    for (const auto& metric : family.metric) {
      std::string key = family.name;
      for (const auto& label : metric.label) key += '\0' + label.name + '\0' + label.value;
      CHECK_MESSAGE(seen.insert(key).second, "duplicate series in " << family.name);
    }
  }
}

}  // namespace

TEST_CASE("Conversion writes the same samples as text and as prometheus-cpp's families") {
  exporter::conversion::MetricsOptions options;
  SUBCASE("defaults") {}
  SUBCASE("every IP, anonymised") {
    options.ips.top = 1000;
    options.ips.anonymize = exporter::conversion::IpAnonymization::kPrefix;
  }
  SUBCASE("routes folded, no IPs") {
    options.routes.max = 1;
    options.ips.top = 0;
  }
  const auto converted = test_support::Convert(exporter_test::FullSnapshot(), options,
                                               exporter_test::FullSnapshotNow());
  REQUIRE(!converted.families.empty());
  CHECK(converted.text == test_support::PrometheusCppText(converted.families));
  CheckNoDuplicateSeries(converted.families);
}

TEST_CASE("Conversion of the golden JSON fixture matches the golden exposition") {
  // The fixture goes through proxy_client's parser, as a fetched snapshot does.
  const auto converted = test_support::Convert(
      test_support::FixtureSnapshot("snapshot_golden.json"), exporter::conversion::MetricsOptions{},
      exporter_test::FullSnapshotNow());
  const std::string& text = converted.text;
  const auto& families = converted.families;
  const auto& folded = converted.folded;
  const std::string golden_path = std::string(GOLDEN_DIR) + "/snapshot_full.prom";
  if (std::getenv("UPDATE_GOLDEN") != nullptr) {
    std::ofstream(golden_path, std::ios::binary) << text;
  }
  CHECK(text == ReadFile(golden_path));
  // The fixture lists 4 of its 5012 distinct IPs (as under ?ips=N): the other 5008 are folded.
  CHECK(folded.ips == 5008);
  CHECK(folded.routes == 0);
  CheckNoDuplicateSeries(families);
  CHECK_PROMTOOL_CLEAN(text);
}

TEST_CASE("Conversion uses the configured namespace for every metric") {
  exporter::conversion::MetricsOptions options;
  options.metric_namespace = "edge_proxy";
  const auto families = test_support::Convert(exporter_test::FullSnapshot(), options,
                                              exporter_test::FullSnapshotNow())
                            .families;
  REQUIRE(!families.empty());
  for (const auto& family : families) CHECK(family.name.rfind("edge_proxy_", 0) == 0);
  CHECK(FindFamily(families, "edge_proxy_connections_active") != nullptr);
}

TEST_CASE("Conversion of a minimal snapshot exports only the required groups") {
  proxy_client::Snapshot snapshot;
  snapshot.timestamp_ms = 1000;
  snapshot.connections.active = 3;
  snapshot.connections.total = 10;
  const std::string text =
      test_support::Convert(snapshot, exporter::conversion::MetricsOptions{},
                            std::chrono::system_clock::time_point(std::chrono::milliseconds(3500)))
          .text;
  CHECK(text ==
        "# HELP smartproxy_connections_active Active connections.\n"
        "# TYPE smartproxy_connections_active gauge\n"
        "smartproxy_connections_active 3\n"
        "# HELP smartproxy_connections_total Connections accepted since the proxy started.\n"
        "# TYPE smartproxy_connections_total counter\n"
        "smartproxy_connections_total 10\n"
        "# HELP smartproxy_snapshot_age_seconds Time between the proxy taking the snapshot and "
        "this conversion.\n"
        "# TYPE smartproxy_snapshot_age_seconds gauge\n"
        "smartproxy_snapshot_age_seconds 2.5\n");
  CHECK_PROMTOOL_CLEAN(text);
}

TEST_CASE("Client IP count falls back to the size of byIP without distinctIPs") {
  proxy_client::Snapshot snapshot;
  snapshot.connections.by_ip = proxy_client::NamedValues<double>{{"a", 1}, {"b", 2}, {"c", 3}};
  const auto families = test_support::Convert(snapshot, exporter::conversion::MetricsOptions{},
                                              std::chrono::system_clock::time_point{})
                            .families;
  const MetricFamily* family = FindFamily(families, "smartproxy_client_ips");
  REQUIRE(family != nullptr);
  CHECK(family->metric.at(0).gauge.value == 3);
}

TEST_CASE("Top zero exports no per-IP series at all") {
  exporter::conversion::MetricsOptions options;
  options.ips.top = 0;
  const auto converted = test_support::Convert(exporter_test::FullSnapshot(), options,
                                               exporter_test::FullSnapshotNow());
  const auto& families = converted.families;
  const auto& folded = converted.folded;
  CHECK(FindFamily(families, "smartproxy_ip_connections_active") == nullptr);
  CHECK(FindFamily(families, "smartproxy_ip_throughput_bytes_per_second") == nullptr);
  CHECK(FindFamily(families, "smartproxy_client_ips") != nullptr);
  CHECK(folded.ips == 0);
}
