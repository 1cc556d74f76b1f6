// Input: two option bytes, then snapshot JSON. Parse → SnapshotToMetricFamilies →
// AppendTextFormat, then abort unless the text is valid exposition format (CheckTextFormat),
// and unless the scrape's own path (StreamSnapshotMetricFamilies in parts → AppendFamilyPart)
// writes exactly the same bytes, with a part size taken from the input.
#include <array>
#include <algorithm>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/metric_family_builder.h"
#include "exporter/metrics_options.h"
#include "exporter/snapshot_metrics.h"
#include "exporter/text_writer.h"
#include "proxy_client/snapshot_parser.h"
#include "text_format_check.h"

namespace {

constexpr std::array<unsigned, 8> kTops = {0, 1, 2, 3, 5, 20, 1000, UINT_MAX};
constexpr std::array<unsigned, 8> kRouteMaxes = {0, 1, 2, 3, 10, 500, 100000, UINT_MAX};

// byte 0: bits 0-2 ips.top, bit 3 anonymize, bits 4-7 the prefix lengths (0 up to 32 / 128);
// byte 1: bits 0-2 routes.max, bits 3-7 the streamed part size less one (1 to 32 samples).
exporter::MetricsOptions OptionsFrom(std::uint8_t first, std::uint8_t second) {
  exporter::MetricsOptions options;
  options.ips.top = kTops[first & 7U];
  options.ips.anonymize = (first & 8U) != 0 ? exporter::IpAnonymization::kPrefix
                                            : exporter::IpAnonymization::kNone;
  const unsigned prefix_step = first >> 4U;
  options.ips.ipv4_prefix = std::min(32U, prefix_step * 3U);
  options.ips.ipv6_prefix = std::min(128U, prefix_step * 9U);
  options.routes.max = kRouteMaxes[second & 7U];
  return options;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static proxy_client::SnapshotParser parser;
  const auto snapshot =
      parser.Parse(std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2));
  if (!snapshot.has_value()) return 0;

  const exporter::MetricsOptions options = OptionsFrom(data[0], data[1]);
  const std::chrono::system_clock::time_point now{std::chrono::milliseconds{1764043200123}};
  exporter::AggregationCounts folded;
  const std::vector<prometheus::MetricFamily> families =
      exporter::SnapshotToMetricFamilies(*snapshot, options, now, &folded);
  std::string text;
  exporter::AppendTextFormat(families, &text);

  std::string problem;
  if (!fuzz::CheckTextFormat(text, &problem)) {
    std::fprintf(stderr, "invalid exposition text: %s\n", problem.c_str());
    std::abort();
  }

  std::string streamed;
  exporter::AggregationCounts streamed_folded;
  exporter::MetricFamilyStream stream(
      static_cast<std::size_t>(data[1] >> 3U) + 1,
      [&](prometheus::MetricFamily& part, bool first) {
        exporter::AppendFamilyPart(part, first, &streamed);
      });
  exporter::StreamSnapshotMetricFamilies(*snapshot, options, now, &streamed_folded, &stream);
  if (streamed != text) {
    std::fprintf(stderr, "streamed text differs from the families' text\n");
    std::abort();
  }
  return 0;
}
