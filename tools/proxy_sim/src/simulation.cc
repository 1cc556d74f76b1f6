#include "proxy_sim/simulation.h"

#include <algorithm>
#include <atomic>
#include <cstdio>

#include "names.h"

namespace proxy_sim {
namespace {

using internal::Mix;

// Splits total over the weights so that the parts are integers that add up to total exactly
// (largest-remainder style: floors first, the rest one by one starting at `first`).
template <typename Value>
void SplitByWeight(std::uint64_t total, const std::vector<std::uint32_t>& weights,
                   std::uint64_t weight_sum, std::size_t first, std::vector<Value>& parts,
                   auto&& set) {
  if (weights.empty() || weight_sum == 0) return;
  std::uint64_t assigned = 0;
  for (std::size_t r = 0; r < weights.size(); ++r) {
    // total * weight can exceed 64 bits for huge throughputs; split the multiplication.
    const std::uint64_t share =
        total / weight_sum * weights[r] + total % weight_sum * weights[r] / weight_sum;
    set(parts[r], share);
    assigned += share;
  }
  for (std::size_t k = 0; assigned < total; ++k, ++assigned) {
    auto& part = parts[(first + k) % weights.size()];
    set(part, 1, /*add=*/true);
  }
}

std::uint64_t NextId() {
  static std::atomic<std::uint64_t> next{1};
  return next++;
}

std::string InstanceId(std::uint64_t seed, std::uint64_t generation) {
  char text[17];
  std::snprintf(text, sizeof text, "%012llx",
                static_cast<unsigned long long>(Mix(seed, generation, 0x1d) & 0xffffffffffffULL));
  return text;
}

std::uint64_t Sum(const std::vector<std::uint32_t>& values) {
  std::uint64_t sum = 0;
  for (std::uint32_t v : values) sum += v;
  return sum;
}

// A count drawn with expectation n * per_100k / 100000 (stochastic rounding with the hash h),
// so that rare events such as errors still happen at small n.
std::uint64_t Occurrences(std::uint64_t n, std::uint64_t per_100k, std::uint64_t h) {
  return (n * per_100k + h % 100000) / 100000;
}

constexpr std::string_view kFrontendProtocols[] = {"h1", "h2", "h3", "ws"};
constexpr std::string_view kBackendProtocols[] = {"h1", "h2"};
// Index into kBackendProtocols of internal::MakeBackendNames' listed backends: api-1, api-2,
// web-1, web-2, grpc-1, static.
constexpr std::size_t kListedBackendProtocol[] = {1, 1, 0, 0, 1, 0};

}  // namespace

std::string_view GenerationName(Generation generation) {
  switch (generation) {
    case Generation::k19_6:
      return "19.6";
    case Generation::k21_1:
      return "21.1";
    case Generation::k27:
      return "27";
  }
  return "27";
}

std::optional<Generation> ParseGeneration(std::string_view name) {
  for (Generation g : {Generation::k19_6, Generation::k21_1, Generation::k27}) {
    if (GenerationName(g) == name) return g;
  }
  return std::nullopt;
}

Simulation::Simulation(const SimulationOptions& options)
    : options_(options),
      id_(NextId()),
      route_names_(internal::MakeRouteNames(options.routes)),
      hostile_route_names_(internal::MakeHostileRouteNames(options.routes)),
      ip_names_(internal::MakeIpNames(options.ips, options.seed)),
      hostile_ip_names_(internal::MakeHostileIpNames(ip_names_)),
      backend_names_(internal::MakeBackendNames(options.backends)),
      hostile_backend_names_(internal::MakeHostileRouteNames(options.backends)),
      domain_names_(internal::MakeDomainNames(options.domains)),
      hostile_domain_names_(internal::MakeHostileRouteNames(options.domains)) {
  const std::uint64_t seed = options_.seed;
  route_weight_.resize(options_.routes);
  for (std::size_t r = 0; r < options_.routes; ++r) {
    route_weight_[r] = static_cast<std::uint32_t>(1 + Mix(seed, r, 7) % 10);
  }
  ip_peak_.resize(options_.ips);
  ip_rate_in_.resize(options_.ips);
  ip_rate_out_.resize(options_.ips);
  for (std::size_t i = 0; i < options_.ips; ++i) {
    // A heavy tail: low indices carry most connections, so the top IPs stay stable.
    ip_peak_[i] = static_cast<std::uint32_t>(1 + Mix(seed, i, 11) % 4 + 400 / (1 + i));
    ip_rate_in_[i] = static_cast<std::uint32_t>(500 + Mix(seed, i, 13) % 20000);
    ip_rate_out_[i] = ip_rate_in_[i] * static_cast<std::uint32_t>(2 + Mix(seed, i, 17) % 8);
  }
  // Backends: those of the fixed name list (names.cc) speak what their names suggest, the
  // numbered ones h1 or h2 by seed.
  const std::size_t backends = options_.backends;
  backend_weight_.resize(backends);
  backend_error_rate_.resize(backends);
  backend_connect_us_.resize(backends);
  backend_protocol_.resize(backends);
  backend_side_.resize(backends);
  std::vector<bool> spoken(std::size(kBackendProtocols), false);
  for (std::size_t b = 0; b < backends; ++b) {
    backend_weight_[b] = static_cast<std::uint32_t>(1 + Mix(seed, b, 0x23) % 8);
    // 0.05% .. 1% of connections fail to connect; a quarter as many handshakes and an eighth
    // as many requests fail, so all errors stay below about 2% of the backend connections.
    backend_error_rate_[b] = static_cast<std::uint32_t>(50 + Mix(seed, b, 0x29) % 950);
    backend_connect_us_[b] = static_cast<std::uint32_t>(300 + Mix(seed, b, 0x2f) % 12000);
    const std::size_t side =
        b < std::size(kListedBackendProtocol) ? kListedBackendProtocol[b] : Mix(seed, b, 0x2b) % 2;
    backend_side_[b] = side;
    spoken[side] = true;
  }
  // Only the protocols some backend speaks are listed; backend_side_ indexes that list.
  std::vector<std::size_t> listed(std::size(kBackendProtocols), 0);
  for (std::size_t p = 0; p < std::size(kBackendProtocols); ++p) {
    if (!spoken[p]) continue;
    listed[p] = backend_protocols_.size();
    backend_protocols_.emplace_back(kBackendProtocols[p]);
  }
  for (std::size_t b = 0; b < backends; ++b) {
    backend_protocol_[b] = std::string(kBackendProtocols[backend_side_[b]]);
    backend_side_[b] = listed[backend_side_[b]];
  }
  new_backend_connections_.resize(backends);
  new_backend_requests_.resize(backends);
  for (std::size_t p = 0; p < std::size(kFrontendProtocols); ++p) {
    frontend_protocols_.emplace_back(kFrontendProtocols[p]);
    // h1 and h2 carry most connections, h3 and websockets a few.
    frontend_weight_.push_back(
        static_cast<std::uint32_t>((p < 2 ? 6 : 1) + Mix(seed, p, 0x3b) % 4));
  }
  domain_weight_.resize(options_.domains);
  for (std::size_t d = 0; d < options_.domains; ++d) {
    // A heavy tail like the IPs': the first domains carry most requests.
    domain_weight_[d] = static_cast<std::uint32_t>(1 + 60 / (1 + d) + Mix(seed, d, 0x37) % 6);
  }
  domain_average_rps_.assign(options_.domains, 0);

  state_.instance = InstanceId(seed, generation_);
  state_.start_time_ms = options_.start_time_ms;
  state_.timestamp_ms = options_.start_time_ms;
  state_.route_active.assign(options_.routes, 0);
  state_.route_throughput.assign(options_.routes, {});
  state_.ip_active.assign(options_.ips, 0);
  state_.ip_throughput.assign(options_.ips, {});
  state_.backends.assign(backends, {});
  state_.frontend_protocols.assign(frontend_protocols_.size(), {});
  state_.backend_protocols.assign(backend_protocols_.size(), {});
  state_.domains.assign(options_.domains, {});
  Step(0);
}

void Simulation::Advance() { Step(options_.step.count()); }

void Simulation::AdvanceTo(std::int64_t timestamp_ms) {
  Step(std::max<std::int64_t>(0, timestamp_ms - state_.timestamp_ms));
}

void Simulation::Restart() {
  ++generation_;
  state_.instance = InstanceId(options_.seed, generation_);
  state_.start_time_ms = state_.timestamp_ms;
  state_.connections_total = 0;
  state_.requests_total = 0;
  state_.bytes_in = 0;
  state_.bytes_out = 0;
  state_.recent = {};
  state_.average = {};
  previous_requests_per_second_ = 0;
  for (BackendState& b : state_.backends) b = {};
  for (ProtocolState& p : state_.frontend_protocols) p.total = 0;
  state_.udp = {};
  std::fill(domain_average_rps_.begin(), domain_average_rps_.end(), 0.0);
}

void Simulation::Step(std::int64_t elapsed_ms) {
  ++step_count_;
  const std::uint64_t seed = options_.seed;
  const std::uint64_t step_key = Mix(seed, step_count_, generation_);
  const auto elapsed = static_cast<std::uint64_t>(elapsed_ms);
  SimulationState& s = state_;

  std::uint64_t active = 0;
  std::uint64_t in = 0;
  std::uint64_t out = 0;
  std::uint64_t open_in = 0;
  std::uint64_t open_out = 0;
  for (std::size_t i = 0; i < options_.ips; ++i) {
    const std::uint64_t r = Mix(step_key ^ i);
    const auto a = static_cast<std::uint32_t>(1 + r % ip_peak_[i]);
    const std::uint64_t jitter = 128 + ((r >> 32) & 0xff);  // 0.5 .. 1.5
    const std::uint64_t ip_in = a * std::uint64_t{ip_rate_in_[i]} * jitter / 256;
    const std::uint64_t ip_out = a * std::uint64_t{ip_rate_out_[i]} * jitter / 256;
    s.ip_active[i] = a;
    s.ip_throughput[i] = {static_cast<double>(ip_in), static_cast<double>(ip_out)};
    active += a;
    in += ip_in;
    out += ip_out;
    // The IP's open connections have been open for 1 .. 128 s at today's rate.
    const std::uint64_t age_s = 1 + ((r >> 40) & 0x7f);
    open_in += ip_in * age_s;
    open_out += ip_out * age_s;
  }
  s.connections_active = active;
  s.instant = {static_cast<double>(in), static_cast<double>(out)};

  const std::uint64_t weight_sum = Sum(route_weight_);
  const std::size_t first = options_.routes == 0 ? 0 : step_count_ % options_.routes;
  SplitByWeight(active, route_weight_, weight_sum, first, s.route_active,
                [](std::uint32_t& part, std::uint64_t v, bool add = false) {
                  part = static_cast<std::uint32_t>(add ? part + v : v);
                });
  SplitByWeight(in, route_weight_, weight_sum, first, s.route_throughput,
                [](InOutRate& part, std::uint64_t v, bool add = false) {
                  part.in = add ? part.in + static_cast<double>(v) : static_cast<double>(v);
                });
  SplitByWeight(out, route_weight_, weight_sum, first, s.route_throughput,
                [](InOutRate& part, std::uint64_t v, bool add = false) {
                  part.out = add ? part.out + static_cast<double>(v) : static_cast<double>(v);
                });

  // Counters grow with the traffic of the elapsed interval.
  const std::uint64_t r = Mix(step_key, 0x51);
  const std::uint64_t new_connections =
      active == 0 ? 0 : (active / 4 + r % (active / 2 + 1)) * elapsed / 1000;
  const std::uint64_t new_requests = new_connections * (1 + (r >> 20) % 4) + new_connections / 2;
  // Every open connection was accepted at some point, also those open at the (re)start.
  s.connections_total = std::max(s.connections_total + new_connections, active);
  s.requests_total += new_requests;
  s.bytes_in += in * elapsed / 1000;
  s.bytes_out += out * elapsed / 1000;
  s.timestamp_ms += elapsed_ms;
  s.open_connection_bytes = {static_cast<double>(std::min(open_in, s.bytes_in)),
                             static_cast<double>(std::min(open_out, s.bytes_out))};

  const double seconds = static_cast<double>(elapsed_ms) / 1000.0;
  const double current_rps = seconds > 0 ? static_cast<double>(new_requests) / seconds : 0;
  // The mean of the last two intervals: realistic, and often not an integer.
  s.requests_per_second = (previous_requests_per_second_ + current_rps) / 2;
  previous_requests_per_second_ = current_rps;

  const auto smooth = [&](InOutRate& avg, double window_s) {
    if (avg.in == 0 && avg.out == 0) {
      avg = s.instant;
      return;
    }
    const double alpha = std::min(1.0, seconds / window_s);
    avg.in += alpha * (s.instant.in - avg.in);
    avg.out += alpha * (s.instant.out - avg.out);
  };
  smooth(s.recent, 10);
  smooth(s.average, 60);
  s.requests_per_minute =
      static_cast<double>(static_cast<std::uint64_t>(s.requests_per_second * 60));

  const std::uint64_t q = Mix(step_key, 0x71);
  const auto quantiles = [](std::uint64_t base, std::uint64_t h) {
    QuantileValues v;
    v.p50 = static_cast<double>(base + h % base);
    v.p95 = v.p50 * 4 + static_cast<double>((h >> 16) % base);
    v.p99 = v.p95 * 2 + static_cast<double>((h >> 32) % base);
    return v;
  };
  s.connection_duration_ms = quantiles(80, q);
  s.bytes_transferred_in = quantiles(2000, Mix(q));
  s.bytes_transferred_out = quantiles(9000, Mix(q, 1));

  // Protocol 1.1 groups. Drawn for every generation from hashes of their own, so the values
  // above are the same whichever generation is served.
  StepBackends(step_key, active, new_connections, new_requests);
  StepFrontendProtocols(step_key, active, new_connections);
  StepUdp(step_key, elapsed);
  StepDomains(seconds);
}

void Simulation::StepBackends(std::uint64_t step_key, std::uint64_t active,
                              std::uint64_t new_connections, std::uint64_t new_requests) {
  SimulationState& s = state_;
  const std::size_t count = s.backends.size();
  if (count == 0) return;
  // A third of the client connections hold a backend connection; pooling reuses them, so
  // half as many backend connections open as client connections.
  const std::uint64_t weight_sum = Sum(backend_weight_);
  const std::size_t first = step_count_ % count;
  SplitByWeight(active / 3, backend_weight_, weight_sum, first, s.backends,
                [](BackendState& part, std::uint64_t v, bool add = false) {
                  part.active = add ? part.active + v : v;
                });
  const auto set = [](std::uint64_t& part, std::uint64_t v, bool add = false) {
    part = add ? part + v : v;
  };
  SplitByWeight(new_connections / 2, backend_weight_, weight_sum, first, new_backend_connections_,
                set);
  SplitByWeight(new_requests, backend_weight_, weight_sum, first, new_backend_requests_, set);
  for (ProtocolState& p : s.backend_protocols) p = {};
  for (std::size_t b = 0; b < count; ++b) {
    BackendState& backend = s.backends[b];
    const std::uint64_t h = Mix(step_key, b, 0x61);
    const std::uint64_t connections = new_backend_connections_[b];
    const std::uint64_t requests = new_backend_requests_[b];
    const std::uint64_t error_rate = backend_error_rate_[b];
    backend.total = std::max(backend.total + connections, backend.active);
    backend.connect_errors += Occurrences(connections, error_rate, h);
    backend.handshake_errors += Occurrences(connections, error_rate / 4, h >> 17);
    backend.request_errors += Occurrences(requests, error_rate / 8, h >> 34);
    // Every new backend connection is a pool miss; the other requests reuse a connection.
    backend.pool_misses += connections;
    backend.pool_hits += requests > connections ? requests - connections : 0;
    const std::uint64_t jitter = 192 + (h >> 52) % 128;  // 0.75 .. 1.25
    const std::uint64_t connect_us = std::uint64_t{backend_connect_us_[b]} * jitter / 256;
    backend.connect_time_ms = static_cast<double>(connect_us) / 1000.0;
    ProtocolState& side = s.backend_protocols[backend_side_[b]];
    side.active += backend.active;
    side.total += backend.total;
  }
}

void Simulation::StepFrontendProtocols(std::uint64_t step_key, std::uint64_t active,
                                       std::uint64_t new_connections) {
  SimulationState& s = state_;
  const std::size_t count = s.frontend_protocols.size();
  const std::uint64_t weight_sum = Sum(frontend_weight_);
  const std::size_t first = Mix(step_key, 0x67) % count;
  SplitByWeight(active, frontend_weight_, weight_sum, first, s.frontend_protocols,
                [](ProtocolState& part, std::uint64_t v, bool add = false) {
                  part.active = add ? part.active + v : v;
                });
  SplitByWeight(new_connections, frontend_weight_, weight_sum, first, s.frontend_protocols,
                [](ProtocolState& part, std::uint64_t v, bool = false) { part.total += v; });
  // Every open connection was accepted at some point, also those open at the (re)start.
  for (ProtocolState& p : s.frontend_protocols) p.total = std::max(p.total, p.active);
}

void Simulation::StepUdp(std::uint64_t step_key, std::uint64_t elapsed_ms) {
  UdpState& udp = state_.udp;
  const std::uint64_t h = Mix(step_key, 0x6b);
  const std::uint64_t base = 4 + Mix(options_.seed, 0x31) % 12;
  udp.active_sessions = base + h % base;
  const std::uint64_t new_sessions =
      (udp.active_sessions / 2 + (h >> 16) % (udp.active_sessions + 1)) * elapsed_ms / 1000;
  udp.total_sessions = std::max(udp.total_sessions + new_sessions, udp.active_sessions);
  const std::uint64_t datagrams_in =
      udp.active_sessions * (20 + (h >> 32) % 40) * elapsed_ms / 1000;
  udp.datagrams_in += datagrams_in;
  udp.datagrams_out += datagrams_in - datagrams_in / 16;  // a few go unanswered
}

void Simulation::StepDomains(double seconds) {
  SimulationState& s = state_;
  const std::uint64_t weight_sum = Sum(domain_weight_);
  const double alpha = std::min(1.0, seconds / 60);
  for (std::size_t d = 0; d < s.domains.size(); ++d) {
    const double share = static_cast<double>(domain_weight_[d]) / static_cast<double>(weight_sum);
    const double rps = s.requests_per_second * share;
    double& average = domain_average_rps_[d];
    average = average == 0 ? rps : average + alpha * (rps - average);
    s.domains[d].per_second = rps;
    s.domains[d].per_minute = static_cast<double>(static_cast<std::uint64_t>(average * 60));
  }
}

}  // namespace proxy_sim
