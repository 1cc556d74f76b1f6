// The exporter and proxy-sim as real processes, talking over a real socket and real HTTP.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <thread>

#include "exposition.h"
#include "http_get.h"
#include "processes.h"
#include "proxy_sim/simulation.h"

using namespace std::chrono_literals;
using namespace test_support;

namespace {

std::map<std::string, double> Scrape(const ExporterProcess& exporter) {
  const auto response = HttpGet(exporter.Url());
  REQUIRE_MESSAGE(response.status == 200, "scrape failed: " << response.error);
  return ParseExposition(response.body);
}

std::size_t Occurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

int OpenIdleConnection(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  return fd;
}

}  // namespace

TEST_CASE("Exporter serves the simulated proxy's numbers exactly") {
  TempDir dir;
  ProxySimProcess sim(dir, {"--routes", "5", "--ips", "40", "--seed", "3"});
  ExporterProcess exporter(dir, {"--proxy.socket", sim.socket()});
  const auto samples = Scrape(exporter);

  CHECK(SampleValue(samples, "smartproxy_up") == 1);
  // proxy-sim is deterministic: replay its simulation until the state it served is found.
  proxy_sim::SimulationOptions options;
  options.routes = 5;
  options.ips = 40;
  options.seed = 3;
  proxy_sim::Simulation replay(options);
  const double total = SampleValue(samples, "smartproxy_connections_total");
  for (int i = 0; i < 50 && static_cast<double>(replay.state().connections_total) != total; ++i) {
    replay.Advance();
  }
  const auto& state = replay.state();
  REQUIRE(static_cast<double>(state.connections_total) == total);
  CHECK(SampleValue(samples, "smartproxy_connections_active") ==
        static_cast<double>(state.connections_active));
  CHECK(SampleValue(samples, "smartproxy_requests_total") ==
        static_cast<double>(state.requests_total));
  CHECK(SampleValue(samples, "smartproxy_received_bytes_total") ==
        static_cast<double>(state.bytes_in));
  CHECK(SampleValue(samples, "smartproxy_sent_bytes_total") ==
        static_cast<double>(state.bytes_out));
  CHECK(SampleValue(samples,
                    "smartproxy_throughput_bytes_per_second{direction=\"in\",window=\"1s\"}") ==
        state.instant.in);
  for (std::size_t route = 0; route < state.route_active.size(); ++route) {
    CHECK(SampleValue(samples, "smartproxy_route_connections_active{route=\"" +
                                   replay.route_names(false)[route] + "\"}") ==
          static_cast<double>(state.route_active[route]));
  }
  CHECK(SampleValue(samples, "smartproxy_client_ips") == 40);
  // Top 20 plus "other" add up to every IP's connections.
  CHECK(CountOf(samples, "smartproxy_ip_connections_active") == 21);
  CHECK(SumOf(samples, "smartproxy_ip_connections_active") ==
        static_cast<double>(state.connections_active));
  CHECK(SampleValue(samples, "smartproxy_exporter_aggregated_series{kind=\"ip\"}") == 20);
  CHECK(SampleValue(samples, "smartproxy_exporter_snapshot_size_bytes") > 0);

  const auto lint = PromtoolCheckMetrics(HttpGet(exporter.Url()).body);
  CHECK_MESSAGE(lint.exit_code == 0, lint.output);
  CHECK_MESSAGE(lint.output.empty(), lint.output);
}

