#include "proxy_sim/simulation.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "proxy_sim/snapshot_json.h"

namespace proxy_sim {
namespace {

SimulationOptions Options(std::size_t routes, std::size_t ips, std::uint64_t seed = 7) {
  SimulationOptions options;
  options.routes = routes;
  options.ips = ips;
  options.seed = seed;
  return options;
}

void CheckSumsAddUp(const SimulationState& s) {
  const std::uint64_t ip_active =
      std::accumulate(s.ip_active.begin(), s.ip_active.end(), std::uint64_t{0});
  CHECK(ip_active == s.connections_active);
  if (!s.route_active.empty()) {
    const std::uint64_t route_active =
        std::accumulate(s.route_active.begin(), s.route_active.end(), std::uint64_t{0});
    CHECK(route_active == s.connections_active);
    double route_in = 0;
    double route_out = 0;
    for (const InOutRate& r : s.route_throughput) {
      route_in += r.in;
      route_out += r.out;
    }
    CHECK(route_in == s.instant.in);
    CHECK(route_out == s.instant.out);
  }
  double ip_in = 0;
  double ip_out = 0;
  for (const InOutRate& r : s.ip_throughput) {
    ip_in += r.in;
    ip_out += r.out;
  }
  CHECK(ip_in == s.instant.in);
  CHECK(ip_out == s.instant.out);
  CHECK(s.connections_total >= s.connections_active);
}

TEST_CASE("Simulation is deterministic for a given seed") {
  Simulation a(Options(5, 300, 42));
  Simulation b(Options(5, 300, 42));
  Simulation other(Options(5, 300, 43));
  for (int i = 0; i < 5; ++i) {
    a.Advance();
    b.Advance();
    other.Advance();
    CHECK(RenderSnapshot(a) == RenderSnapshot(b));
    CHECK(RenderSnapshot(a, {.hostile_names = true}) == RenderSnapshot(b, {.hostile_names = true}));
    CHECK(RenderSnapshot(a) != RenderSnapshot(other));
  }
}

TEST_CASE("Simulation is deterministic for a given seed in every generation") {
  for (Generation generation : {Generation::k19_6, Generation::k21_1, Generation::k27}) {
    CAPTURE(GenerationName(generation));
    SimulationOptions options = Options(5, 100, 42);
    options.generation = generation;
    options.domains = 30;
    Simulation a(options);
    Simulation b(options);
    options.seed = 43;
    Simulation other(options);
    for (int i = 0; i < 5; ++i) {
      a.Advance();
      b.Advance();
      other.Advance();
      CHECK(RenderSnapshot(a) == RenderSnapshot(b));
      CHECK(RenderSnapshot(a, {.hostile_names = true}) ==
            RenderSnapshot(b, {.hostile_names = true}));
      CHECK(RenderSnapshot(a) != RenderSnapshot(other));
    }
  }
}

TEST_CASE("Simulation protocol 1.1 counters grow monotonically and errors stay rare") {
  SimulationOptions options = Options(8, 1000);
  options.backends = 20;
  Simulation simulation(options);
  SimulationState previous = simulation.state();
  for (int i = 0; i < 300; ++i) {
    simulation.Advance();
    const SimulationState& s = simulation.state();
    REQUIRE(s.backends.size() == 20);
    for (std::size_t b = 0; b < s.backends.size(); ++b) {
      const BackendState& now = s.backends[b];
      const BackendState& before = previous.backends[b];
      CHECK(now.total > before.total);
      CHECK(now.total >= now.active);
      CHECK(now.connect_errors >= before.connect_errors);
      CHECK(now.handshake_errors >= before.handshake_errors);
      CHECK(now.request_errors >= before.request_errors);
      CHECK(now.pool_hits > before.pool_hits);
      CHECK(now.pool_misses > before.pool_misses);
    }
    for (std::size_t p = 0; p < s.frontend_protocols.size(); ++p) {
      CHECK(s.frontend_protocols[p].total > previous.frontend_protocols[p].total);
    }
    for (std::size_t p = 0; p < s.backend_protocols.size(); ++p) {
      CHECK(s.backend_protocols[p].total > previous.backend_protocols[p].total);
    }
    CHECK(s.udp.total_sessions > previous.udp.total_sessions);
    CHECK(s.udp.datagrams_in > previous.udp.datagrams_in);
    CHECK(s.udp.datagrams_out > previous.udp.datagrams_out);
    CHECK(s.udp.total_sessions >= s.udp.active_sessions);
    for (const DomainRate& domain : s.domains) {
      CHECK(domain.per_second > 0);
      CHECK(domain.per_minute > 0);
    }
    previous = s;
  }
  // Errors happen, slowly: every kind somewhere, and in sum far below SmartProxyBackendErrors'
  // 5% of the backend connections (deploy/prometheus/rules.yml).
  std::uint64_t connections = 0;
  std::uint64_t errors[3] = {0, 0, 0};
  for (const BackendState& b : simulation.state().backends) {
    connections += b.total;
    errors[0] += b.connect_errors;
    errors[1] += b.handshake_errors;
    errors[2] += b.request_errors;
    const double ratio =
        static_cast<double>(b.connect_errors + b.handshake_errors + b.request_errors) /
        static_cast<double>(b.total);
    CHECK(ratio < 0.03);
  }
  for (std::uint64_t e : errors) CHECK(e > 0);
  CHECK(static_cast<double>(errors[0] + errors[1] + errors[2]) <
        0.03 * static_cast<double>(connections));
}

TEST_CASE("Simulation open-connection bytes never exceed the bytes so far, and fall sometimes") {
  Simulation simulation(Options(4, 300));
  int falls = 0;
  double previous = 0;
  for (int i = 0; i < 200; ++i) {
    simulation.Advance();
    const SimulationState& s = simulation.state();
    CHECK(s.open_connection_bytes.in <= static_cast<double>(s.bytes_in));
    CHECK(s.open_connection_bytes.out <= static_cast<double>(s.bytes_out));
    if (s.open_connection_bytes.in < previous) ++falls;
    previous = s.open_connection_bytes.in;
  }
  CHECK(falls > 10);
}

TEST_CASE("Simulation totals grow monotonically across snapshots") {
  Simulation simulation(Options(8, 1000));
  SimulationState previous = simulation.state();
  for (int i = 0; i < 100; ++i) {
    simulation.Advance();
    const SimulationState& s = simulation.state();
    CHECK(s.timestamp_ms == previous.timestamp_ms + 1000);
    CHECK(s.connections_total > previous.connections_total);
    CHECK(s.requests_total > previous.requests_total);
    CHECK(s.bytes_in > previous.bytes_in);
    CHECK(s.bytes_out > previous.bytes_out);
    CHECK(s.instance == previous.instance);
    CHECK(s.start_time_ms == previous.start_time_ms);
    previous = s;
  }
}

TEST_CASE("Simulation per-route and per-IP values add up to the totals") {
  SUBCASE("one route") {
    Simulation simulation(Options(1, 50));
    for (int i = 0; i < 20; ++i, simulation.Advance()) CheckSumsAddUp(simulation.state());
  }
  SUBCASE("more routes than connections") {
    Simulation simulation(Options(500, 3));
    for (int i = 0; i < 20; ++i, simulation.Advance()) CheckSumsAddUp(simulation.state());
  }
  SUBCASE("10k IPs") {
    Simulation simulation(Options(13, 10000));
    for (int i = 0; i < 5; ++i, simulation.Advance()) CheckSumsAddUp(simulation.state());
  }
  SUBCASE("no IPs") {
    Simulation simulation(Options(4, 0));
    simulation.Advance();
    CheckSumsAddUp(simulation.state());
    CHECK(simulation.state().connections_active == 0);
  }
  SUBCASE("wall clock steps") {
    Simulation simulation(Options(6, 100));
    for (std::int64_t t : {1764040000500LL, 1764040003000LL, 1764040003001LL, 1764040003001LL}) {
      const std::uint64_t total = simulation.state().bytes_in;
      simulation.AdvanceTo(t);
      CHECK(simulation.state().timestamp_ms == t);
      CHECK(simulation.state().bytes_in >= total);
      CheckSumsAddUp(simulation.state());
    }
  }
}

TEST_CASE("Simulation IP names are distinct and mix IPv4 and IPv6") {
  Simulation simulation(Options(3, 100000));
  for (bool hostile : {false, true}) {
    const auto& names = simulation.ip_names(hostile);
    REQUIRE(names.size() == 100000);
    CHECK(std::set<std::string>(names.begin(), names.end()).size() == names.size());
    const auto v6 = std::count_if(names.begin(), names.end(),
                                  [](const std::string& n) { return n.find(':') != n.npos; });
    CHECK(v6 > 30000);
    CHECK(v6 < 40000);
  }
  const auto& routes = simulation.route_names(true);
  CHECK(std::set<std::string>(routes.begin(), routes.end()).size() == routes.size());
  Simulation many_routes(Options(100, 1));
  const auto& hostile_routes = many_routes.route_names(true);
  CHECK(std::set<std::string>(hostile_routes.begin(), hostile_routes.end()).size() == 100);
}

TEST_CASE("Simulation restart resets totals and picks a new instance and startTime") {
  Simulation simulation(Options(4, 100));
  for (int i = 0; i < 10; ++i) simulation.Advance();
  const SimulationState before = simulation.state();
  simulation.Restart();
  simulation.Advance();
  const SimulationState& after = simulation.state();
  CHECK(after.instance != before.instance);
  CHECK(after.instance.size() == 12);
  CHECK(after.start_time_ms == before.timestamp_ms);
  CHECK(after.timestamp_ms == before.timestamp_ms + 1000);
  CHECK(after.connections_total < before.connections_total);
  CHECK(after.requests_total < before.requests_total);
  CHECK(after.bytes_in < before.bytes_in);
  CHECK(after.bytes_out < before.bytes_out);
  for (std::size_t b = 0; b < after.backends.size(); ++b) {
    CHECK(after.backends[b].total < before.backends[b].total);
    CHECK(after.backends[b].pool_hits < before.backends[b].pool_hits);
    CHECK(after.backends[b].connect_errors <= before.backends[b].connect_errors);
  }
  CHECK(after.frontend_protocols[0].total < before.frontend_protocols[0].total);
  CHECK(after.backend_protocols[0].total < before.backend_protocols[0].total);
  CHECK(after.udp.datagrams_in < before.udp.datagrams_in);
  CHECK(after.udp.total_sessions < before.udp.total_sessions);
  CheckSumsAddUp(after);
}

}  // namespace
}  // namespace proxy_sim
