#pragma once

#include <prometheus/metric_family.h>

#include <chrono>
#include <initializer_list>
#include <string>
#include <vector>

#include "exporter/conversion/metrics_options.h"
#include "exporter/conversion/snapshot_metrics.h"
#include "metric_family_sink.h"
#include "proxy_client/snapshot.h"

// The conversion run through both sinks, and fixtures through proxy_client's parser.
namespace test_support {

struct Converted {
  std::string text;                                // TextWriter's bytes
  std::vector<prometheus::MetricFamily> families;  // the same samples, in prometheus-cpp's model
  exporter::conversion::AggregationCounts folded;
};
// Runs WriteSnapshotMetrics once into a TextWriter and once into a MetricFamilySink.
Converted Convert(const proxy_client::Snapshot& snapshot,
                  const exporter::conversion::MetricsOptions& options,
                  std::chrono::system_clock::time_point now);

// exporter_test::FullSnapshot() plus the protocol 1.1 groups of tests/fixtures/snapshot_golden.json
// (adapter, openConnectionBytes, backends, protocols, udp, requests.byDomain), with the same
// values: every group of the protocol present.
proxy_client::Snapshot EveryGroupSnapshot();

// The snapshot of tests/fixtures/<name>, through proxy_client's parser; fails the test when it
// does not parse.
proxy_client::Snapshot FixtureSnapshot(const std::string& name);

}  // namespace test_support
