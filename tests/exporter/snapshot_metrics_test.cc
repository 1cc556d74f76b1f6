#include "exporter/snapshot_metrics.h"

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

#include "exporter/metric_family_builder.h"
#include "exporter/text_writer.h"
#include "fixture_snapshot.h"
#include "promtool_check.h"

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
    CHECK(exporter::IsValidMetricName(family.name));
    for (const auto& metric : family.metric) {
      std::string key = family.name;
      for (const auto& label : metric.label) key += '\0' + label.name + '\0' + label.value;
      CHECK_MESSAGE(seen.insert(key).second, "duplicate series in " << family.name);
    }
  }
}

struct Streamed {
  std::string text;                    // the parts written with AppendFamilyPart
  std::vector<MetricFamily> families;  // the parts joined back into families
  exporter::AggregationCounts folded;
};

Streamed Stream(const proxy_client::Snapshot& snapshot, const exporter::MetricsOptions& options,
                std::size_t part_samples) {
  Streamed streamed;
  exporter::MetricFamilyStream stream(part_samples, [&](const MetricFamily& part, bool first) {
    CHECK(part.metric.size() <= part_samples);
    exporter::AppendFamilyPart(part, first, &streamed.text);
    if (first) {
      streamed.families.push_back(part);
    } else {
      REQUIRE(!streamed.families.empty());
      CHECK(streamed.families.back().name == part.name);
      auto& metric = streamed.families.back().metric;
      metric.insert(metric.end(), part.metric.begin(), part.metric.end());
    }
  });
  exporter::StreamSnapshotMetricFamilies(snapshot, options, exporter_test::FullSnapshotNow(),
                                         &streamed.folded, &stream);
  return streamed;
}

}  // namespace

TEST_CASE("Streamed conversion gives the same families and text as the whole conversion") {
  exporter::MetricsOptions options;
  SUBCASE("defaults") {}
  SUBCASE("every IP, anonymised") {
    options.ips.top = 1000;
    options.ips.anonymize = exporter::IpAnonymization::kPrefix;
  }
  SUBCASE("routes folded, no IPs") {
    options.routes.max = 1;
    options.ips.top = 0;
  }
  const proxy_client::Snapshot snapshot = exporter_test::FullSnapshot();
  exporter::AggregationCounts whole_folded;
  const auto whole = exporter::SnapshotToMetricFamilies(
      snapshot, options, exporter_test::FullSnapshotNow(), &whole_folded);
  const std::string whole_text = exporter::ToTextFormat(whole);
  for (const std::size_t part_samples :
       {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{1024}}) {
    CAPTURE(part_samples);
    const Streamed streamed = Stream(snapshot, options, part_samples);
    CHECK(streamed.text == whole_text);
    CHECK(exporter::ToTextFormat(streamed.families) == whole_text);
    REQUIRE(streamed.families.size() == whole.size());
    for (std::size_t i = 0; i < whole.size(); ++i) {
      CHECK(streamed.families[i].name == whole[i].name);
      CHECK(streamed.families[i].help == whole[i].help);
      CHECK(streamed.families[i].type == whole[i].type);
      CHECK(streamed.families[i].metric.size() == whole[i].metric.size());
    }
    CHECK(streamed.folded.ips == whole_folded.ips);
    CHECK(streamed.folded.routes == whole_folded.routes);
  }
}

TEST_CASE("Conversion of the full fixture snapshot matches the golden exposition") {
  exporter::AggregationCounts folded{99, 99};
  const auto families =
      exporter::SnapshotToMetricFamilies(exporter_test::FullSnapshot(), exporter::MetricsOptions{},
                                         exporter_test::FullSnapshotNow(), &folded);
  const std::string text = exporter::ToTextFormat(families);
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
  exporter::MetricsOptions options;
  options.metric_namespace = "edge_proxy";
  const auto families = exporter::SnapshotToMetricFamilies(
      exporter_test::FullSnapshot(), options, exporter_test::FullSnapshotNow(), nullptr);
  REQUIRE(!families.empty());
  for (const auto& family : families) CHECK(family.name.rfind("edge_proxy_", 0) == 0);
  CHECK(FindFamily(families, "edge_proxy_connections_active") != nullptr);
}

TEST_CASE("Conversion of a minimal snapshot exports only the required groups") {
  proxy_client::Snapshot snapshot;
  snapshot.timestamp_ms = 1000;
  snapshot.connections.active = 3;
  snapshot.connections.total = 10;
  const auto families = exporter::SnapshotToMetricFamilies(
      snapshot, exporter::MetricsOptions{},
      std::chrono::system_clock::time_point(std::chrono::milliseconds(3500)), nullptr);
  const std::string text = exporter::ToTextFormat(families);
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
  const auto families = exporter::SnapshotToMetricFamilies(
      snapshot, exporter::MetricsOptions{}, std::chrono::system_clock::time_point{}, nullptr);
  const MetricFamily* family = FindFamily(families, "smartproxy_client_ips");
  REQUIRE(family != nullptr);
  CHECK(family->metric.at(0).gauge.value == 3);
}

TEST_CASE("Top zero exports no per-IP series at all") {
  exporter::MetricsOptions options;
  options.ips.top = 0;
  exporter::AggregationCounts folded;
  const auto families = exporter::SnapshotToMetricFamilies(
      exporter_test::FullSnapshot(), options, exporter_test::FullSnapshotNow(), &folded);
  CHECK(FindFamily(families, "smartproxy_ip_connections_active") == nullptr);
  CHECK(FindFamily(families, "smartproxy_ip_throughput_bytes_per_second") == nullptr);
  CHECK(FindFamily(families, "smartproxy_client_ips") != nullptr);
  CHECK(folded.ips == 0);
}

TEST_CASE("Metric namespaces are validated") {
  CHECK(exporter::IsValidMetricNamespace("smartproxy"));
  CHECK(exporter::IsValidMetricNamespace("_x9"));
  CHECK(exporter::IsValidMetricNamespace("Edge_Proxy2"));
  CHECK_FALSE(exporter::IsValidMetricNamespace(""));
  CHECK_FALSE(exporter::IsValidMetricNamespace("9lives"));
  CHECK_FALSE(exporter::IsValidMetricNamespace("a:b"));
  CHECK_FALSE(exporter::IsValidMetricNamespace("a-b"));
  CHECK_FALSE(exporter::IsValidMetricNamespace("__reserved"));
  CHECK_FALSE(exporter::IsValidMetricNamespace("caf\xc3\xa9"));
}
