#include "conversion_harness.h"

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

#include "exporter/conversion/text_buffer.h"
#include "exporter/conversion/text_writer.h"
#include "fixture_snapshot.h"
#include "proxy_client/snapshot_parser.h"

namespace test_support {

Converted Convert(const proxy_client::Snapshot& snapshot,
                  const exporter::conversion::MetricsOptions& options,
                  std::chrono::system_clock::time_point now) {
  Converted converted;
  exporter::conversion::TextBuffer buffer;
  exporter::conversion::TextWriter writer(&buffer);
  converted.folded = exporter::conversion::WriteSnapshotMetrics(snapshot, options, now, &writer);
  converted.text = std::string(buffer.view());
  MetricFamilySink sink;
  const auto folded_again =
      exporter::conversion::WriteSnapshotMetrics(snapshot, options, now, &sink);
  CHECK(folded_again == converted.folded);
  converted.families = std::move(sink.families);
  return converted;
}

proxy_client::Snapshot EveryGroupSnapshot() {
  proxy_client::Snapshot s = exporter_test::FullSnapshot();
  s.adapter = proxy_client::AdapterInfo{"smartproxy-snapshot-adapter", "0.2.0", "IMetrics", 2};
  s.open_connection_bytes = proxy_client::InOut{1234, 5678};
  proxy_client::Backend first;
  first.protocol = "h2";
  first.active = 3;
  first.total = 120;
  first.connect_errors = 1;
  first.handshake_errors = 0;
  first.request_errors = 2;
  first.connect_time_ms = 4.5;
  first.pool_hits = 100;
  first.pool_misses = 20;
  proxy_client::Backend second;
  second.protocol = "h1";
  second.active = 1;
  second.total = 40;
  second.request_errors = 1;
  second.connect_time_ms = 12;
  proxy_client::Backend third;  // no protocol and no connect time: no info, no connect time
  third.active = 0;
  third.total = 5;
  s.backends = proxy_client::NamedValues<proxy_client::Backend>{
      {"10.0.0.5:8080", first}, {"api.internal:443", second}, {"legacy \"blue\" \\ pool", third}};
  using ByProtocol = proxy_client::NamedValues<proxy_client::ProtocolConnections>;
  s.protocols = proxy_client::Protocols{ByProtocol{{"h1", {30, 100000}}, {"h2", {12, 23456}}},
                                        ByProtocol{{"h1", {1, 45}}, {"h2", {3, 120}}}};
  s.udp = proxy_client::Udp{2, 50, 1000, 990};
  s.requests->by_domain = proxy_client::NamedValues<proxy_client::DomainRequests>{
      {"example.com", {3, 120}}, {"api.example.com", {9.5, 580}}, {"b\u00fccher.example", {0, 6}}};
  return s;
}

proxy_client::Snapshot FixtureSnapshot(const std::string& name) {
  const std::string path = std::string(FIXTURES_DIR) + "/" + name;
  std::ifstream file(path, std::ios::binary);
  REQUIRE_MESSAGE(file.good(), "cannot read " << path);
  const std::string json((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  auto parsed = proxy_client::ParseSnapshot(json);
  REQUIRE_MESSAGE(parsed.has_value(),
                  path << ": " << (parsed.has_value() ? "" : parsed.error().message));
  return std::move(parsed.value());
}

}  // namespace test_support
