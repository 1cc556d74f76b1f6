// How fast proxy-sim produces and serves a snapshot. Prints the figures; the bounds only catch
// gross regressions (they hold with sanitizers on).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "proxy_sim/server.h"
#include "proxy_sim/snapshot_json.h"
#include "raw_http.h"
#include "temp_dir.h"

namespace proxy_sim {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double Micros(Clock::duration d) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()) /
         1000.0;
}

TEST_CASE("Snapshot generation and serving stay fast up to 100k IPs") {
  for (std::size_t ips :
       {std::size_t{10}, std::size_t{1000}, std::size_t{10000}, std::size_t{100000}}) {
    SimulationOptions options;
    options.routes = 20;
    options.ips = ips;
    Simulation simulation(options);
    SnapshotWriter writer;
    const int rounds = ips >= 100000 ? 20 : 200;

    // Best of N: the figure that shows the code, not the machine's noise.
    Clock::duration best_all = Clock::duration::max();
    Clock::duration best_top = Clock::duration::max();
    std::size_t bytes_all = 0;
    std::size_t bytes_top = 0;
    for (int i = 0; i < rounds; ++i) {
      auto start = Clock::now();
      simulation.Advance();
      bytes_all = writer.Write(simulation, {}).size();
      best_all = std::min(best_all, Clock::now() - start);
      REQUIRE(bytes_all > ips * 20);
      start = Clock::now();
      simulation.Advance();
      bytes_top = writer.Write(simulation, {.max_ips = 20}).size();
      best_top = std::min(best_top, Clock::now() - start);
      REQUIRE(bytes_top > 0);
    }

    // Over the socket: request, generation, transfer and reading the whole response.
    test_support::TempDir dir;
    ServerOptions server_options;
    server_options.socket_path = dir.File("s");
    server_options.simulation = options;
    Server server(server_options);
    server.Start();
    proxy_sim_test::RawConnection connection(server_options.socket_path);
    Clock::duration best_fetch = Clock::duration::max();
    for (int i = 0; i < rounds; ++i) {
      const auto start = Clock::now();
      REQUIRE(connection.Send(proxy_sim_test::GetRequest("/v1/snapshot")));
      const auto response = proxy_sim_test::ReadResponse(connection, 10s);
      best_fetch = std::min(best_fetch, Clock::now() - start);
      REQUIRE(response.has_value());
      REQUIRE(response->body.size() > ips * 20);
    }

    char line[256];
    std::snprintf(line, sizeof line,
                  "%6zu IPs: generate all %9.1f us (%8zu bytes, %6.0f MB/s) | ips=20 %7.1f us | "
                  "fetch all over socket %9.1f us",
                  ips, Micros(best_all), bytes_all,
                  static_cast<double>(bytes_all) / Micros(best_all), Micros(best_top),
                  Micros(best_fetch));
    MESSAGE(line);
    if (ips == 100000) {
      CHECK(best_all < 500ms);
      CHECK(best_fetch < 1s);
    }
  }
}

}  // namespace
}  // namespace proxy_sim
