// --web.systemd-socket: the exporter serves the listening sockets that systemd passes it
// (sd_listen_fds(3)), started here by systemd's own systemd-socket-activate, which binds the
// port and passes it as LISTEN_FDS, as a .socket unit does (deploy/systemd/).
#include <doctest/doctest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "exposition.h"
#include "http_get.h"
#include "processes.h"

using namespace std::chrono_literals;
using namespace test_support;

TEST_CASE("--web.systemd-socket serves the socket systemd-socket-activate passes") {
  const auto which = RunCommand("command -v systemd-socket-activate");
  REQUIRE_MESSAGE(which.exit_code == 0,
                  "systemd-socket-activate not found (Debian package systemd)");
  TempDir dir;
  ProxySimProcess sim(dir, {"--ips", "5"});
  const int port = FreeLoopbackPort();
  const std::string address = "127.0.0.1:" + std::to_string(port);
  ChildProcess activated({"/usr/bin/systemd-socket-activate", "-l", address,
                          BuiltProgram("exporter/smartproxy_exporter"), "--web.systemd-socket",
                          "--proxy.socket", sim.socket()},
                         dir.path());
  HttpResponse response;
  CHECK(PollUntil(
      [&] {
        response = HttpGet("http://" + address + "/metrics");
        return response.status == 200;
      },
      20s));
  CHECK_MESSAGE(SampleValue(ParseExposition(response.body), "smartproxy_up") == 1,
                activated.Stderr());
  CHECK(activated.Stderr().find("address=systemd-socket port=" + std::to_string(port)) !=
        std::string::npos);
  // Keep-alive and a second request on the same socket.
  CHECK(HttpGet("http://" + address + "/-/ready").status == 200);
  CHECK(activated.Stop(SIGTERM, 10s) == 0);
}

TEST_CASE("--web.systemd-socket without activation exits 1 and says why") {
  TempDir dir;
  ChildProcess exporter({BuiltProgram("exporter/smartproxy_exporter"), "--web.systemd-socket",
                         "--proxy.socket", dir.File("proxy.sock")},
                        dir.path());
  CHECK(exporter.Wait(10s) == 1);
  CHECK(exporter.Stderr().find("no socket activation file descriptors found") != std::string::npos);
}
