// A real Prometheus server (Debian package `prometheus`) scrapes the exporter: the judge of
// our output is the real thing.
#include <doctest/doctest.h>
#include <signal.h>

#include "exposition.h"
#include "http_get.h"
#include "processes.h"
#include "prometheus_api.h"
#include "test_pki.h"

using namespace std::chrono_literals;
using namespace test_support;

TEST_CASE("A real Prometheus scrapes the exporter: up is 1 and the connection rate positive") {
  TempDir dir;
  ProxySimProcess sim(dir, {"--wall-clock", "--ips", "200", "--routes", "4"});
  ExporterProcess exporter(dir, {"--proxy.socket", sim.socket()});
  PrometheusProcess prometheus(dir,
                               "  - job_name: smartproxy\n    static_configs:\n"
                               "      - targets: ['127.0.0.1:" +
                                   std::to_string(exporter.port()) + "']\n");
  const int port = prometheus.port();

  CHECK_MESSAGE(QueryUntil(
                    port, "smartproxy_up", [](double v) { return v == 1; }, 60s),
                "Prometheus log:\n"
                    << prometheus.Log());
  CHECK(QueryUntil(
      port, "up{job=\"smartproxy\"}", [](double v) { return v == 1; }, 30s));
  CHECK_MESSAGE(QueryUntil(
                    port, "rate(smartproxy_connections_total[5s])", [](double v) { return v > 0; },
                    60s),
                "Prometheus log:\n"
                    << prometheus.Log());
  // Prometheus ingested the per-IP series (a scrape it rejects would have made up 0).
  const auto ips = QueryValue(port, "count(smartproxy_ip_connections_active)");
  REQUIRE(ips.has_value());
  CHECK(*ips == 21);
}

TEST_CASE("A real Prometheus scrapes over TLS with a client certificate and basic auth") {
  TempDir dir;
  const TestPki pki(dir);
  ProxySimProcess sim(dir, {"--wall-clock", "--ips", "20", "--routes", "2"});
  WriteFile(dir.File("web.yml"),
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
            "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n"
            "basic_auth_users:\n  prometheus: " +
                BcryptHash("s3cret", 10) + "\n");
  ExporterProcess exporter(
      dir, {"--proxy.socket", sim.socket(), "--web.config.file", dir.File("web.yml")});
  const auto job = [&](const std::string& name, const std::string& password) {
    return "  - job_name: " + name +
           "\n    scheme: https\n"
           "    tls_config:\n      ca_file: " +
           pki.ca_cert + "\n      cert_file: " + pki.client_cert +
           "\n      key_file: " + pki.client_key +
           "\n"
           "    basic_auth:\n      username: prometheus\n      password: " +
           password +
           "\n"
           "    static_configs:\n"
           "      - targets: ['localhost:" +
           std::to_string(exporter.port()) + "']\n";
  };
  // A second job with the wrong password: Prometheus must see it down.
  PrometheusProcess prometheus(dir, job("smartproxy", "s3cret") + job("wrong_password", "guess"));
  const int port = prometheus.port();

  CHECK_MESSAGE(QueryUntil(
                    port, "up{job=\"smartproxy\"}", [](double v) { return v == 1; }, 60s),
                "Prometheus log:\n"
                    << prometheus.Log());
  CHECK(QueryUntil(
      port, "smartproxy_up{job=\"smartproxy\"}", [](double v) { return v == 1; }, 30s));
  CHECK(QueryUntil(
      port, "up{job=\"wrong_password\"}", [](double v) { return v == 0; }, 30s));
  CHECK_FALSE(QueryValue(port, "smartproxy_up{job=\"wrong_password\"}").has_value());
}
