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
  SUBCASE("backends and domains folded") {
    options.backends.max = 1;
    options.domains.top = 1;
  }
  const auto converted = test_support::Convert(test_support::EveryGroupSnapshot(), options,
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
  CHECK(folded.backends == 0);
  CHECK(folded.domains == 0);
  CHECK(folded.protocols == 0);
  CheckNoDuplicateSeries(families);
  CHECK_PROMTOOL_CLEAN(text);
  // The JSON and the hand-written snapshot the other tests use hold the same values.
  CHECK(text == test_support::Convert(test_support::EveryGroupSnapshot(),
                                      exporter::conversion::MetricsOptions{},
                                      exporter_test::FullSnapshotNow())
                    .text);
}

TEST_CASE("Conversion uses the configured namespace for every metric") {
  exporter::conversion::MetricsOptions options;
  options.metric_namespace = "edge_proxy";
  const auto families = test_support::Convert(test_support::EveryGroupSnapshot(), options,
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

namespace {

// The sample lines (no HELP, no TYPE) after smartproxy_snapshot_age_seconds, where the families
// of the protocol 1.1 groups are; the text is checked against the oracle and for duplicates.
std::string Protocol11Samples(const proxy_client::Snapshot& snapshot,
                              const exporter::conversion::MetricsOptions& options = {}) {
  const auto converted = test_support::Convert(snapshot, options, exporter_test::FullSnapshotNow());
  CHECK(converted.text == test_support::PrometheusCppText(converted.families));
  CheckNoDuplicateSeries(converted.families);
  std::istringstream lines(converted.text);
  std::string samples;
  bool after_age = false;
  for (std::string line; std::getline(lines, line);) {
    if (after_age && !line.starts_with("#")) samples += line + '\n';
    after_age = after_age || line.starts_with("smartproxy_snapshot_age_seconds ");
  }
  return samples;
}

proxy_client::Backend BackendWith(double active, double total) {
  proxy_client::Backend backend;
  backend.active = active;
  backend.total = total;
  return backend;
}

}  // namespace

TEST_CASE("Every protocol 1.1 family has its type, in the documented order") {
  const auto families = test_support::Convert(test_support::EveryGroupSnapshot(), {},
                                              exporter_test::FullSnapshotNow())
                            .families;
  using prometheus::MetricType;
  const std::vector<std::pair<std::string, MetricType>> expected = {
      {"smartproxy_adapter_info", MetricType::Gauge},
      {"smartproxy_adapter_skipped_fields", MetricType::Gauge},
      {"smartproxy_open_connections_received_bytes", MetricType::Gauge},
      {"smartproxy_open_connections_sent_bytes", MetricType::Gauge},
      {"smartproxy_backend_info", MetricType::Gauge},
      {"smartproxy_backend_connections_active", MetricType::Gauge},
      {"smartproxy_backend_connections_total", MetricType::Counter},
      {"smartproxy_backend_errors_total", MetricType::Counter},
      {"smartproxy_backend_connect_time_seconds", MetricType::Gauge},
      {"smartproxy_backend_pool_hits_total", MetricType::Counter},
      {"smartproxy_backend_pool_misses_total", MetricType::Counter},
      {"smartproxy_protocol_connections_active", MetricType::Gauge},
      {"smartproxy_protocol_connections_total", MetricType::Counter},
      {"smartproxy_udp_sessions_active", MetricType::Gauge},
      {"smartproxy_udp_sessions_total", MetricType::Counter},
      {"smartproxy_udp_datagrams_total", MetricType::Counter},
      {"smartproxy_domain_requests_per_second", MetricType::Gauge},
  };
  std::size_t age = families.size();
  for (std::size_t i = 0; i < families.size(); ++i) {
    if (families[i].name == "smartproxy_snapshot_age_seconds") age = i;
  }
  REQUIRE(families.size() == age + 1 + expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(families[age + 1 + i].name == expected[i].first);
    CHECK(families[age + 1 + i].type == expected[i].second);
  }
}

TEST_CASE("Adapter identity and skipped fields") {
  proxy_client::Snapshot snapshot;
  SUBCASE("every field") {
    snapshot.adapter =
        proxy_client::AdapterInfo{"smartproxy-snapshot-adapter", "0.2.0", "IProxyStats", 3};
    CHECK(Protocol11Samples(snapshot) ==
          "smartproxy_adapter_info{api=\"IProxyStats\",version=\"0.2.0\"} 1\n"
          "smartproxy_adapter_skipped_fields 3\n");
  }
  SUBCASE("absent fields are empty labels, no skipped gauge") {
    snapshot.adapter = proxy_client::AdapterInfo{"x", std::nullopt, std::nullopt, std::nullopt};
    CHECK(Protocol11Samples(snapshot) == "smartproxy_adapter_info{api=\"\",version=\"\"} 1\n");
  }
  SUBCASE("untrusted strings are repaired and escaped") {
    snapshot.adapter = proxy_client::AdapterInfo{{}, "1\"\n\xff", "I\\", 0};
    CHECK(Protocol11Samples(snapshot) ==
          "smartproxy_adapter_info{api=\"I\\\\\",version=\"1\\\"\\n\xef\xbf\xbd\"} 1\n"
          "smartproxy_adapter_skipped_fields 0\n");
  }
  SUBCASE("no adapter group, no family") { CHECK(Protocol11Samples(snapshot).empty()); }
}

TEST_CASE("Bytes of the open connections are gauges") {
  proxy_client::Snapshot snapshot;
  snapshot.open_connection_bytes = proxy_client::InOut{1234, 5678};
  CHECK(Protocol11Samples(snapshot) ==
        "smartproxy_open_connections_received_bytes 1234\n"
        "smartproxy_open_connections_sent_bytes 5678\n");
}

TEST_CASE("Backends convert to their families, connect time in seconds") {
  const auto samples = Protocol11Samples(test_support::EveryGroupSnapshot());
  const std::string backends = samples.substr(0, samples.find("smartproxy_protocol_"));
  CHECK(backends.substr(backends.find("smartproxy_backend_")) ==
        "smartproxy_backend_info{backend=\"10.0.0.5:8080\",protocol=\"h2\"} 1\n"
        "smartproxy_backend_info{backend=\"api.internal:443\",protocol=\"h1\"} 1\n"
        "smartproxy_backend_connections_active{backend=\"10.0.0.5:8080\"} 3\n"
        "smartproxy_backend_connections_active{backend=\"api.internal:443\"} 1\n"
        "smartproxy_backend_connections_active{backend=\"legacy \\\"blue\\\" \\\\ pool\"} 0\n"
        "smartproxy_backend_connections_total{backend=\"10.0.0.5:8080\"} 120\n"
        "smartproxy_backend_connections_total{backend=\"api.internal:443\"} 40\n"
        "smartproxy_backend_connections_total{backend=\"legacy \\\"blue\\\" \\\\ pool\"} 5\n"
        "smartproxy_backend_errors_total{backend=\"10.0.0.5:8080\",kind=\"connect\"} 1\n"
        "smartproxy_backend_errors_total{backend=\"10.0.0.5:8080\",kind=\"handshake\"} 0\n"
        "smartproxy_backend_errors_total{backend=\"10.0.0.5:8080\",kind=\"request\"} 2\n"
        "smartproxy_backend_errors_total{backend=\"api.internal:443\",kind=\"request\"} 1\n"
        "smartproxy_backend_connect_time_seconds{backend=\"10.0.0.5:8080\"} 0.0045\n"
        "smartproxy_backend_connect_time_seconds{backend=\"api.internal:443\"} 0.012\n"
        "smartproxy_backend_pool_hits_total{backend=\"10.0.0.5:8080\"} 100\n"
        "smartproxy_backend_pool_misses_total{backend=\"10.0.0.5:8080\"} 20\n");
}

TEST_CASE("Backends beyond backends.max are summed in backend=\"other\"") {
  proxy_client::Snapshot snapshot;
  proxy_client::Backend a = BackendWith(1, 10);
  a.protocol = "h1";
  a.connect_time_ms = 2;
  a.connect_errors = 4;
  proxy_client::Backend b = BackendWith(2, 30);
  b.protocol = "h2";
  b.connect_time_ms = 8;
  b.pool_hits = 7;
  proxy_client::Backend c = BackendWith(5, 20);
  c.protocol = "h1";
  c.connect_errors = 1;
  c.request_errors = 6;
  snapshot.backends =
      proxy_client::NamedValues<proxy_client::Backend>{{"a", a}, {"b", b}, {"c", c}};
  exporter::conversion::MetricsOptions options;
  SUBCASE("the largest totals are kept, in the proxy's order") {
    options.backends.max = 2;
    const auto converted =
        test_support::Convert(snapshot, options, exporter_test::FullSnapshotNow());
    CHECK(converted.folded.backends == 1);
    CHECK(Protocol11Samples(snapshot, options) ==
          "smartproxy_backend_info{backend=\"b\",protocol=\"h2\"} 1\n"
          "smartproxy_backend_info{backend=\"c\",protocol=\"h1\"} 1\n"
          "smartproxy_backend_connections_active{backend=\"b\"} 2\n"
          "smartproxy_backend_connections_active{backend=\"c\"} 5\n"
          "smartproxy_backend_connections_active{backend=\"other\"} 1\n"
          "smartproxy_backend_connections_total{backend=\"b\"} 30\n"
          "smartproxy_backend_connections_total{backend=\"c\"} 20\n"
          "smartproxy_backend_connections_total{backend=\"other\"} 10\n"
          "smartproxy_backend_errors_total{backend=\"c\",kind=\"connect\"} 1\n"
          "smartproxy_backend_errors_total{backend=\"c\",kind=\"request\"} 6\n"
          "smartproxy_backend_errors_total{backend=\"other\",kind=\"connect\"} 4\n"
          "smartproxy_backend_connect_time_seconds{backend=\"b\"} 0.008\n"
          "smartproxy_backend_pool_hits_total{backend=\"b\"} 7\n");
  }
  SUBCASE("max 0: everything in other, which has no info and no connect time") {
    options.backends.max = 0;
    const auto converted =
        test_support::Convert(snapshot, options, exporter_test::FullSnapshotNow());
    CHECK(converted.folded.backends == 3);
    CHECK(Protocol11Samples(snapshot, options) ==
          "smartproxy_backend_connections_active{backend=\"other\"} 8\n"
          "smartproxy_backend_connections_total{backend=\"other\"} 60\n"
          "smartproxy_backend_errors_total{backend=\"other\",kind=\"connect\"} 5\n"
          "smartproxy_backend_errors_total{backend=\"other\",kind=\"request\"} 6\n"
          "smartproxy_backend_pool_hits_total{backend=\"other\"} 7\n");
  }
  SUBCASE("a real backend named other merges with the folded one") {
    snapshot.backends->emplace_back("other", BackendWith(100, 1));
    options.backends.max = 2;
    const auto converted =
        test_support::Convert(snapshot, options, exporter_test::FullSnapshotNow());
    CHECK(converted.folded.backends == 1);
    const auto samples = test_support::ParseExposition(converted.text);
    CHECK(test_support::SampleValue(
              samples, "smartproxy_backend_connections_total{backend=\"other\"}") == 11);
    CHECK(test_support::SampleValue(
              samples, "smartproxy_backend_connections_active{backend=\"other\"}") == 101);
    CHECK(test_support::SumOf(samples, "smartproxy_backend_connections_total") == 61);
  }
  SUBCASE("nothing folded, no other") {
    const auto converted =
        test_support::Convert(snapshot, options, exporter_test::FullSnapshotNow());
    CHECK(converted.folded.backends == 0);
    CHECK(Protocol11Samples(snapshot, options).find("\"other\"") == std::string::npos);
  }
}

TEST_CASE("Protocol connections per side, folded to 20 per side") {
  proxy_client::Snapshot snapshot;
  snapshot.protocols.emplace();
  SUBCASE("each side as reported, client side first") {
    snapshot.protocols->backend =
        proxy_client::NamedValues<proxy_client::ProtocolConnections>{{"h2", {3, std::nullopt}}};
    snapshot.protocols->frontend = proxy_client::NamedValues<proxy_client::ProtocolConnections>{
        {"h1", {30, 100}}, {"tls", {std::nullopt, 4}}};
    CHECK(Protocol11Samples(snapshot) ==
          "smartproxy_protocol_connections_active{side=\"frontend\",protocol=\"h1\"} 30\n"
          "smartproxy_protocol_connections_active{side=\"backend\",protocol=\"h2\"} 3\n"
          "smartproxy_protocol_connections_total{side=\"frontend\",protocol=\"h1\"} 100\n"
          "smartproxy_protocol_connections_total{side=\"frontend\",protocol=\"tls\"} 4\n");
  }
  SUBCASE("beyond 20 names a side") {
    snapshot.protocols->frontend.emplace();
    for (int i = 0; i < 22; ++i) {
      snapshot.protocols->frontend->emplace_back("p" + std::to_string(i),
                                                 proxy_client::ProtocolConnections{1, 100.0 + i});
    }
    snapshot.protocols->backend = proxy_client::NamedValues<proxy_client::ProtocolConnections>{
        {"other", {1, 1}}, {"h1", {2, 2}}};
    const auto converted = test_support::Convert(snapshot, {}, exporter_test::FullSnapshotNow());
    CHECK(converted.folded.protocols == 2);  // p0 and p1; the backend's real "other" is not
    const auto samples = test_support::ParseExposition(converted.text);
    CHECK(test_support::SampleValue(samples,
                                    "smartproxy_protocol_connections_total{side=\"frontend\","
                                    "protocol=\"other\"}") == 201);
    CHECK(test_support::SampleValue(samples,
                                    "smartproxy_protocol_connections_active{side=\"backend\","
                                    "protocol=\"other\"}") == 1);
    CHECK(test_support::CountOf(samples, "smartproxy_protocol_connections_active") == 21 + 2);
    CHECK(samples.count(
              "smartproxy_protocol_connections_total{side=\"frontend\",protocol=\"p1\"}") == 0);
  }
}

TEST_CASE("UDP sessions and datagrams") {
  proxy_client::Snapshot snapshot;
  SUBCASE("every field") {
    snapshot.udp = proxy_client::Udp{2, 50, 1000, 990};
    CHECK(Protocol11Samples(snapshot) ==
          "smartproxy_udp_sessions_active 2\n"
          "smartproxy_udp_sessions_total 50\n"
          "smartproxy_udp_datagrams_total{direction=\"in\"} 1000\n"
          "smartproxy_udp_datagrams_total{direction=\"out\"} 990\n");
  }
  SUBCASE("only what is reported") {
    snapshot.udp = proxy_client::Udp{std::nullopt, 7, std::nullopt, 3};
    CHECK(Protocol11Samples(snapshot) ==
          "smartproxy_udp_sessions_total 7\n"
          "smartproxy_udp_datagrams_total{direction=\"out\"} 3\n");
  }
  SUBCASE("an empty group") {
    snapshot.udp = proxy_client::Udp{};
    CHECK(Protocol11Samples(snapshot).empty());
  }
}

TEST_CASE("Domain request rates per window, folded to domains.top") {
  proxy_client::Snapshot snapshot;
  snapshot.requests.emplace();
  snapshot.requests->by_domain = proxy_client::NamedValues<proxy_client::DomainRequests>{
      {"a.example", {3, 120}}, {"b.example", {9.5, 580}}, {"c.example", {std::nullopt, 6}}};
  exporter::conversion::MetricsOptions options;
  SUBCASE("every domain") {
    CHECK(Protocol11Samples(snapshot, options) ==
          "smartproxy_domain_requests_per_second{domain=\"a.example\",window=\"1s\"} 3\n"
          "smartproxy_domain_requests_per_second{domain=\"a.example\",window=\"60s\"} 2\n"
          "smartproxy_domain_requests_per_second{domain=\"b.example\",window=\"1s\"} 9.5\n"
          "smartproxy_domain_requests_per_second{domain=\"b.example\",window=\"60s\"} "
          "9.666666666666666\n"
          "smartproxy_domain_requests_per_second{domain=\"c.example\",window=\"60s\"} 0.1\n");
  }
  SUBCASE("top 1") {
    options.domains.top = 1;
    CHECK(
        test_support::Convert(snapshot, options, exporter_test::FullSnapshotNow()).folded.domains ==
        2);
    CHECK(Protocol11Samples(snapshot, options) ==
          "smartproxy_domain_requests_per_second{domain=\"b.example\",window=\"1s\"} 9.5\n"
          "smartproxy_domain_requests_per_second{domain=\"b.example\",window=\"60s\"} "
          "9.666666666666666\n"
          "smartproxy_domain_requests_per_second{domain=\"other\",window=\"1s\"} 3\n"
          "smartproxy_domain_requests_per_second{domain=\"other\",window=\"60s\"} 2.1\n");
  }
  SUBCASE("top 0") {
    options.domains.top = 0;
    CHECK(Protocol11Samples(snapshot, options) ==
          "smartproxy_domain_requests_per_second{domain=\"other\",window=\"1s\"} 12.5\n"
          "smartproxy_domain_requests_per_second{domain=\"other\",window=\"60s\"} "
          "11.76666666666667\n");
  }
}

TEST_CASE("Every protocol group at once passes promtool, folded or not") {
  exporter::conversion::MetricsOptions options;
  SUBCASE("defaults") {}
  SUBCASE("everything folded") {
    options.backends.max = 0;
    options.domains.top = 0;
    options.routes.max = 0;
  }
  const auto converted = test_support::Convert(test_support::EveryGroupSnapshot(), options,
                                               exporter_test::FullSnapshotNow());
  CHECK(converted.text == test_support::PrometheusCppText(converted.families));
  CheckNoDuplicateSeries(converted.families);
  CHECK_PROMTOOL_CLEAN(converted.text);
}
