// The proxy-sim binary: readiness line, SIGUSR1 fault toggle, clean exit, refusals.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <optional>
#include <string>

#include "child_process.h"
#include "json_checker.h"
#include "raw_http.h"
#include "temp_dir.h"

namespace {

using namespace std::chrono_literals;
using proxy_sim_test::GetRequest;
using proxy_sim_test::RawConnection;
using proxy_sim_test::ReadResponse;

const std::string kProgram = test_support::BuiltProgram("tools/proxy_sim/proxy-sim");

// Status of one GET /v1/snapshot on a fresh connection; 0 if none.
int SnapshotStatus(const std::string& socket_path) {
  RawConnection connection(socket_path);
  if (!connection.connected() || !connection.Send(GetRequest("/v1/snapshot"))) return 0;
  const auto response = ReadResponse(connection, 10s);
  return response ? response->status : 0;
}

TEST_CASE("proxy-sim announces readiness, toggles its fault on SIGUSR1 and exits 0 on SIGTERM" *
          doctest::test_suite("concurrency")) {
  test_support::TempDir dir;
  const std::string socket_path = dir.File("s");
  test_support::ChildProcess sim(
      {kProgram, "--socket", socket_path, "--ips", "20", "--fault=http500"}, dir.path());
  const std::string ready = "proxy-sim listening on " + socket_path + "\n";
  REQUIRE(test_support::PollUntil([&] { return sim.Stdout() == ready || !sim.Running(); }, 10s));
  REQUIRE(sim.Stdout() == ready);

  CHECK(SnapshotStatus(socket_path) == 500);
  sim.Signal(SIGUSR1);
  CHECK(test_support::PollUntil([&] { return SnapshotStatus(socket_path) == 200; }, 10s));
  sim.Signal(SIGUSR1);
  CHECK(test_support::PollUntil([&] { return SnapshotStatus(socket_path) == 500; }, 10s));

  CHECK(sim.Stop(SIGTERM, 10s) == 0);
  struct stat st {};
  CHECK(::lstat(socket_path.c_str(), &st) != 0);
  CHECK(sim.Stdout() == ready);
}

TEST_CASE("proxy-sim exits 0 on SIGINT while a client hangs") {
  test_support::TempDir dir;
  const std::string socket_path = dir.File("s");
  test_support::ChildProcess sim({kProgram, "--socket", socket_path, "--fault=hang"}, dir.path());
  REQUIRE(test_support::PollUntil(
      [&] { return sim.Stdout().find("listening") != std::string::npos || !sim.Running(); }, 10s));
  RawConnection hanging(socket_path);
  REQUIRE(hanging.Send(GetRequest("/v1/snapshot")));
  CHECK(sim.Stop(SIGINT, 10s) == 0);
}

TEST_CASE("proxy-sim --generation serves that generation's snapshot shape") {
  struct Case {
    std::vector<std::string> flags;
    const char* api;
    bool backends;
    bool bytes;
  };
  const Case cases[] = {{{}, "IMetrics", true, true},
                        {{"--generation", "27", "--backends", "3"}, "IMetrics", true, true},
                        {{"--generation=21.1"}, "IMetrics", false, true},
                        {{"--generation", "19.6"}, "IProxyStats", false, false}};
  for (const Case& c : cases) {
    CAPTURE(c.api);
    CAPTURE(c.flags.size());
    test_support::TempDir dir;
    const std::string socket_path = dir.File("s");
    std::vector<std::string> argv = {kProgram, "--socket", socket_path, "--ips", "5"};
    argv.insert(argv.end(), c.flags.begin(), c.flags.end());
    test_support::ChildProcess sim(argv, dir.path());
    REQUIRE(test_support::PollUntil(
        [&] { return sim.Stdout().find("listening") != std::string::npos || !sim.Running(); },
        10s));
    RawConnection connection(socket_path);
    REQUIRE(connection.Send(GetRequest("/v1/snapshot?ips=2")));
    const auto response = ReadResponse(connection, 10s);
    REQUIRE(response.has_value());
    REQUIRE(response->status == 200);
    test_support::JsonChecker checker;
    const auto doc = checker.Parse(response->body);
    REQUIRE_MESSAGE(doc.has_value(), checker.error());
    CHECK((*doc)["adapter"]["api"].text == c.api);
    CHECK((*doc)["connections"]["byIP"].keys.size() == 2);
    CHECK(doc->Has("backends") == c.backends);
    CHECK(doc->Has("udp") == c.backends);
    CHECK(doc->Has("bytes") == c.bytes);
    CHECK(doc->Has("openConnectionBytes") == !c.bytes);
    if (c.flags.size() == 4) CHECK((*doc)["backends"].keys.size() == 3);
    CHECK(sim.Stop(SIGTERM, 10s) == 0);
  }
}

TEST_CASE("proxy-sim refuses a path that is not a socket and reports usage errors") {
  test_support::TempDir dir;
  const std::string path = dir.File("file");
  test_support::WriteFile(path, "keep me");
  {
    test_support::ChildProcess sim({kProgram, "--socket", path}, dir.path());
    CHECK(sim.Wait(10s) == 1);
    CHECK(sim.Stderr().find("not a socket") != std::string::npos);
  }
  CHECK(test_support::ReadFile(path) == "keep me");
  {
    test_support::ChildProcess sim({kProgram, "--socket", dir.File("s"), "--fault=nope"},
                                   dir.path());
    CHECK(sim.Wait(10s) == 2);
    CHECK(sim.Stderr().find("nope") != std::string::npos);
  }
  {
    test_support::ChildProcess sim({kProgram, "--socket", dir.File("s"), "--generation=20"},
                                   dir.path());
    CHECK(sim.Wait(10s) == 2);
    CHECK(sim.Stderr().find("expected 19.6, 21.1 or 27") != std::string::npos);
  }
  {
    test_support::ChildProcess sim({kProgram, "--help"}, dir.path());
    CHECK(sim.Wait(10s) == 0);
    CHECK(sim.Stdout().find("--fault=MODE") != std::string::npos);
  }
}

}  // namespace
