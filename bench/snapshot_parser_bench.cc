// Parse and fetch costs of proxy_client at realistic snapshot sizes (README "Benchmarks").
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "proxy_client/snapshot_client.h"
#include "proxy_client/snapshot_parser.h"
#include "proxy_sim/server.h"
#include "proxy_sim/snapshot_json.h"

namespace {

proxy_sim::SimulationOptions Options(std::size_t ips) {
  proxy_sim::SimulationOptions options;
  options.routes = 50;
  options.ips = ips;
  options.seed = 42;
  return options;
}

// One realistic snapshot per size (every IP included), built once.
const std::string& SnapshotJson(std::size_t ips) {
  static std::map<std::size_t, std::string> cache;
  auto it = cache.find(ips);
  if (it == cache.end()) {
    proxy_sim::Simulation simulation(Options(ips));
    simulation.Advance();
    it = cache.emplace(ips, proxy_sim::RenderSnapshot(simulation)).first;
  }
  return it->second;
}

void BM_SnapshotParser_Parse(benchmark::State& state) {
  const auto ips = static_cast<std::size_t>(state.range(0));
  const std::string& json = SnapshotJson(ips);
  proxy_client::SnapshotParser parser;
  for (auto _ : state) {
    auto result = parser.Parse(json);
    // Checked inside the loop, so that a broken path cannot look fast.
    if (!result.has_value() || result->connections.by_ip->size() != ips) {
      state.SkipWithError("parse failed or lost entries");
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * json.size()));
  state.counters["json_bytes"] = static_cast<double>(json.size());
}
BENCHMARK(BM_SnapshotParser_Parse)
    ->Arg(10)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMicrosecond);

// The client's path: the body buffer is parsed where it is, without a copy.
void BM_SnapshotParser_ParseInPlace(benchmark::State& state) {
  const auto ips = static_cast<std::size_t>(state.range(0));
  std::string json = SnapshotJson(ips);
  proxy_client::SnapshotParser parser;
  for (auto _ : state) {
    auto result = parser.ParseInPlace(&json);
    if (!result.has_value() || result->connections.by_ip->size() != ips) {
      state.SkipWithError("parse failed or lost entries");
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * json.size()));
}
BENCHMARK(BM_SnapshotParser_ParseInPlace)
    ->Arg(10)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMicrosecond);

// A full fetch over a real Unix socket from an in-process proxy-sim: HTTP, body and parse.
void BM_SnapshotClient_Fetch(benchmark::State& state) {
  const auto ips = static_cast<std::size_t>(state.range(0));
  char dir_template[] = "/tmp/spx-bench.XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  proxy_sim::ServerOptions options;
  options.socket_path = dir + "/p.sock";
  options.simulation = Options(ips);
  proxy_sim::Server server(options);
  server.Start();
  proxy_client::SnapshotClient client(proxy_client::SnapshotClientOptions{options.socket_path});
  proxy_client::FetchRequest request;
  request.deadline = std::chrono::seconds(10);
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto result = client.Fetch(request);
    if (!result.has_value() || result->snapshot.connections.by_ip->size() != ips) {
      state.SkipWithError("fetch failed or lost entries");
      break;
    }
    bytes += result->body_bytes;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  server.Stop();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SnapshotClient_Fetch)
    ->Arg(10)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