TEST_CASE("Exporter answers up=0 with the reason for every fault, then recovers") {
  struct Case {
    const char* fault;
    const char* reason;
  };
  const Case cases[] = {{"slow", "timeout"},   {"hang", "timeout"},        {"garbage", "parse"},
                        {"truncate", "parse"}, {"http500", "http_status"}, {"huge", "too_large"}};
  for (const Case& c : cases) {
    CAPTURE(c.fault);
    TempDir dir;
    ProxySimProcess sim(dir, {std::string("--fault=") + c.fault, "--huge-bytes", "3000000"});
    WriteFile(dir.File("config.yml"), "proxy:\n  max_body_size: 1MiB\n");
    ExporterProcess exporter(dir, {"--proxy.socket", sim.socket(), "--proxy.timeout", "700ms",
                                   "--config.file", dir.File("config.yml")});
    const auto started = std::chrono::steady_clock::now();
    auto samples = Scrape(exporter);
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    CHECK(SampleValue(samples, "smartproxy_up") == 0);
    CHECK(SampleValue(samples, std::string("smartproxy_exporter_snapshot_errors_total{reason=\"") +
                                   c.reason + "\"}") == 1);
    CHECK(CountOf(samples, "smartproxy_connections_active") == 0);
    // SIGUSR1 switches proxy-sim's fault off.
    sim.process().Signal(SIGUSR1);
    const bool recovered =
        PollUntil([&] { return SampleValue(Scrape(exporter), "smartproxy_up") == 1; }, 10s);
    CHECK(recovered);
    const std::string log = exporter.process().Stderr();
    CHECK(Occurrences(log, "msg=\"proxy snapshot unavailable\"") == 1);
    CHECK(log.find(std::string("reason=") + c.reason) != std::string::npos);
    CHECK(Occurrences(log, "msg=\"proxy snapshot available\"") == 1);
  }
}

TEST_CASE("Exporter starts before the proxy and picks it up when it appears") {
  TempDir dir;
  ExporterProcess exporter(dir, {"--proxy.socket", dir.File("proxy.sock")});
  for (int i = 0; i < 3; ++i) {
    auto samples = Scrape(exporter);
    CHECK(SampleValue(samples, "smartproxy_up") == 0);
  }
  CHECK(SampleValue(Scrape(exporter),
                    "smartproxy_exporter_snapshot_errors_total{reason=\"connect\"}") == 4);
  CHECK(HttpGet(exporter.Url("/-/ready")).status == 200);
  CHECK(HttpGet(exporter.Url("/-/healthy")).status == 200);
  ProxySimProcess sim(dir, {"--ips", "5"});
  CHECK(SampleValue(Scrape(exporter), "smartproxy_up") == 1);
  const std::string log = exporter.process().Stderr();
  CHECK(Occurrences(log, "msg=\"proxy snapshot unavailable\"") == 1);
  CHECK(log.find("does not exist") != std::string::npos);
}

TEST_CASE("Exporter serves hostile names as valid, unique series") {
  TempDir dir;
  ProxySimProcess sim(dir, {"--fault=hostile-names", "--routes", "30", "--ips", "60"});
  ExporterProcess exporter(dir, {"--proxy.socket", sim.socket()});
  const auto response = HttpGet(exporter.Url());
  REQUIRE(response.status == 200);
  const auto samples = ParseExposition(response.body);  // fails on a duplicate series
  CHECK(SampleValue(samples, "smartproxy_up") == 1);
  CHECK(SumOf(samples, "smartproxy_route_connections_active") ==
        SampleValue(samples, "smartproxy_connections_active"));
  CHECK(SumOf(samples, "smartproxy_ip_connections_active") ==
        SampleValue(samples, "smartproxy_connections_active"));
  const auto lint = PromtoolCheckMetrics(response.body);
  CHECK_MESSAGE(lint.exit_code == 0, lint.output);
}

