#pragma once

#include <chrono>
#include <cstddef>

#include "exporter/conversion/metrics_options.h"
#include "exporter/conversion/sample_sink.h"
#include "proxy_client/snapshot.h"

// The pure conversion of a proxy snapshot into metrics (docs/metrics.md).
namespace exporter::conversion {

// How many distinct entries were folded into a label value "other" by one conversion
// (`<namespace>_exporter_aggregated_series{kind}`).
struct AggregationCounts {
  std::size_t ips = 0;
  std::size_t routes = 0;
  std::size_t backends = 0;
  std::size_t domains = 0;
  std::size_t protocols = 0;  // both sides together

  bool operator==(const AggregationCounts&) const = default;
};

// Writes every metric taken from `snapshot` (not `_up`, not the exporter's own) into `sink`,
// named `<options.metric_namespace>_...`, in a fixed family order; absent snapshot groups give
// no family. Label values are valid UTF-8 and every label set is unique within its family.
// `now` gives `_snapshot_age_seconds`. Returns what was folded into "other". Pure and
// thread-safe for distinct sinks. Precondition: IsValidMetricNamespace(options.metric_namespace),
// which the configuration checks at start.
AggregationCounts WriteSnapshotMetrics(const proxy_client::Snapshot& snapshot,
                                       const MetricsOptions& options,
                                       std::chrono::system_clock::time_point now, SampleSink* sink);

}  // namespace exporter::conversion
