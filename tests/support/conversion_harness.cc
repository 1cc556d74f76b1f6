#include "conversion_harness.h"

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

#include "exporter/conversion/text_buffer.h"
#include "exporter/conversion/text_writer.h"
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
  CHECK(folded_again.ips == converted.folded.ips);
  CHECK(folded_again.routes == converted.folded.routes);
  converted.families = std::move(sink.families);
  return converted;
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
