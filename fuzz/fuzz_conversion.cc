// Input: two option bytes, then snapshot JSON. Parse → WriteSnapshotMetrics into the scrape's
// TextWriter, then abort unless the text is valid exposition format (CheckTextFormat), and
// unless prometheus-cpp's serializer, given the same samples (MetricFamilySink), writes exactly
// the same bytes.
#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/conversion/metric_names.h"
#include "exporter/conversion/metrics_options.h"
#include "exporter/conversion/snapshot_metrics.h"
#include "exporter/conversion/text_buffer.h"
#include "exporter/conversion/text_writer.h"
#include "metric_family_sink.h"
#include "proxy_client/snapshot_parser.h"
#include "text_format_check.h"

namespace {

constexpr std::array<unsigned, 8> kTops = {0, 1, 2, 3, 5, 20, 1000, UINT_MAX};
constexpr std::array<unsigned, 8> kRouteMaxes = {0, 1, 2, 3, 10, 500, 100000, UINT_MAX};

// byte 0: bits 0-2 ips.top, bit 3 anonymize, bits 4-7 the prefix lengths (0 up to 32 / 128);
// byte 1: bits 0-2 routes.max, bits 3-5 backends.max and domains.top, bits 6-7 unused.
exporter::conversion::MetricsOptions OptionsFrom(std::uint8_t first, std::uint8_t second) {
  exporter::conversion::MetricsOptions options;
  options.ips.top = kTops[first & 7U];
  options.ips.anonymize = (first & 8U) != 0 ? exporter::conversion::IpAnonymization::kPrefix
                                            : exporter::conversion::IpAnonymization::kNone;
  const unsigned prefix_step = first >> 4U;
  options.ips.ipv4_prefix = std::min(32U, prefix_step * 3U);
  options.ips.ipv6_prefix = std::min(128U, prefix_step * 9U);
  options.routes.max = kRouteMaxes[second & 7U];
  options.backends.max = kTops[(second >> 3U) & 7U];
  options.domains.top = kTops[(second >> 3U) & 7U];
  return options;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static proxy_client::SnapshotParser parser;
  const auto snapshot =
      parser.Parse(std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2));
  if (!snapshot.has_value()) return 0;

  const exporter::conversion::MetricsOptions options = OptionsFrom(data[0], data[1]);
  const std::chrono::system_clock::time_point now{std::chrono::milliseconds{1764043200123}};
  exporter::conversion::TextBuffer buffer;
  exporter::conversion::TextWriter writer(&buffer);
  const exporter::conversion::AggregationCounts folded =
      exporter::conversion::WriteSnapshotMetrics(*snapshot, options, now, &writer);
  const std::string text(buffer.view());

  std::string problem;
  if (!fuzz::CheckTextFormat(text, &problem)) {
    std::fprintf(stderr, "invalid exposition text: %s\n", problem.c_str());
    std::abort();
  }

  test_support::MetricFamilySink oracle;
  const exporter::conversion::AggregationCounts oracle_folded =
      exporter::conversion::WriteSnapshotMetrics(*snapshot, options, now, &oracle);
  if (test_support::PrometheusCppText(oracle.families) != text || !(oracle_folded == folded)) {
    std::fprintf(stderr, "our text differs from prometheus-cpp's serializer on the same samples\n");
    std::abort();
  }
  return 0;
}
