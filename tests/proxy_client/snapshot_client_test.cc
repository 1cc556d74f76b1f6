#include "proxy_client/snapshot_client.h"

#include <doctest/doctest.h>
#include <grp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "child_process.h"
#include "proxy_sim/server.h"
#include "proxy_sim/simulation.h"
#include "temp_dir.h"

using namespace std::chrono_literals;
using proxy_client::FetchErrorKind;
using proxy_client::FetchRequest;
using proxy_client::SnapshotClient;
using proxy_client::SnapshotClientOptions;

namespace {

proxy_sim::ServerOptions SimOptions(const std::string& socket, std::size_t ips = 50) {
  proxy_sim::ServerOptions options;
  options.socket_path = socket;
  options.simulation.routes = 6;
  options.simulation.ips = ips;
  options.simulation.seed = 7;
  return options;
}

FetchRequest Within(std::chrono::milliseconds deadline, std::optional<unsigned> ips = {}) {
  FetchRequest request;
  request.deadline = deadline;
  request.ips = ips;
  return request;
}

// The simulation state the server served at `timestamp_ms`, replayed locally from the seed.
proxy_sim::Simulation ReplayTo(const proxy_sim::SimulationOptions& options, double timestamp_ms) {
  proxy_sim::Simulation simulation(options);
  for (int i = 0; i < 1000 && static_cast<double>(simulation.state().timestamp_ms) < timestamp_ms;
       ++i) {
    simulation.Advance();
  }
  return simulation;
}

// Runs `body` in a forked child (as uid/gid 65534 when we are root) and returns its exit code.
int RunAsUnprivilegedChild(const std::function<int()>& body) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (geteuid() == 0) {
      if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(90);
    }
    _exit(body());
  }
  int status = 0;
  const bool exited =
      test_support::PollUntil([&] { return waitpid(pid, &status, WNOHANG) == pid; }, 20s);
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
}

}  // namespace

TEST_CASE("Client round-trips a simulated snapshot exactly") {
  test_support::TempDir dir;
  auto options = SimOptions(dir.File("p.sock"));
  proxy_sim::Server server(options);
  server.Start();
  SnapshotClient client(SnapshotClientOptions{dir.File("p.sock")});

  auto result = client.Fetch(Within(2s));
  REQUIRE_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
  const auto& snapshot = result->snapshot;
  CHECK(result->body_bytes > 1000);

  const auto replay = ReplayTo(options.simulation, snapshot.timestamp_ms);
  const auto& state = replay.state();
  REQUIRE(static_cast<double>(state.timestamp_ms) == snapshot.timestamp_ms);
  CHECK(snapshot.connections.active == static_cast<double>(state.connections_active));
  CHECK(snapshot.connections.total == static_cast<double>(state.connections_total));
  CHECK(snapshot.bytes->in == static_cast<double>(state.bytes_in));
  CHECK(snapshot.bytes->out == static_cast<double>(state.bytes_out));
  CHECK(snapshot.requests->total == static_cast<double>(state.requests_total));
  CHECK(snapshot.throughput->instant->in == state.instant.in);
  CHECK(snapshot.proxy->instance == state.instance);
  const auto& routes = *snapshot.connections.by_route;
  REQUIRE(routes.size() == state.route_active.size());
  for (std::size_t i = 0; i < routes.size(); ++i) {
    CHECK(routes[i].first == replay.route_names(false)[i]);
    CHECK(routes[i].second == static_cast<double>(state.route_active[i]));
  }
  const auto& ips = *snapshot.connections.by_ip;
  REQUIRE(ips.size() == state.ip_active.size());
  for (std::size_t i = 0; i < ips.size(); ++i) {
    CHECK(ips[i].first == replay.ip_names(false)[i]);
    CHECK(ips[i].second == static_cast<double>(state.ip_active[i]));
    CHECK((*snapshot.throughput->by_ip)[i].second.out == state.ip_throughput[i].out);
  }

  SUBCASE("a second fetch reuses the connection and sees grown totals") {
    auto second = client.Fetch(Within(2s));
    REQUIRE(second.has_value());
    CHECK(second->snapshot.connections.total >= snapshot.connections.total);
    CHECK(second->snapshot.timestamp_ms > snapshot.timestamp_ms);
    CHECK(server.connections_accepted() == 1);
  }
  SUBCASE("?ips=N returns the N busiest IPs") {
    auto limited = client.Fetch(Within(2s, 5));
    REQUIRE(limited.has_value());
    REQUIRE(limited->snapshot.connections.by_ip->size() == 5);
    CHECK(limited->snapshot.connections.distinct_ips == 50);
    auto none = client.Fetch(Within(2s, 0));
    REQUIRE(none.has_value());
    CHECK(none->snapshot.connections.by_ip->empty());
  }
}

