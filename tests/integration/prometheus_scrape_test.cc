// A real Prometheus server (Debian package `prometheus`) scrapes the exporter: the judge of
// our output is the real thing.
#include <doctest/doctest.h>

#include <signal.h>

#include <cctype>
#include <cstdio>
#include <regex>

#include "exposition.h"
#include "http_get.h"
#include "processes.h"
#include "test_pki.h"

using namespace std::chrono_literals;
using namespace test_support;

namespace {

// The first sample value of an instant-vector query, or nullopt when the result is empty.
std::optional<double> QueryValue(int prometheus_port, const std::string& promql) {
  std::string encoded;
  for (const unsigned char c : promql) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-') {
      encoded += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      encoded += hex;
    }
  }
  const auto response = HttpGet("http://127.0.0.1:" + std::to_string(prometheus_port) +
                                "/api/v1/query?query=" + encoded);
  if (response.status != 200) return std::nullopt;
  static const std::regex value(R"re("value":\[[0-9.e+]+,"([^"]+)"\])re");
  std::smatch match;
  if (!std::regex_search(response.body, match, value)) return std::nullopt;
  return std::stod(match[1].str());
}

}  // namespace

TEST_CASE("A real Prometheus scrapes the exporter: up is 1 and the connection rate positive") {
  const auto which = RunCommand("command -v prometheus");
  REQUIRE_MESSAGE(which.exit_code == 0,
                  "prometheus not found: scripts/setup.sh installs Debian's `prometheus` package");
  TempDir dir;
  ProxySimProcess sim(dir, {"--wall-clock", "--ips", "200", "--routes", "4"});
  ExporterProcess exporter(dir, {"--proxy.socket", sim.socket()});
  const int port = FreeLoopbackPort();
  WriteFile(dir.File("prometheus.yml"),
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
            "scrape_configs:\n  - job_name: smartproxy\n    static_configs:\n"
            "      - targets: ['127.0.0.1:" + std::to_string(exporter.port()) + "']\n");
  ChildProcess prometheus({"/usr/bin/prometheus", "--config.file=" + dir.File("prometheus.yml"),
                           "--storage.tsdb.path=" + dir.File("data"),
                           "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                          dir.path());

  const bool up = PollUntil(
      [&] {
        const auto value = QueryValue(port, "smartproxy_up");
        return value && *value == 1;
      },
      60s);
  CHECK_MESSAGE(up, "Prometheus log:\n" << prometheus.Stderr());
  const bool target_healthy = PollUntil(
      [&] {
        const auto value = QueryValue(port, "up{job=\"smartproxy\"}");
        return value && *value == 1;
      },
      30s);
  CHECK(target_healthy);
  const bool rate_positive = PollUntil(
      [&] {
        const auto value = QueryValue(port, "rate(smartproxy_connections_total[5s])");
        return value && *value > 0;
      },
      60s);
  CHECK_MESSAGE(rate_positive, "Prometheus log:\n" << prometheus.Stderr());
  // Prometheus ingested the per-IP series (a scrape it rejects would have made up 0).
  const auto ips = QueryValue(port, "count(smartproxy_ip_connections_active)");
  REQUIRE(ips.has_value());
  CHECK(*ips == 21);
  prometheus.Stop(SIGTERM, 10s);
}

TEST_CASE("A real Prometheus scrapes over TLS with a client certificate and basic auth") {
  TempDir dir;
  const TestPki pki(dir);
  ProxySimProcess sim(dir, {"--wall-clock", "--ips", "20", "--routes", "2"});
  WriteFile(dir.File("web.yml"),
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
            "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n"
            "basic_auth_users:\n  prometheus: " + BcryptHash("s3cret", 10) + "\n");
  ExporterProcess exporter(dir, {"--proxy.socket", sim.socket(),
                                 "--web.config.file", dir.File("web.yml")});
  const int port = FreeLoopbackPort();
  WriteFile(dir.File("prometheus.yml"),
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
            "scrape_configs:\n  - job_name: smartproxy\n    scheme: https\n"
            "    tls_config:\n      ca_file: " + pki.ca_cert + "\n      cert_file: " +
                pki.client_cert + "\n      key_file: " + pki.client_key + "\n"
            "    basic_auth:\n      username: prometheus\n      password: s3cret\n"
            "    static_configs:\n"
            "      - targets: ['localhost:" + std::to_string(exporter.port()) + "']\n"
            // A second job with the wrong password: Prometheus must see it down.
            "  - job_name: wrong_password\n    scheme: https\n"
            "    tls_config:\n      ca_file: " + pki.ca_cert + "\n      cert_file: " +
                pki.client_cert + "\n      key_file: " + pki.client_key + "\n"
            "    basic_auth:\n      username: prometheus\n      password: guess\n"
            "    static_configs:\n"
            "      - targets: ['localhost:" + std::to_string(exporter.port()) + "']\n");
  ChildProcess prometheus({"/usr/bin/prometheus", "--config.file=" + dir.File("prometheus.yml"),
                           "--storage.tsdb.path=" + dir.File("data"),
                           "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                          dir.path());
  const bool up = PollUntil(
      [&] {
        const auto value = QueryValue(port, "up{job=\"smartproxy\"}");
        return value && *value == 1;
      },
      60s);
  CHECK_MESSAGE(up, "Prometheus log:\n" << prometheus.Stderr());
  const bool proxy_up = PollUntil(
      [&] {
        const auto value = QueryValue(port, "smartproxy_up{job=\"smartproxy\"}");
        return value && *value == 1;
      },
      30s);
  CHECK(proxy_up);
  const bool refused_seen = PollUntil(
      [&] {
        const auto value = QueryValue(port, "up{job=\"wrong_password\"}");
        return value && *value == 0;
      },
      30s);
  CHECK(refused_seen);
  CHECK_FALSE(QueryValue(port, "smartproxy_up{job=\"wrong_password\"}").has_value());
  prometheus.Stop(SIGTERM, 10s);
}
