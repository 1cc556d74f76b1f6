#pragma once

#include <prometheus/metric_family.h>

#include <chrono>
#include <cstddef>
#include <vector>

#include "exporter/metric_family_builder.h"
#include "exporter/metrics_options.h"
#include "proxy_client/snapshot.h"

// The pure conversion of a proxy snapshot into Prometheus metric families (docs/metrics.md).
namespace exporter {

// How many distinct entries were folded into a label value "other" by one conversion
// (`<namespace>_exporter_aggregated_series{kind}`).
struct AggregationCounts {
  std::size_t ips = 0;
  std::size_t routes = 0;
};

// Every metric taken from `snapshot` (not `_up`, not the exporter's own), named
// `<options.metric_namespace>_...`, in a fixed family order; absent snapshot groups give no
// family. Label values are valid UTF-8 and every label set is unique within its family.
// `now` gives `_snapshot_age_seconds`. `folded` (may be null) receives the fold counts.
// Pure and thread-safe; an invalid namespace (see IsValidMetricNamespace) is a precondition
// violation and falls back to "smartproxy".
std::vector<prometheus::MetricFamily> SnapshotToMetricFamilies(
    const proxy_client::Snapshot& snapshot, const MetricsOptions& options,
    std::chrono::system_clock::time_point now, AggregationCounts* folded);

// The same families, in the same order and with the same samples, built into `stream` (which
// hands them to its sink in parts) instead of all held at once: a scrape's memory then holds
// one part's samples, not every family's. Ends the stream's last family.
void StreamSnapshotMetricFamilies(const proxy_client::Snapshot& snapshot,
                                  const MetricsOptions& options,
                                  std::chrono::system_clock::time_point now,
                                  AggregationCounts* folded, MetricFamilyStream* stream);

}  // namespace exporter
