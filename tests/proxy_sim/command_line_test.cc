#include "proxy_sim/command_line.h"

#include <doctest/doctest.h>

namespace proxy_sim {
namespace {

TEST_CASE("ParseCommandLine reads every option in both spellings") {
  const CommandLine parsed = ParseCommandLine({"--socket",
                                               "/tmp/x.sock",
                                               "--routes=3",
                                               "--ips",
                                               "100000",
                                               "--seed=9",
                                               "--fault=huge",
                                               "--fault-every",
                                               "4",
                                               "--fault-after=2",
                                               "--huge-bytes",
                                               "1000",
                                               "--slow-bytes-per-sec=50",
                                               "--start-time",
                                               "1700000000000",
                                               "--wall-clock",
                                               "--generation",
                                               "19.6",
                                               "--backends=40",
                                               "--domains",
                                               "300"});
  REQUIRE_FALSE(parsed.error.has_value());
  CHECK_FALSE(parsed.help);
  const ServerOptions& options = parsed.server;
  CHECK(options.socket_path == "/tmp/x.sock");
  CHECK(options.simulation.routes == 3);
  CHECK(options.simulation.ips == 100000);
  CHECK(options.simulation.seed == 9);
  CHECK(options.simulation.start_time_ms == 1700000000000);
  CHECK(options.fault.mode == FaultMode::kHuge);
  CHECK(options.fault.every == 4);
  CHECK(options.fault.after == 2);
  CHECK(options.fault.huge_bytes == 1000);
  CHECK(options.fault.slow_bytes_per_second == 50);
  CHECK(options.wall_clock);
  CHECK(options.simulation.generation == Generation::k19_6);
  CHECK(options.simulation.backends == 40);
  CHECK(options.simulation.domains == 300);
  CHECK(ParseCommandLine({"--socket=/tmp/s", "--generation=21.1"}).server.simulation.generation ==
        Generation::k21_1);
}

TEST_CASE("ParseCommandLine defaults and help") {
  const CommandLine parsed = ParseCommandLine({"--socket=/tmp/s"});
  REQUIRE_FALSE(parsed.error.has_value());
  CHECK(parsed.server.fault.mode == FaultMode::kNone);
  CHECK(parsed.server.fault.every == 10);
  CHECK(parsed.server.fault.huge_bytes == 80ULL * 1024 * 1024);
  CHECK(parsed.server.fault.slow_bytes_per_second == 1024);
  CHECK_FALSE(parsed.server.wall_clock);
  CHECK(parsed.server.simulation.generation == Generation::k27);
  CHECK(parsed.server.simulation.backends == 6);
  CHECK(parsed.server.simulation.domains == 8);
  CHECK(UsageText().find("--generation") != std::string::npos);
  CHECK(ParseCommandLine({"--help"}).help);
  CHECK(UsageText().find("SIGUSR1") != std::string::npos);
}

TEST_CASE("ParseCommandLine reports usage errors") {
  for (const auto& args : std::vector<std::vector<std::string_view>>{
           {},
           {"--routes", "3"},
           {"--socket"},
           {"--socket", "/tmp/s", "--ips", "-1"},
           {"--socket", "/tmp/s", "--ips", "many"},
           {"--socket", "/tmp/s", "--fault=explode"},
           {"--socket", "/tmp/s", "--fault-every", "0"},
           {"--socket", "/tmp/s", "--bogus"},
           {"--socket", "/tmp/s", "--wall-clock=yes"},
           {"--socket", "/tmp/s", "--generation", "20"},
           {"--socket", "/tmp/s", "--generation=27.0"},
           {"--socket", "/tmp/s", "--generation"},
           {"--socket", "/tmp/s", "--backends", "100001"},
           {"--socket", "/tmp/s", "--domains=-1"},
       }) {
    const CommandLine parsed = ParseCommandLine(args);
    CHECK(parsed.error.has_value());
  }
}

TEST_CASE("Generation names round-trip") {
  for (Generation generation : {Generation::k19_6, Generation::k21_1, Generation::k27}) {
    CHECK(ParseGeneration(GenerationName(generation)) == generation);
  }
  CHECK(GenerationName(Generation::k19_6) == "19.6");
  CHECK_FALSE(ParseGeneration("").has_value());
  CHECK_FALSE(ParseGeneration("19").has_value());
}

TEST_CASE("Fault mode names round-trip") {
  for (FaultMode mode : {FaultMode::kNone, FaultMode::kSlow, FaultMode::kHang, FaultMode::kGarbage,
                         FaultMode::kTruncate, FaultMode::kHttp500, FaultMode::kHuge,
                         FaultMode::kRestart, FaultMode::kHostileNames}) {
    CHECK(ParseFaultMode(FaultModeName(mode)) == mode);
  }
  CHECK(ParseFaultMode("hostile-names") == FaultMode::kHostileNames);
  CHECK_FALSE(ParseFaultMode("Hang").has_value());
}

}  // namespace
}  // namespace proxy_sim
