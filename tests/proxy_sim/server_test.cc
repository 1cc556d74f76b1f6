#include "proxy_sim/server.h"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "json_checker.h"
#include "raw_http.h"
#include "temp_dir.h"

namespace proxy_sim {
namespace {

using namespace std::chrono_literals;
using proxy_sim_test::GetRequest;
using proxy_sim_test::JsonChecker;
using proxy_sim_test::JsonValue;
using proxy_sim_test::RawConnection;
using proxy_sim_test::RawResponse;
using proxy_sim_test::ReadResponse;
using Clock = std::chrono::steady_clock;

ServerOptions Options(FaultMode mode = FaultMode::kNone) {
  ServerOptions options;
  options.simulation.routes = 4;
  options.simulation.ips = 50;
  options.fault.mode = mode;
  return options;
}

// A started server on a socket in a fresh temp dir; stopped and cleaned up on destruction.
struct SimServer {
  explicit SimServer(ServerOptions options) : server(WithPath(std::move(options), dir)) {
    server.Start();
  }
  static ServerOptions WithPath(ServerOptions options, const test_support::TempDir& dir) {
    options.socket_path = dir.File("s");
    return options;
  }
  std::string path() const { return server.socket_path(); }

  test_support::TempDir dir;
  Server server;
};

JsonValue ParseSnapshot(const std::string& body) {
  JsonChecker checker;
  auto value = checker.Parse(body);
  INFO("JSON error: " << checker.error());
  REQUIRE(value.has_value());
  return std::move(*value);
}

RawResponse Get(RawConnection& connection, std::string_view target = "/v1/snapshot") {
  REQUIRE(connection.Send(GetRequest(target)));
  auto response = ReadResponse(connection, 10s);
  REQUIRE(response.has_value());
  return std::move(*response);
}

TEST_CASE("Server answers snapshots on one keep-alive connection, pipelined too") {
  SimServer sim(Options());
  RawConnection connection(sim.path());
  REQUIRE(connection.connected());
  double last_timestamp = 0;
  const auto check_snapshot = [&](const RawResponse& response) {
    CHECK(response.status == 200);
    CHECK(response.headers.at("content-type") == "application/json");
    const JsonValue doc = ParseSnapshot(response.body);
    CHECK(doc["timestamp"].number > last_timestamp);
    last_timestamp = doc["timestamp"].number;
  };
  check_snapshot(Get(connection));
  check_snapshot(Get(connection, "/v1/snapshot?ips=3"));
  REQUIRE(connection.Send(GetRequest("/v1/snapshot") + GetRequest("/v1/snapshot?ips=0")));
  for (int i = 0; i < 2; ++i) {
    const auto response = ReadResponse(connection, 10s);
    REQUIRE(response.has_value());
    check_snapshot(*response);
  }
  CHECK(sim.server.snapshot_requests() == 4);
  CHECK(sim.server.connections_accepted() == 1);
}

TEST_CASE("Server answers 404, 405 and 400, and closes after a malformed request") {
  SimServer sim(Options());
  RawConnection connection(sim.path());
  REQUIRE(connection.connected());

  const RawResponse not_found = Get(connection, "/metrics");
  CHECK(not_found.status == 404);
  CHECK(not_found.headers.at("content-type").rfind("text/plain", 0) == 0);

  REQUIRE(connection.Send("POST /v1/snapshot HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"));
  const auto not_allowed = ReadResponse(connection, 10s);
  REQUIRE(not_allowed.has_value());
  CHECK(not_allowed->status == 405);
  CHECK(not_allowed->headers.at("allow") == "GET");

  CHECK(Get(connection, "/v1/snapshot?ips=lots").status == 400);
  CHECK(Get(connection).status == 200);  // all of the above kept the connection open
  CHECK(sim.server.snapshot_requests() == 1);

  REQUIRE(connection.Send("THIS IS NOT HTTP\r\n\r\n"));
  const auto bad = ReadResponse(connection, 10s);
  REQUIRE(bad.has_value());
  CHECK(bad->status == 400);
  CHECK(bad->headers.at("connection") == "close");
  CHECK(connection.WaitForClose(Clock::now() + 10s));

  RawConnection closing(sim.path());
  const RawResponse last = [&] {
    REQUIRE(closing.Send(GetRequest("/v1/snapshot", "Connection: close\r\n")));
    auto response = ReadResponse(closing, 10s);
    REQUIRE(response.has_value());
    return *response;
  }();
  CHECK(last.status == 200);
  CHECK(last.headers.at("connection") == "close");
  CHECK(closing.WaitForClose(Clock::now() + 10s));
}

TEST_CASE("Server serves several concurrent clients" * doctest::test_suite("concurrency")) {
  SimServer sim(Options());
  RawConnection idle(sim.path());  // an idle connection must not hold anyone up
  REQUIRE(idle.connected());
  constexpr int kClients = 8;
  constexpr int kRequests = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      RawConnection connection(sim.path());
      for (int i = 0; i < kRequests; ++i) {
        if (!connection.Send(GetRequest("/v1/snapshot?ips=10"))) return;
        const auto response = ReadResponse(connection, 10s);
        if (!response || response->status != 200) return;
        if (!JsonChecker().Parse(response->body)) return;
        ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  CHECK(ok.load() == kClients * kRequests);
  CHECK(sim.server.snapshot_requests() == kClients * kRequests);
  CHECK(sim.server.connections_accepted() == kClients + 1);
}

TEST_CASE("Server Stop returns promptly while clients hang, trickle or idle") {
  test_support::TempDir dir;
  ServerOptions options = Options(FaultMode::kHang);
  options.socket_path = dir.File("s");
  options.fault.slow_bytes_per_second = 10;
  Server server(options);
  server.Start();

  RawConnection hanging(options.socket_path);
  REQUIRE(hanging.Send(GetRequest("/v1/snapshot")));
  REQUIRE(test_support::PollUntil([&] { return server.snapshot_requests() == 1; }, 10s));
  server.SetFault(FaultMode::kSlow);
  RawConnection trickling(options.socket_path);
  REQUIRE(trickling.Send(GetRequest("/v1/snapshot")));
  REQUIRE(trickling.ReadMore(Clock::now() + 10s));  // the first piece arrived
  RawConnection idle(options.socket_path);
  REQUIRE(idle.connected());

  const auto start = Clock::now();
  server.Stop();
  const auto took = Clock::now() - start;
  CHECK(took < 1s);
  MESSAGE("Stop took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                       << " ms");
  struct stat st {};
  CHECK(::lstat(options.socket_path.c_str(), &st) != 0);  // unlinked
  CHECK(hanging.WaitForClose(Clock::now() + 5s));
  CHECK(idle.WaitForClose(Clock::now() + 5s));
  server.Stop();  // idempotent
}

TEST_CASE("Server fault garbage answers 200 application/json with a body that is not JSON") {
  SimServer sim(Options(FaultMode::kGarbage));
  RawConnection connection(sim.path());
  const RawResponse response = Get(connection);
  CHECK(response.status == 200);
  CHECK(response.headers.at("content-type") == "application/json");
  CHECK_FALSE(JsonChecker().Parse(response.body).has_value());
  sim.server.SetFault(FaultMode::kNone);
  CHECK(Get(connection).status == 200);  // same connection, healthy again
}

TEST_CASE("Server fault truncate announces the full body, sends about half, and closes") {
  SimServer sim(Options(FaultMode::kTruncate));
  RawConnection connection(sim.path());
  REQUIRE(connection.Send(GetRequest("/v1/snapshot")));
  CHECK(connection.WaitForClose(Clock::now() + 10s));
  const std::string& received = connection.buffer();
  const std::size_t head_end = received.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  CHECK(received.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  const std::size_t length_at = received.find("Content-Length: ");
  REQUIRE(length_at != std::string::npos);
  const std::size_t length = std::stoull(received.substr(length_at + 16));
  const std::size_t body = received.size() - head_end - 4;
  CHECK(body == length / 2);
  CHECK(body > 0);
  sim.server.SetFault(FaultMode::kNone);
  RawConnection next(sim.path());
  CHECK(Get(next).status == 200);
}

TEST_CASE("Server fault http500 answers 500 with a short text/plain reason") {
  SimServer sim(Options(FaultMode::kHttp500));
  RawConnection connection(sim.path());
  const RawResponse response = Get(connection);
  CHECK(response.status == 500);
  CHECK(response.headers.at("content-type").rfind("text/plain", 0) == 0);
  CHECK_FALSE(response.body.empty());
  CHECK(response.body.size() < 200);
  sim.server.SetFault(FaultMode::kNone);
  CHECK(Get(connection).status == 200);
}

TEST_CASE("Server fault huge streams a plausible JSON body larger than huge_bytes") {
  ServerOptions options = Options(FaultMode::kHuge);
  options.fault.huge_bytes = 3 * 1024 * 1024;
  SimServer sim(options);
  RawConnection connection(sim.path());
  const RawResponse response = Get(connection);
  CHECK(response.status == 200);
  CHECK(response.body.size() > options.fault.huge_bytes);
  CHECK(response.body.size() == std::stoull(response.headers.at("content-length")));
  const JsonValue doc = ParseSnapshot(response.body);
  CHECK(doc.Has("padding"));
  CHECK(doc["connections"]["byIP"].keys.size() == 50);

  SUBCASE("a client that gives up midway does not stall the server") {
    sim.server.SetFault(FaultMode::kHuge);
    {
      RawConnection quitter(sim.path());
      REQUIRE(quitter.Send(GetRequest("/v1/snapshot")));
      REQUIRE(quitter.ReadMore(Clock::now() + 10s));
    }
    sim.server.SetFault(FaultMode::kNone);
    RawConnection next(sim.path());
    CHECK(Get(next).status == 200);
  }
}

TEST_CASE("Server fault slow trickles a valid response at the configured rate") {
  ServerOptions options = Options(FaultMode::kSlow);
  options.fault.slow_bytes_per_second = 8000;
  options.fault.slow_min_duration = 1000ms;
  SimServer sim(options);
  RawConnection connection(sim.path());
  const auto start = Clock::now();
  REQUIRE(connection.Send(GetRequest("/v1/snapshot?ips=5")));
  REQUIRE(connection.ReadMore(start + 10s));
  CHECK(Clock::now() - start < 500ms);  // the first piece comes at once
  const auto response = ReadResponse(connection, 10s);
  const auto took = Clock::now() - start;
  REQUIRE(response.has_value());
  CHECK(took >= 800ms);  // ~1 s of padding at 8000 B/s, minus one piece
  CHECK(response->status == 200);
  CHECK(response->body.size() >= 8000);
  CHECK(ParseSnapshot(response->body)["connections"]["byIP"].keys.size() == 5);
}

TEST_CASE("Server fault hang reads the request and never answers") {
  SimServer sim(Options(FaultMode::kHang));
  {
    RawConnection connection(sim.path());
    REQUIRE(connection.Send(GetRequest("/v1/snapshot")));
    REQUIRE(test_support::PollUntil([&] { return sim.server.snapshot_requests() == 1; }, 10s));
    CHECK_FALSE(connection.ReadMore(Clock::now() + 300ms));
    CHECK(connection.buffer().empty());
    CHECK_FALSE(connection.eof());
  }
  sim.server.SetFault(FaultMode::kNone);
  RawConnection next(sim.path());
  CHECK(Get(next).status == 200);
}

TEST_CASE("Server fault restart resets totals and instance every K snapshots") {
  ServerOptions options = Options(FaultMode::kRestart);
  options.fault.every = 3;
  SimServer sim(options);
  RawConnection connection(sim.path());
  std::vector<JsonValue> docs;
  for (int i = 0; i < 7; ++i) docs.push_back(ParseSnapshot(Get(connection).body));
  const auto instance = [&](int i) {
    return docs[static_cast<std::size_t>(i)]["proxy"]["instance"].text;
  };
  const auto total = [&](int i) {
    return docs[static_cast<std::size_t>(i)]["connections"]["total"].number;
  };
  CHECK(instance(0) == instance(1));
  CHECK(instance(2) != instance(1));  // the 3rd snapshot is the first after a restart
  CHECK(total(2) < total(1));
  CHECK(docs[2]["bytes"]["in"].number < docs[1]["bytes"]["in"].number);
  CHECK(docs[2]["proxy"]["startTime"].number > docs[1]["proxy"]["startTime"].number);
  CHECK(instance(3) == instance(2));
  CHECK(total(3) >= total(2));
  CHECK(instance(5) != instance(4));
  CHECK(instance(6) == instance(5));
}

TEST_CASE("Server fault hostile-names serves valid JSON with escaped names") {
  ServerOptions options = Options(FaultMode::kHostileNames);
  options.simulation.routes = 24;
  SimServer sim(options);
  RawConnection connection(sim.path());
  const RawResponse response = Get(connection);
  CHECK(response.status == 200);
  const JsonValue doc = ParseSnapshot(response.body);
  CHECK(response.body.find("\\ud800") != std::string::npos);
  CHECK(doc["connections"]["byRoute"].Has("say \"hello\""));
  CHECK(doc["connections"]["byIP"].Has("2001:db8::1\n"));
}

TEST_CASE("Server faults switch at run time and after N snapshots") {
  ServerOptions options = Options(FaultMode::kHttp500);
  options.fault.after = 2;
  SimServer sim(options);
  RawConnection connection(sim.path());
  CHECK(Get(connection).status == 200);
  CHECK(Get(connection).status == 200);
  CHECK(Get(connection).status == 500);
  CHECK(sim.server.fault() == FaultMode::kHttp500);
  sim.server.SetFault(FaultMode::kNone);
  CHECK(Get(connection).status == 200);
  sim.server.SetFault(FaultMode::kHttp500);
  CHECK(Get(connection).status == 500);
  CHECK(sim.server.snapshot_requests() == 5);
}

// Binds a socket at `path` and closes it without unlinking: what a crashed server leaves.
void LeaveStaleSocket(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  ::close(fd);
}

TEST_CASE("Server Start replaces a stale socket but refuses other files and live servers") {
  test_support::TempDir dir;
  ServerOptions options = Options();
  options.socket_path = dir.File("s");

  SUBCASE("a stale socket is replaced") {
    LeaveStaleSocket(options.socket_path);
    Server server(options);
    server.Start();
    RawConnection connection(options.socket_path);
    CHECK(Get(connection).status == 200);
  }
  SUBCASE("a regular file is left alone") {
    test_support::WriteFile(options.socket_path, "precious");
    Server server(options);
    try {
      server.Start();
      FAIL("Start succeeded on a regular file");
    } catch (const std::runtime_error& error) {
      CHECK(std::string(error.what()).find("not a socket") != std::string::npos);
      CHECK(std::string(error.what()).find(options.socket_path) != std::string::npos);
    }
    CHECK(test_support::ReadFile(options.socket_path) == "precious");
  }
  SUBCASE("a live server keeps its socket") {
    Server first(options);
    first.Start();
    Server second(options);
    CHECK_THROWS_WITH_AS(second.Start(), doctest::Contains("in use"), std::runtime_error);
    second.Stop();
    RawConnection connection(options.socket_path);
    CHECK(Get(connection).status == 200);
  }
  SUBCASE("a path too long for sockaddr_un") {
    options.socket_path = dir.path() + "/" + std::string(120, 'x');
    Server server(options);
    CHECK_THROWS_AS(server.Start(), std::runtime_error);
  }
}

}  // namespace
}  // namespace proxy_sim
