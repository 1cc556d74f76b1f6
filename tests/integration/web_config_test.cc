// --web.config.file through the real binary: TLS (with and without client certificates), basic
// auth, response headers, health endpoints, reloads, and hostile TLS clients.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "exposition.h"
#include "http_get.h"
#include "processes.h"
#include "test_pki.h"

using namespace std::chrono_literals;
using namespace test_support;

namespace {

std::string HttpsUrl(const ExporterProcess& exporter, const std::string& path = "/metrics") {
  // The server certificate names localhost and 127.0.0.1; libcurl checks the name.
  return "https://127.0.0.1:" + std::to_string(exporter.port()) + path;
}

HttpRequest Https(const ExporterProcess& exporter, const TestPki& pki,
                  const std::string& path = "/metrics") {
  HttpRequest request;
  request.url = HttpsUrl(exporter, path);
  request.ca_file = pki.ca_cert;
  return request;
}

HttpRequest WithUser(HttpRequest request, std::string user, std::string password) {
  request.user = std::move(user);
  request.password = std::move(password);
  return request;
}

HttpRequest WithClientCert(HttpRequest request, const std::string& cert, const std::string& key) {
  request.client_cert = cert;
  request.client_key = key;
  return request;
}

// Sends raw bytes to the port and returns what came back before the server closed (or 2 s).
std::string RawExchange(int port, const std::string& bytes) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  timeval timeout{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string received;
  char buffer[4096];
  while (true) {
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    received.append(buffer, static_cast<std::size_t>(n));
  }
  close(fd);
  return received;
}

void ExpectServesMetrics(const ExporterProcess& exporter, const TestPki& pki,
                         const std::string& user, const std::string& password) {
  auto response = HttpFetch(WithUser(Https(exporter, pki), user, password));
  REQUIRE_MESSAGE(response.status == 200, response.error);
  CHECK(response.body.find("smartproxy_up 1") != std::string::npos);
}

}  // namespace

