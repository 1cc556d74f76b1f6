#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// A deterministic model of a SmartProxy's traffic, the data behind every simulated snapshot
// (docs/snapshot-protocol.md). Pure: no I/O, no clocks; the same options give the same
// sequence of states.
namespace proxy_sim {

struct SimulationOptions {
  std::size_t routes = 8;  // number of routes in connections.byRoute / throughput.byRoute
  std::size_t ips = 100;   // number of client IPs (every third one an IPv6 address)
  std::uint64_t seed = 1;
  std::int64_t start_time_ms = 1764040000000;  // proxy.startTime of the first instance
  std::chrono::milliseconds step{1000};        // simulated time that Advance() adds
};

// Bytes per second in each direction ("in": received from clients).
struct InOutRate {
  double in = 0;
  double out = 0;
};

struct QuantileValues {
  double p50 = 0;
  double p95 = 0;
  double p99 = 0;
};

// One instant of the simulated proxy. Invariants (asserted in tests): the per-route and the
// per-IP active connections each sum to connections_active; the per-route and the per-IP
// instant throughputs each sum to instant; totals never decrease except across Restart().
struct SimulationState {
  std::string instance;  // changes on every (simulated) restart
  std::int64_t start_time_ms = 0;
  std::int64_t timestamp_ms = 0;
  std::uint64_t connections_active = 0;
  std::uint64_t connections_total = 0;  // counter
  std::uint64_t requests_total = 0;     // counter
  double requests_per_second = 0;
  double requests_per_minute = 0;
  std::uint64_t bytes_in = 0;               // counter
  std::uint64_t bytes_out = 0;              // counter
  InOutRate instant;                        // last 1 s; integral values
  InOutRate recent;                         // last 10 s (exponential average)
  InOutRate average;                        // last 60 s (exponential average)
  std::vector<std::uint32_t> route_active;  // index = route
  std::vector<InOutRate> route_throughput;  // index = route; integral values
  std::vector<std::uint32_t> ip_active;     // index = IP; every IP has at least 1
  std::vector<InOutRate> ip_throughput;     // index = IP; integral values
  QuantileValues connection_duration_ms;
  QuantileValues bytes_transferred_in;
  QuantileValues bytes_transferred_out;
};

// Not thread-safe; callers serialise access (proxy_sim::Server holds a mutex).
class Simulation {
 public:
  explicit Simulation(const SimulationOptions& options);

  // Moves simulated time forward by options.step and draws the traffic of that interval.
  void Advance();
  // Moves simulated time to timestamp_ms (no-op if not later) and draws the traffic for the
  // elapsed interval; used with a wall clock.
  void AdvanceTo(std::int64_t timestamp_ms);
  // A simulated proxy restart: totals and averages to 0, a new instance id, startTime = now.
  void Restart();

  const SimulationState& state() const { return state_; }
  // Unique per constructed Simulation (copies share it: their names are the same), so that
  // writers can cache what they derive from the names.
  std::uint64_t id() const { return id_; }
  const SimulationOptions& options() const { return options_; }
  // Names by index. The hostile set (same sizes, same values) holds quotes, backslashes,
  // control characters, `{}=`, multi-KB strings, non-ASCII UTF-8 and one lone surrogate
  // U+D800, stored as its generalised-UTF-8 bytes ED A0 80 (the JSON writer emits "\ud800").
  const std::vector<std::string>& route_names(bool hostile) const {
    return hostile ? hostile_route_names_ : route_names_;
  }
  const std::vector<std::string>& ip_names(bool hostile) const {
    return hostile ? hostile_ip_names_ : ip_names_;
  }

 private:
  void Step(std::int64_t elapsed_ms);

  SimulationOptions options_;
  std::uint64_t id_;
  SimulationState state_;
  std::uint64_t step_count_ = 0;
  std::uint64_t generation_ = 0;  // number of restarts
  double previous_requests_per_second_ = 0;
  std::vector<std::string> route_names_;
  std::vector<std::string> hostile_route_names_;
  std::vector<std::string> ip_names_;
  std::vector<std::string> hostile_ip_names_;
  std::vector<std::uint32_t> route_weight_;
  std::vector<std::uint32_t> ip_peak_;      // upper bound of an IP's active connections
  std::vector<std::uint32_t> ip_rate_in_;   // bytes/s per connection, received
  std::vector<std::uint32_t> ip_rate_out_;  // bytes/s per connection, sent
};

}  // namespace proxy_sim
