#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// A deterministic model of a SmartProxy's traffic, the data behind every simulated snapshot
// (docs/snapshot-protocol.md). Pure: no I/O, no clocks; the same options give the same
// sequence of states.
namespace proxy_sim {

// The SmartProxy API generation whose snapshot shape the simulation serves (the adapter's
// reading of each, docs/snapshot-protocol.md "Adapter snapshot fields per generation"):
//   k19_6  IProxyStats (getStats()): adapter.api "IProxyStats", openConnectionBytes instead of
//          bytes, requests.perMinute only, no throughput windows, no percentiles;
//   k21_1  IMetrics (getMetrics(), synchronous Maps): protocol 1.0 groups + adapter;
//   k27    IMetrics 27.x: every protocol 1.1 group (backends, protocols, udp, byDomain).
enum class Generation { k19_6, k21_1, k27 };

// "19.6", "21.1", "27".
std::string_view GenerationName(Generation generation);
// The inverse of GenerationName; nullopt for an unknown name.
std::optional<Generation> ParseGeneration(std::string_view name);

struct SimulationOptions {
  std::size_t routes = 8;    // number of routes in connections.byRoute / throughput.byRoute
  std::size_t ips = 100;     // number of client IPs (every third one an IPv6 address)
  std::size_t backends = 6;  // number of backends (generation 27)
  std::size_t domains = 8;   // number of domains in requests.byDomain (generation 27)
  Generation generation = Generation::k27;
  std::uint64_t seed = 1;
  std::int64_t start_time_ms = 1764040000000;  // proxy.startTime of the first instance
  std::chrono::milliseconds step{1000};        // simulated time that Advance() adds
};

// Bytes per second in each direction ("in": received from clients).
struct InOutRate {
  double in = 0;
  double out = 0;
};

// One backend at one instant. Counters never decrease except across Restart().
struct BackendState {
  std::uint64_t active = 0;
  std::uint64_t total = 0;             // counter
  std::uint64_t connect_errors = 0;    // counter
  std::uint64_t handshake_errors = 0;  // counter
  std::uint64_t request_errors = 0;    // counter
  std::uint64_t pool_hits = 0;         // counter: requests sent over a pooled connection
  std::uint64_t pool_misses = 0;       // counter: requests that opened a backend connection
  double connect_time_ms = 0;          // microsecond resolution
};

struct ProtocolState {
  std::uint64_t active = 0;
  std::uint64_t total = 0;  // counter
};

struct UdpState {
  std::uint64_t active_sessions = 0;
  std::uint64_t total_sessions = 0;  // counter
  std::uint64_t datagrams_in = 0;    // counter
  std::uint64_t datagrams_out = 0;   // counter
};

// HTTP requests of one domain.
struct DomainRate {
  double per_second = 0;  // share of requests_per_second
  double per_minute = 0;  // requests of the last 60 s (exponential average), an integer
};

struct QuantileValues {
  double p50 = 0;
  double p95 = 0;
  double p99 = 0;
};

// One instant of the simulated proxy. Invariants (asserted in tests): the per-route and the
// per-IP active connections each sum to connections_active; the per-route and the per-IP
// instant throughputs each sum to instant; the frontend protocols' active connections sum to
// connections_active and the backends' to a third of it; each backend-side protocol is the sum
// of the backends that speak it; totals never decrease except across Restart().
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
  // Bytes moved so far by the connections open now (IProxyStats getThroughput()): a gauge that
  // falls when connections close; never more than bytes_in / bytes_out.
  InOutRate open_connection_bytes;
  std::vector<BackendState> backends;             // index = backend
  std::vector<ProtocolState> frontend_protocols;  // index = Simulation::frontend_protocols()
  std::vector<ProtocolState> backend_protocols;   // index = Simulation::backend_protocols()
  UdpState udp;
  std::vector<DomainRate> domains;  // index = domain
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
  // Backend names ("host:port") and domain names; the hostile sets as for routes.
  const std::vector<std::string>& backend_names(bool hostile) const {
    return hostile ? hostile_backend_names_ : backend_names_;
  }
  const std::vector<std::string>& domain_names(bool hostile) const {
    return hostile ? hostile_domain_names_ : domain_names_;
  }
  // The protocol each backend speaks ("h1" or "h2"), fixed by its name or the seed; index =
  // backend.
  const std::vector<std::string>& protocol_of_backend() const { return backend_protocol_; }
  // Protocol names of each side, parallel to SimulationState::frontend_protocols and
  // backend_protocols. The backend side lists only protocols some backend speaks.
  const std::vector<std::string>& frontend_protocols() const { return frontend_protocols_; }
  const std::vector<std::string>& backend_protocols() const { return backend_protocols_; }

 private:
  void Step(std::int64_t elapsed_ms);
  void StepBackends(std::uint64_t step_key, std::uint64_t active, std::uint64_t new_connections,
                    std::uint64_t new_requests);
  void StepFrontendProtocols(std::uint64_t step_key, std::uint64_t active,
                             std::uint64_t new_connections);
  void StepUdp(std::uint64_t step_key, std::uint64_t elapsed_ms);
  void StepDomains(double seconds);

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
  std::vector<std::string> backend_names_;
  std::vector<std::string> hostile_backend_names_;
  std::vector<std::string> domain_names_;
  std::vector<std::string> hostile_domain_names_;
  std::vector<std::string> backend_protocol_;  // index = backend
  std::vector<std::size_t> backend_side_;      // index = backend: its index in backend_protocols_
  std::vector<std::string> frontend_protocols_;
  std::vector<std::string> backend_protocols_;
  std::vector<std::uint32_t> backend_weight_;
  std::vector<std::uint32_t> backend_error_rate_;  // connect errors per 100000 connections
  std::vector<std::uint32_t> backend_connect_us_;  // typical connect time, microseconds
  std::vector<std::uint32_t> frontend_weight_;
  std::vector<std::uint32_t> domain_weight_;
  std::vector<double> domain_average_rps_;              // 60 s exponential average per domain
  std::vector<std::uint64_t> new_backend_connections_;  // per backend, one step
  std::vector<std::uint64_t> new_backend_requests_;     // per backend, one step
};

}  // namespace proxy_sim