TEST_CASE("TLS with basic auth: the right credentials scrape, every other attempt is refused" *
          doctest::test_suite("concurrency")) {
  TempDir dir;
  const TestPki pki(dir);
  ProxySimProcess sim(dir, {"--ips", "5"});
  WriteFile(dir.File("web.yml"),
            "tls_server_config:\n"
            "  cert_file: server.crt\n"  // relative to web.yml
            "  key_file: server.key\n"
            "http_server_config:\n"
            "  headers:\n"
            "    X-Frame-Options: deny\n"
            "    Strict-Transport-Security: max-age=31536000\n"
            "basic_auth_users:\n"
            "  prometheus: " +
                BcryptHash("scrape-secret") + "\n");
  ExporterProcess exporter(
      dir, {"--proxy.socket", sim.socket(), "--web.config.file", dir.File("web.yml")});
  CHECK(exporter.process().Stderr().find("tls=on basic_auth=on") != std::string::npos);

  SUBCASE("right user and password: 200, metrics, the configured headers") {
    auto response = HttpFetch(WithUser(Https(exporter, pki), "prometheus", "scrape-secret"));
    REQUIRE_MESSAGE(response.status == 200, response.error);
    CHECK(response.body.find("smartproxy_up 1") != std::string::npos);
    CHECK(response.headers["x-frame-options"] == "deny");
    CHECK(response.headers["strict-transport-security"] == "max-age=31536000");
    // Again, now answered from the verification cache: still the same answer.
    ExpectServesMetrics(exporter, pki, "prometheus", "scrape-secret");
  }
  SUBCASE("no credentials: 401 with a Basic challenge, and the headers") {
    auto response = HttpFetch(Https(exporter, pki));
    CHECK(response.status == 401);
    CHECK(response.headers["www-authenticate"].starts_with("Basic realm="));
    CHECK(response.headers["x-frame-options"] == "deny");
    CHECK(response.body.find("smartproxy") == std::string::npos);
  }
  SUBCASE("wrong password, after the right one was cached: 401") {
    ExpectServesMetrics(exporter, pki, "prometheus", "scrape-secret");
    CHECK(HttpFetch(WithUser(Https(exporter, pki), "prometheus", "scrape-secreT")).status == 401);
    CHECK(HttpFetch(WithUser(Https(exporter, pki), "prometheus", "")).status == 401);
    CHECK(HttpFetch(WithUser(Https(exporter, pki), "nobody", "scrape-secret")).status == 401);
  }
  SUBCASE("every path needs credentials by default, health endpoints included") {
    for (const std::string path : {"/", "/-/healthy", "/-/ready", "/nope"}) {
      CAPTURE(path);
      CHECK(HttpFetch(Https(exporter, pki, path)).status == 401);
    }
    CHECK(HttpFetch(WithUser(Https(exporter, pki, "/-/healthy"), "prometheus", "scrape-secret"))
              .status == 200);
  }
  SUBCASE("a client that does not trust the certificate gets no answer") {
    HttpRequest request = WithUser(Https(exporter, pki), "prometheus", "scrape-secret");
    request.ca_file = pki.other_ca_cert;
    auto response = HttpFetch(request);
    CHECK(response.status == 0);
    ExpectServesMetrics(exporter, pki, "prometheus", "scrape-secret");
  }
  SUBCASE("plain HTTP, garbage and aborted handshakes on the TLS port never take it down") {
    HttpRequest plain;
    plain.url = "http://127.0.0.1:" + std::to_string(exporter.port()) + "/metrics";
    CHECK(HttpFetch(plain).status == 0);
    // Not a TLS record at all; then a TLS record header that promises more than it sends;
    // then a ClientHello cut short.
    RawExchange(exporter.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    RawExchange(exporter.port(), std::string("\x16\x03\x01\xff\xff\x01\x00", 7));
    RawExchange(exporter.port(), std::string("\x16\x03\x01\x00\x30\x01\x00\x00\x2c\x03\x03", 11));
    RawExchange(exporter.port(), std::string(4096, '\x16'));
    // TLS 1.1 at most: below the default min_version TLS12, the handshake fails.
    CHECK(RunCommand("curl -s -o /dev/null --tls-max 1.1 --cacert " + pki.ca_cert + " " +
                     HttpsUrl(exporter))
              .exit_code != 0);
    REQUIRE(exporter.process().Running());
    ExpectServesMetrics(exporter, pki, "prometheus", "scrape-secret");
  }
  CHECK(exporter.process().Stop(SIGTERM, 5s) == 0);
}

TEST_CASE(
    "Health endpoints answer without credentials only with --web.health-endpoints-without-auth") {
  TempDir dir;
  const TestPki pki(dir);
  WriteFile(dir.File("web.yml"), "basic_auth_users:\n  prometheus: " + BcryptHash("pw") + "\n");
  ExporterProcess exporter(dir, {"--proxy.socket", dir.File("none.sock"), "--web.config.file",
                                 dir.File("web.yml"), "--web.health-endpoints-without-auth"});
  CHECK(HttpGet(exporter.Url("/-/healthy")).status == 200);
  CHECK(HttpGet(exporter.Url("/-/ready")).status == 200);
  CHECK(HttpGet(exporter.Url("/metrics")).status == 401);
  CHECK(HttpGet(exporter.Url("/")).status == 401);
  HttpRequest request;
  request.url = exporter.Url("/metrics");
  request.user = "prometheus";
  request.password = "pw";
  CHECK(HttpFetch(request).status == 200);
}

TEST_CASE("The web config's rate_limit answers 429 beyond its burst, and a reload lifts it") {
  TempDir dir;
  // One token an hour: after the burst nothing refills while the test runs.
  WriteFile(dir.File("web.yml"), "rate_limit:\n  interval: 1h\n  burst: 2\n");
  ExporterProcess exporter(
      dir, {"--proxy.socket", dir.File("none.sock"), "--web.config.file", dir.File("web.yml")});
  CHECK(HttpGet(exporter.Url("/metrics")).status == 200);
  CHECK(HttpGet(exporter.Url("/-/healthy")).status == 200);  // every request takes a token
  const HttpResponse refused = HttpGet(exporter.Url("/metrics"));
  CHECK(refused.status == 429);
  CHECK(refused.body == "Too Many Requests\n");
  CHECK(HttpGet(exporter.Url("/")).status == 429);

  WriteFile(dir.File("web.yml"), "rate_limit:\n  interval: 0s\n  burst: 0\n");
  exporter.process().Signal(SIGHUP);
  REQUIRE(PollUntil(
      [&] {
        return exporter.process().Stderr().find("configuration reloaded") != std::string::npos;
      },
      10s));
  for (int i = 0; i < 5; ++i) CHECK(HttpGet(exporter.Url("/metrics")).status == 200);
}

TEST_CASE("RequireAndVerifyClientCert: only a certificate from the configured CA gets in" *
          doctest::test_suite("concurrency")) {
  TempDir dir;
  const TestPki pki(dir);
  ProxySimProcess sim(dir, {"--ips", "5"});
  const auto web_config = [&](const std::string& client_ca) {
    return "tls_server_config:\n  cert_file: " + pki.server_cert +
           "\n  key_file: " + pki.server_key +
           "\n  client_auth_type: RequireAndVerifyClientCert\n" + "  client_ca_file: " + client_ca +
           "\n  min_version: TLS13\n";
  };
  WriteFile(dir.File("web.yml"), web_config(pki.ca_cert));
  ExporterProcess exporter(
      dir, {"--proxy.socket", sim.socket(), "--web.config.file", dir.File("web.yml")});
  const auto fetch_with = [&](const std::string& cert, const std::string& key) {
    return HttpFetch(WithClientCert(Https(exporter, pki), cert, key));
  };

  const auto trusted = fetch_with(pki.client_cert, pki.client_key);
  REQUIRE_MESSAGE(trusted.status == 200, trusted.error);
  CHECK(trusted.body.find("smartproxy_up 1") != std::string::npos);
  CHECK(HttpFetch(Https(exporter, pki)).status == 0);                          // no certificate
  CHECK(fetch_with(pki.other_client_cert, pki.other_client_key).status == 0);  // unknown CA
  // A server certificate is not a client certificate (extendedKeyUsage serverAuth only).
  CHECK(fetch_with(pki.server_cert, pki.server_key).status == 0);
  // TLS 1.2 is below min_version TLS13.
  CHECK(RunCommand("curl -s -o /dev/null --tls-max 1.2 --cacert " + pki.ca_cert + " --cert " +
                   pki.client_cert + " --key " + pki.client_key + " " + HttpsUrl(exporter))
            .exit_code != 0);

  SUBCASE("SIGHUP re-reads the file: new connections get the new client CA") {
    WriteFile(dir.File("web.yml"), web_config(pki.other_ca_cert));
    exporter.process().Signal(SIGHUP);
    REQUIRE(PollUntil(
        [&] {
          return exporter.process().Stderr().find("configuration reloaded") != std::string::npos;
        },
        10s));
    CHECK(fetch_with(pki.client_cert, pki.client_key).status == 0);
    CHECK(fetch_with(pki.other_client_cert, pki.other_client_key).status == 200);
  }
  SUBCASE("a broken web config on SIGHUP is logged and the old one kept") {
    WriteFile(dir.File("web.yml"), web_config(pki.ca_cert) + "  unknown_key: 1\n");
    exporter.process().Signal(SIGHUP);
    REQUIRE(PollUntil(
        [&] { return exporter.process().Stderr().find("reload failed") != std::string::npos; },
        10s));
    CHECK(exporter.process().Stderr().find(
              "web.yml:7: tls_server_config.unknown_key: unknown key") != std::string::npos);
    CHECK(fetch_with(pki.client_cert, pki.client_key).status == 200);
  }
  SUBCASE("a reload cannot turn TLS off: refused, TLS stays") {
    WriteFile(dir.File("web.yml"), "basic_auth_users: {}\n");
    exporter.process().Signal(SIGHUP);
    REQUIRE(PollUntil(
        [&] {
          return exporter.process().Stderr().find(
                     "listener's scheme changes only with a restart") != std::string::npos;
        },
        10s));
    CHECK(fetch_with(pki.client_cert, pki.client_key).status == 200);
  }
  CHECK(exporter.process().Stop(SIGTERM, 5s) == 0);
}

TEST_CASE("A reload rotates the server certificate and the passwords without a restart" *
          doctest::test_suite("concurrency")) {
  TempDir dir;
  const TestPki pki(dir);
  const auto web_config = [&](const std::string& cert, const std::string& key,
                              const std::string& password) {
    return "tls_server_config:\n  cert_file: " + cert + "\n  key_file: " + key +
           "\nbasic_auth_users:\n  p: " + BcryptHash(password) + "\n";
  };
  WriteFile(dir.File("web.yml"), web_config(pki.server_cert, pki.server_key, "old"));
  ExporterProcess exporter(
      dir, {"--proxy.socket", dir.File("none.sock"), "--web.config.file", dir.File("web.yml")});
  const auto serial_seen = [&] {
    // The serial of the certificate a new connection is served, as openssl s_client sees it.
    return RunCommand("openssl s_client -connect 127.0.0.1:" + std::to_string(exporter.port()) +
                      " </dev/null 2>/dev/null | openssl x509 -noout -serial")
        .output;
  };
  const auto serial_of = [&](const std::string& cert) {
    return RunCommand("openssl x509 -noout -serial -in " + cert).output;
  };
  REQUIRE(serial_of(pki.server_cert) != serial_of(pki.second_server_cert));
  CHECK(serial_seen() == serial_of(pki.server_cert));
  CHECK(HttpFetch(WithUser(Https(exporter, pki), "p", "old")).status == 200);

  WriteFile(dir.File("web.yml"), web_config(pki.second_server_cert, pki.second_server_key, "new"));
  exporter.process().Signal(SIGHUP);
  REQUIRE(PollUntil(
      [&] {
        return exporter.process().Stderr().find("configuration reloaded") != std::string::npos;
      },
      10s));
  CHECK(serial_seen() == serial_of(pki.second_server_cert));
  CHECK(HttpFetch(WithUser(Https(exporter, pki), "p", "old")).status == 401);
  CHECK(HttpFetch(WithUser(Https(exporter, pki), "p", "new")).status == 200);
}

TEST_CASE("A bad web config stops the start with status 2 and names file, line and key") {
  TempDir dir;
  const TestPki pki(dir);
  const auto start = [&](const std::string& web_yaml) {
    WriteFile(dir.File("web.yml"), web_yaml);
    ChildProcess process(
        {BuiltProgram("exporter/smartproxy_exporter"), "--web.listen-address=127.0.0.1:0",
         "--web.config.file", dir.File("web.yml")},
        dir.path());
    const auto status = process.Wait(10s);
    CHECK(status == 2);
    return process.Stderr();
  };
  CHECK(start("tls_server_config:\n  cert_file: server.crt\n  keyfile: server.key\n")
            .find("web.yml:3: tls_server_config.keyfile: unknown key") != std::string::npos);
  CHECK(start("tls_server_config:\n  cert_file: server.crt\n  key_file: server2.key\n")
            .find("tls_server_config.key_file: \"" + pki.second_server_key +
                  "\": does not match the certificate") != std::string::npos);
  CHECK(start("tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n")
            .find("missing.crt\": cannot open: No such file or directory") != std::string::npos);
  CHECK(start("basic_auth_users:\n  p: not-a-hash\n")
            .find("web.yml:2: basic_auth_users.p: expected a bcrypt hash") != std::string::npos);
  // --check-config validates the web config too.
  WriteFile(dir.File("web.yml"), "http_server_config:\n  headers:\n    Server: x\n");
  const auto check =
      RunCommand(BuiltProgram("exporter/smartproxy_exporter") +
                 " --check-config --web.config.file " + dir.File("web.yml") + " 2>&1");
  CHECK(check.exit_code == 2);
  CHECK(check.output.find("web.yml:3: http_server_config.headers.Server: header not allowed") !=
        std::string::npos);
}
