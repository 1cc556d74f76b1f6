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

}  // namespace

Simulation::Simulation(const SimulationOptions& options)
    : options_(options),
      id_(NextId()),
      route_names_(internal::MakeRouteNames(options.routes)),
      hostile_route_names_(internal::MakeHostileRouteNames(options.routes)),
      ip_names_(internal::MakeIpNames(options.ips, options.seed)),
      hostile_ip_names_(internal::MakeHostileIpNames(ip_names_)) {
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
  state_.instance = InstanceId(seed, generation_);
  state_.start_time_ms = options_.start_time_ms;
  state_.timestamp_ms = options_.start_time_ms;
  state_.route_active.assign(options_.routes, 0);
  state_.route_throughput.assign(options_.routes, {});
  state_.ip_active.assign(options_.ips, 0);
  state_.ip_throughput.assign(options_.ips, {});
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
  }
  s.connections_active = active;
  s.instant = {static_cast<double>(in), static_cast<double>(out)};

  std::uint64_t weight_sum = 0;
  for (std::uint32_t w : route_weight_) weight_sum += w;
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
}

}  // namespace proxy_sim