TEST_CASE("Exporter's HTTP endpoints: methods, paths, gzip, landing page") {
  TempDir dir;
  ProxySimProcess sim(dir, {"--ips", "10"});
  ExporterProcess exporter(dir, {"--proxy.socket", sim.socket()});

  SUBCASE("gzip when accepted, identical content") {
    HttpRequest request;
    request.url = exporter.Url();
    request.decode_gzip = true;
    const auto compressed = HttpFetch(request);
    REQUIRE(compressed.status == 200);
    CHECK(compressed.headers.at("content-encoding") == "gzip");
    CHECK(compressed.headers.at("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    const auto samples = ParseExposition(compressed.body);
    CHECK(SampleValue(samples, "smartproxy_up") == 1);
    const auto plain = HttpGet(exporter.Url());
    CHECK(plain.headers.count("content-encoding") == 0);
  }
  SUBCASE("HEAD where GET is served, 405 for other methods, 404 for unknown paths") {
    for (const char* path : {"/metrics", "/", "/-/healthy", "/-/ready"}) {
      CAPTURE(path);
      HttpRequest head;
      head.url = exporter.Url(path);
      head.method = "HEAD";
      CHECK(HttpFetch(head).status == 200);
      for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
        HttpRequest other;
        other.url = exporter.Url(path);
        other.method = method;
        const auto response = HttpFetch(other);
        CHECK(response.status == 405);
        CHECK(response.headers.at("allow") == "GET, HEAD");
      }
    }
    CHECK(HttpGet(exporter.Url("/nope")).status == 404);
    CHECK(HttpGet(exporter.Url("/metricsx")).status == 404);
  }
  SUBCASE("the landing page names the socket, the status and links to the metrics") {
    HttpGet(exporter.Url());
    const auto page = HttpGet(exporter.Url("/"));
    REQUIRE(page.status == 200);
    CHECK(page.body.find(sim.socket()) != std::string::npos);
    CHECK(page.body.find("<a href=\"/metrics\">") != std::string::npos);
    CHECK(page.body.find("up: last snapshot fetched") != std::string::npos);
  }
  SUBCASE("a short Prometheus scrape timeout shortens the fetch deadline") {
    TempDir slow_dir;
    ProxySimProcess slow(slow_dir, {"--fault=hang"});
    ExporterProcess slow_exporter(slow_dir,
                                  {"--proxy.socket", slow.socket(), "--proxy.timeout", "10s"});
    HttpRequest request;
    request.url = slow_exporter.Url();
    request.headers = {"X-Prometheus-Scrape-Timeout-Seconds: 0.6"};
    const auto started = std::chrono::steady_clock::now();
    const auto response = HttpFetch(request);
    CHECK(std::chrono::steady_clock::now() - started < 3s);
    REQUIRE(response.status == 200);
    CHECK(SampleValue(ParseExposition(response.body), "smartproxy_up") == 0);
  }
}

TEST_CASE("Idle connections beyond the worker count do not stop a scrape" *
          doctest::test_suite("concurrency")) {
  TempDir dir;
  ProxySimProcess sim(dir, {"--ips", "10"});
  // 28 workers (max_connections); 40 idle connections hold every one of them.
  WriteFile(dir.File("config.yml"),
            "web:\n  max_requests: 4\n  max_connections: 28\n  request_timeout: 2s\n");
  ExporterProcess exporter(
      dir, {"--proxy.socket", sim.socket(), "--config.file", dir.File("config.yml")});
  std::vector<int> idle;
  for (int i = 0; i < 40; ++i) idle.push_back(OpenIdleConnection(exporter.port()));
  const auto started = std::chrono::steady_clock::now();
  HttpRequest request;
  request.url = exporter.Url();
  request.timeout = 10s;  // Prometheus' default scrape timeout
  const auto response = HttpFetch(request);
  const auto took = std::chrono::steady_clock::now() - started;
  for (const int fd : idle) close(fd);
  CHECK_MESSAGE(response.status == 200, response.error);
  MESSAGE("scrape behind 40 idle connections took "
          << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  CHECK(exporter.process().Running());
}

TEST_CASE("Exporter rejects bad configuration with file, line and key, status 2") {
  TempDir dir;
  struct Case {
    const char* yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"proxy:\n  timeout: 0s\n", "config.yml:2: proxy.timeout"},
      {"metrics:\n  ips:\n    ipv4_prefix: 33\n", "config.yml:3: metrics.ips.ipv4_prefix"},
      {"proxy:\n  socket: /a\n  socket: /b\n", "config.yml:3: proxy.socket"},
      {"bogus: 1\n", "config.yml:1: bogus"},
      {"metrics:\n  ips:\n    top: [1]\n", "config.yml:3: metrics.ips.top"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.yaml);
    WriteFile(dir.File("config.yml"), c.yaml);
    ChildProcess process({BuiltProgram("exporter/smartproxy_exporter"), "--config.file",
                          dir.File("config.yml"), "--web.listen-address=127.0.0.1:0"},
                         dir.path());
    CHECK(process.Wait(10s) == 2);
    CHECK_MESSAGE(process.Stderr().find(c.expected) != std::string::npos, process.Stderr());
    ChildProcess check({BuiltProgram("exporter/smartproxy_exporter"), "--check-config",
                        "--config.file", dir.File("config.yml")},
                       dir.path());
    CHECK(check.Wait(10s) == 2);
  }
  SUBCASE("--check-config accepts a valid file") {
    WriteFile(dir.File("good.yml"), "proxy:\n  timeout: 1s\n");
    ChildProcess check({BuiltProgram("exporter/smartproxy_exporter"), "--check-config",
                        "--config.file", dir.File("good.yml")},
                       dir.path());
    CHECK(check.Wait(10s) == 0);
  }
  SUBCASE("an unknown flag") {
    ChildProcess process({BuiltProgram("exporter/smartproxy_exporter"), "--no.such-flag"},
                         dir.path());
    CHECK(process.Wait(10s) == 2);
    CHECK(process.Stderr().find("--no.such-flag") != std::string::npos);
  }
}

TEST_CASE("A port already in use exits 1 with a clear message") {
  TempDir dir;
  ExporterProcess first(dir, {"--proxy.socket", dir.File("p.sock")});
  ChildProcess second({BuiltProgram("exporter/smartproxy_exporter"),
                       "--web.listen-address=127.0.0.1:" + std::to_string(first.port()),
                       "--proxy.socket", dir.File("p.sock")},
                      dir.path());
  CHECK(second.Wait(10s) == 1);
  const std::string log = second.Stderr();
  CHECK_MESSAGE(
      log.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())) != std::string::npos,
      log);
}