TEST_CASE("Client reports every fault mode as its error class within the deadline") {
  test_support::TempDir dir;
  auto options = SimOptions(dir.File("p.sock"));
  options.fault.huge_bytes = 3 * 1024 * 1024;
  proxy_sim::Server server(options);
  server.Start();
  SnapshotClientOptions client_options{dir.File("p.sock")};
  client_options.max_body_bytes = 1024 * 1024;
  SnapshotClient client(client_options);

  struct Case {
    proxy_sim::FaultMode mode;
    FetchErrorKind kind;
    const char* message_part;
  };
  const Case cases[] = {
      {proxy_sim::FaultMode::kSlow, FetchErrorKind::kTimeout, "within 500ms"},
      {proxy_sim::FaultMode::kHang, FetchErrorKind::kTimeout, "within 500ms"},
      {proxy_sim::FaultMode::kGarbage, FetchErrorKind::kParse, "invalid JSON"},
      {proxy_sim::FaultMode::kTruncate, FetchErrorKind::kParse, "truncated"},
      {proxy_sim::FaultMode::kHttp500, FetchErrorKind::kHttpStatus, "HTTP 500"},
      {proxy_sim::FaultMode::kHuge, FetchErrorKind::kTooLarge, "1048576 bytes"},
  };
  for (const Case& c : cases) {
    CAPTURE(proxy_sim::FaultModeName(c.mode));
    server.SetFault(c.mode);
    const auto started = std::chrono::steady_clock::now();
    auto failed = client.Fetch(Within(500ms));
    const auto took = std::chrono::steady_clock::now() - started;
    REQUIRE_FALSE(failed.has_value());
    CHECK(failed.error().kind == c.kind);
    CHECK_MESSAGE(failed.error().message.find(c.message_part) != std::string::npos,
                  failed.error().message);
    // The deadline holds (with slack for a loaded CI machine): no fault can hang a fetch.
    CHECK(took < 3s);

    server.SetFault(proxy_sim::FaultMode::kNone);
    auto recovered = client.Fetch(Within(2s));
    CHECK_MESSAGE(recovered.has_value(), (recovered.has_value() ? "" : recovered.error().message));
  }
}

TEST_CASE("Client reads restarts and hostile names as valid snapshots") {
  test_support::TempDir dir;
  auto options = SimOptions(dir.File("p.sock"));
  options.fault.every = 2;
  proxy_sim::Server server(options);
  server.Start();
  SnapshotClient client(SnapshotClientOptions{dir.File("p.sock")});

  SUBCASE("restart resets totals and changes the instance") {
    server.SetFault(proxy_sim::FaultMode::kRestart);
    std::string first_instance;
    bool saw_reset = false;
    double previous_total = -1;
    for (int i = 0; i < 6; ++i) {
      auto result = client.Fetch(Within(2s));
      REQUIRE(result.has_value());
      if (first_instance.empty()) first_instance = *result->snapshot.proxy->instance;
      if (previous_total >= 0 && result->snapshot.connections.total < previous_total) {
        saw_reset = true;
        CHECK(*result->snapshot.proxy->instance != first_instance);
      }
      previous_total = result->snapshot.connections.total;
    }
    CHECK(saw_reset);
  }
  SUBCASE("hostile names arrive verbatim and valid") {
    server.SetFault(proxy_sim::FaultMode::kHostileNames);
    auto result = client.Fetch(Within(2s));
    REQUIRE_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
    bool has_quote = false, has_newline = false, has_replacement = false;
    const auto inspect = [&](const std::string& name) {
      has_quote |= name.find('"') != std::string::npos;
      has_newline |= name.find('\n') != std::string::npos;
      has_replacement |= name.find("\xEF\xBF\xBD") != std::string::npos;
    };
    for (const auto& entry : *result->snapshot.connections.by_route) inspect(entry.first);
    for (const auto& entry : *result->snapshot.connections.by_ip) inspect(entry.first);
    CHECK(has_quote);
    CHECK(has_newline);
    CHECK(has_replacement);  // the lone surrogate, read as U+FFFD
  }
}

TEST_CASE("Client explains a missing socket, a regular file and a refused connection") {
  test_support::TempDir dir;
  SUBCASE("missing") {
    SnapshotClient client(SnapshotClientOptions{dir.File("none.sock")});
    auto result = client.Fetch(Within(1s));
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().kind == FetchErrorKind::kConnect);
    CHECK(result.error().message ==
          "proxy socket " + dir.File("none.sock") +
              " does not exist (is the proxy running with its snapshot adapter?)");
  }
  SUBCASE("a regular file") {
    test_support::WriteFile(dir.File("file.sock"), "x");
    SnapshotClient client(SnapshotClientOptions{dir.File("file.sock")});
    auto result = client.Fetch(Within(1s));
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().kind == FetchErrorKind::kConnect);
    CHECK(result.error().message ==
          dir.File("file.sock") + " is not a socket (it is a regular file)");
  }
  SUBCASE("a stale socket nobody listens on") {
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, dir.File("stale.sock").c_str());
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    close(fd);
    SnapshotClient client(SnapshotClientOptions{dir.File("stale.sock")});
    auto result = client.Fetch(Within(1s));
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().kind == FetchErrorKind::kConnect);
    CHECK(result.error().message.find("connection refused") != std::string::npos);
  }
}

TEST_CASE("Client names the path and the process identity when permission is denied") {
  test_support::TempDir dir;
  const std::string path = dir.File("locked.sock");
  // A listening socket without threads, so that fork() below is safe.
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, path.c_str());
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(listen(fd, 4) == 0);
  REQUIRE(chmod(dir.path().c_str(), 0755) == 0);
  REQUIRE(chmod(path.c_str(), geteuid() == 0 ? 0600 : 0000) == 0);

  const int code = RunAsUnprivilegedChild([&] {
    SnapshotClient client(SnapshotClientOptions{path});
    auto result = client.Fetch(Within(1s));
    if (result.has_value()) return 10;
    if (result.error().kind != FetchErrorKind::kConnect) return 11;
    const std::string& message = result.error().message;
    if (message.find("permission denied connecting to " + path) != 0) return 12;
    if (message.find("mode 0") == std::string::npos) return 13;
    if (message.find("this process runs as uid=" + std::to_string(getuid())) == std::string::npos)
      return 14;
    return 0;
  });
  close(fd);
  CHECK(code == 0);
}

TEST_CASE("Client reports an expired deadline without touching the socket") {
  SnapshotClient client(SnapshotClientOptions{"/nonexistent/p.sock"});
  auto result = client.Fetch(Within(0ms));
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().kind == FetchErrorKind::kTimeout);
}
