// Snapshot → samples → text: the conversion's per-series CPU cost, and prometheus-cpp's
// serializer on the same samples for comparison. Datasets are built once per size; each timed
// loop checks the output size.
#include <benchmark/benchmark.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "exporter/conversion/snapshot_metrics.h"
#include "exporter/conversion/text_buffer.h"
#include "exporter/conversion/text_writer.h"
#include "metric_family_sink.h"
#include "proxy_client/snapshot.h"

namespace {

constexpr std::chrono::system_clock::time_point kNow{std::chrono::milliseconds(1764043201000)};

// A snapshot with `ip_count` client IPs (3 in 4 IPv4), 50 routes, every group present.
proxy_client::Snapshot MakeSnapshot(std::size_t ip_count) {
  std::mt19937_64 rng(42);
  proxy_client::Snapshot s;
  s.timestamp_ms = 1764043200000;
  s.proxy = proxy_client::ProxyInfo{"smartproxy", "19.6.7", "a1b2c3", 1764040000000};
  s.connections.total = 123456789;
  s.connections.by_route.emplace();
  s.connections.by_ip.emplace();
  s.connections.by_ip->reserve(ip_count);
  s.throughput.emplace();
  s.throughput->instant = proxy_client::InOut{123456.5, 654321.25};
  s.throughput->recent = proxy_client::InOut{120000, 600000};
  s.throughput->average = proxy_client::InOut{110000.125, 500000.5};
  s.throughput->by_route.emplace();
  s.throughput->by_ip.emplace();
  s.throughput->by_ip->reserve(ip_count);
  for (int route = 0; route < 50; ++route) {
    std::string name = "route-" + std::to_string(route) + ".example.com";
    s.connections.by_route->emplace_back(name, static_cast<double>(rng() % 1000));
    s.throughput->by_route->emplace_back(
        name, proxy_client::InOut{static_cast<double>(rng() % 100000) / 8,
                                  static_cast<double>(rng() % 100000)});
  }
  for (std::size_t i = 0; i < ip_count; ++i) {
    std::string ip;
    if (i % 4 != 3) {
      ip = std::to_string(10 + i % 200) + "." + std::to_string(i / 200 % 256) + "." +
           std::to_string(i / 51200 % 256) + "." + std::to_string(i % 251);
    } else {
      char text[64];
      std::snprintf(text, sizeof text, "2001:db8:%x:%x::%x", static_cast<unsigned>(i >> 16),
                    static_cast<unsigned>(i & 0xffff), static_cast<unsigned>(rng() & 0xffff));
      ip = text;
    }
    const double connections = static_cast<double>(1 + rng() % 100);
    s.connections.active += connections;
    s.connections.by_ip->emplace_back(ip, connections);
    // Half the rates are fractional, as a proxy's moving averages are.
    const double in = static_cast<double>(rng() % 10000000) / (i % 2 ? 1.0 : 16.0);
    const double out = static_cast<double>(rng() % 100000000) / (i % 2 ? 1.0 : 3.0);
    s.throughput->by_ip->emplace_back(std::move(ip), proxy_client::InOut{in, out});
  }
  s.connections.distinct_ips = static_cast<double>(ip_count);
  s.requests = proxy_client::Requests{987654, 120.5, 7000};
  s.bytes = proxy_client::InOut{1e12, 4e12};
  s.percentiles.emplace();
  s.percentiles->connection_duration_ms = proxy_client::Quantiles{120, 900, 2500};
  return s;
}

const proxy_client::Snapshot& Dataset(std::size_t ip_count) {
  static std::map<std::size_t, proxy_client::Snapshot> datasets;
  auto it = datasets.find(ip_count);
  if (it == datasets.end()) it = datasets.emplace(ip_count, MakeSnapshot(ip_count)).first;
  return it->second;
}

exporter::conversion::MetricsOptions Options(bool export_all) {
  exporter::conversion::MetricsOptions options;
  options.ips.top = export_all ? 1000000 : 20;
  return options;
}

std::size_t SeriesCount(const std::vector<prometheus::MetricFamily>& families) {
  std::size_t count = 0;
  for (const auto& family : families) count += family.metric.size();
  return count;
}

void SetCounters(benchmark::State& state, std::size_t series) {
  const auto total = static_cast<double>(series) * static_cast<double>(state.iterations());
  state.counters["series"] = static_cast<double>(series);
  state.counters["series/s"] = benchmark::Counter(total, benchmark::Counter::kIsRate);
  // CPU seconds per series, printed with an SI prefix ("107n" = 107 ns).
  state.counters["cpu/series"] =
      benchmark::Counter(total, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Arguments: {client IPs, export all IPs (0: ips.top = 20)}.
void Sizes(benchmark::internal::Benchmark* bench) {
  for (std::int64_t ips : {10, 1000, 10000, 100000}) {
    for (std::int64_t all : {0, 1}) bench->Args({ips, all});
  }
  bench->Unit(benchmark::kMicrosecond);
}

// The samples in prometheus-cpp's data model (the tests' oracle), built once per case.
std::vector<prometheus::MetricFamily> Families(
    const proxy_client::Snapshot& snapshot, const exporter::conversion::MetricsOptions& options) {
  test_support::MetricFamilySink sink;
  exporter::conversion::WriteSnapshotMetrics(snapshot, options, kNow, &sink);
  return std::move(sink.families);
}

// What a scrape does (collector.cc): the conversion written straight into a text buffer
// reserved from the previous scrape's size.
void BM_Conversion_WriteText(benchmark::State& state) {
  const auto& snapshot = Dataset(static_cast<std::size_t>(state.range(0)));
  const auto options = Options(state.range(1) != 0);
  const auto families = Families(snapshot, options);
  const std::size_t size = prometheus::TextSerializer().Serialize(families).size();
  exporter::conversion::TextBuffer text(size + size / 4);
  for (auto _ : state) {
    text.Clear();
    exporter::conversion::TextWriter writer(&text);
    exporter::conversion::WriteSnapshotMetrics(snapshot, options, kNow, &writer);
    if (text.size() != size) state.SkipWithError("output size changed");
    benchmark::DoNotOptimize(text.view().data());
  }
  SetCounters(state, SeriesCount(families));
  state.counters["bytes"] = static_cast<double>(size);
}
BENCHMARK(BM_Conversion_WriteText)->Apply(Sizes);

// prometheus-cpp 1.0.1's serializer on families already built, for comparison.
void BM_TextSerializer_Write(benchmark::State& state) {
  const auto families =
      Families(Dataset(static_cast<std::size_t>(state.range(0))), Options(state.range(1) != 0));
  const prometheus::TextSerializer serializer;
  const std::size_t size = serializer.Serialize(families).size();
  for (auto _ : state) {
    std::string text = serializer.Serialize(families);
    if (text.size() != size) state.SkipWithError("output size changed");
    benchmark::DoNotOptimize(text.data());
  }
  SetCounters(state, SeriesCount(families));
}
BENCHMARK(BM_TextSerializer_Write)->Apply(Sizes);

}  // namespace

BENCHMARK_MAIN();