TEST_CASE("--web.listen-address given twice serves both, the same one twice exits 2") {
  TempDir dir;
  SUBCASE("127.0.0.1:0 (from ExporterProcess) and [::1]:0") {
    ExporterProcess exporter(
        dir, {"--proxy.socket", dir.File("none.sock"), "--web.listen-address=[::1]:0"});
    std::smatch match;
    const std::string log = exporter.process().Stderr();
    REQUIRE_MESSAGE(std::regex_search(log, match, std::regex(R"(port=(\d+),(\d+))")), log);
    CHECK(log.find("127.0.0.1:0,[::1]:0") != std::string::npos);
    const int v4 = std::stoi(match[1].str());
    const int v6 = std::stoi(match[2].str());
    CHECK(v4 == exporter.port());
    for (const std::string& url : {"http://127.0.0.1:" + std::to_string(v4) + "/metrics",
                                   "http://[::1]:" + std::to_string(v6) + "/metrics"}) {
      CAPTURE(url);
      const HttpResponse response = HttpGet(url);
      CHECK_MESSAGE(response.status == 200, response.error);
      CHECK(response.body.find("smartproxy_up 0") != std::string::npos);
    }
  }
  SUBCASE("the same address twice") {
    // The port is one a running exporter bound on port 0 and still holds: refused while the
    // flags are parsed (2), never bound; were it not refused, binding would fail (1), not collide.
    ExporterProcess holder(dir, {"--proxy.socket", dir.File("p.sock")});
    const std::string port = std::to_string(holder.port());
    ChildProcess process(
        {BuiltProgram("exporter/smartproxy_exporter"), "--web.listen-address=127.0.0.1:" + port,
         "--web.listen-address", "localhost:" + port},
        dir.path());
    CHECK(process.Wait(10s) == 2);
    CHECK_MESSAGE(process.Stderr().find("--web.listen-address: address \"localhost:" + port +
                                        "\" given more than once") != std::string::npos,
                  process.Stderr());
  }
}

TEST_CASE("--web.disable-exporter-metrics drops process_* and smartproxy_exporter_*, keeps up") {
  TempDir dir;
  ExporterProcess exporter(
      dir, {"--proxy.socket", dir.File("none.sock"), "--web.disable-exporter-metrics"});
  const auto samples = Scrape(exporter);
  CHECK(SampleValue(samples, "smartproxy_up") == 0);
  std::size_t build_info = 0;
  for (const auto& sample : samples) {
    const std::string& series = sample.first;
    CAPTURE(series);
    CHECK_FALSE(series.starts_with("process_"));
    if (series.starts_with("smartproxy_exporter_build_info{")) {
      ++build_info;
    } else {
      CHECK_FALSE(series.starts_with("smartproxy_exporter_"));
    }
  }
  CHECK(build_info == 1);
  SUBCASE("without the flag they are there") {
    ExporterProcess plain(dir, {"--proxy.socket", dir.File("none.sock")});
    const auto all = Scrape(plain);
    CHECK(all.count("smartproxy_exporter_scrapes_total") == 1);
    CHECK(all.count("process_open_fds") == 1);
  }
}

TEST_CASE("SIGHUP reloads the config, and an invalid one is logged and the old kept" *
          doctest::test_suite("concurrency")) {
  TempDir dir;
  ProxySimProcess sim(dir, {"--ips", "30"});
  WriteFile(dir.File("config.yml"), "metrics:\n  ips:\n    top: 5\n");
  ExporterProcess exporter(
      dir, {"--proxy.socket", sim.socket(), "--config.file", dir.File("config.yml")});
  CHECK(CountOf(Scrape(exporter), "smartproxy_ip_connections_active") == 6);

  WriteFile(dir.File("config.yml"), "metrics:\n  ips:\n    top: 2\n  namespace: sp\n");
  exporter.process().Signal(SIGHUP);
  CHECK(PollUntil([&] { return Scrape(exporter).count("sp_up") == 1; }, 10s));
  CHECK(CountOf(Scrape(exporter), "sp_ip_connections_active") == 3);

  WriteFile(dir.File("config.yml"), "metrics:\n  ips:\n    top: -1\n");
  exporter.process().Signal(SIGHUP);
  CHECK(PollUntil(
      [&] { return exporter.process().Stderr().find("reload failed") != std::string::npos; }, 10s));
  CHECK(CountOf(Scrape(exporter), "sp_ip_connections_active") == 3);
  CHECK(exporter.process().Running());
}

TEST_CASE("SIGTERM during a scrape finishes it and exits 0 within 5 s" *
          doctest::test_suite("concurrency")) {
  TempDir dir;
  ProxySimProcess sim(dir, {"--fault=hang"});
  ExporterProcess exporter(dir, {"--proxy.socket", sim.socket(), "--proxy.timeout", "1500ms"});
  const auto open_fds = [&] {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(
             "/proc/" + std::to_string(sim.process().pid()) + "/fd")) {
      ++count;
    }
    return count;
  };
  const std::size_t fds_before = open_fds();
  HttpResponse in_flight;
  std::thread scraper([&] { in_flight = HttpGet(exporter.Url()); });
  // The scrape is in flight once the hanging proxy has accepted the exporter's connection.
  CHECK(PollUntil([&] { return open_fds() > fds_before; }, 5s));
  const auto started = std::chrono::steady_clock::now();
  const auto status = exporter.process().Stop(SIGTERM, 6s);
  const auto took = std::chrono::steady_clock::now() - started;
  scraper.join();
  CHECK(status == 0);
  CHECK(took < 5s);
  CHECK(in_flight.status == 200);
  CHECK(in_flight.body.find("smartproxy_up 0") != std::string::npos);
}
