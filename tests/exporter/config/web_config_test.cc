#include "exporter/config/web_config.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "exporter/config/config.h"
#include "temp_dir.h"

namespace exporter::config {
namespace {

// crypt_blowfish's public test vector (password "U*U"), and a second well-formed hash.
constexpr const char* kHashA = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
constexpr const char* kHashY = "$2y$10$abcdefghijklmnopqrstuu5Vm8.Y3aQ0o1.9L7rw6Hs3TIq7cTwLe";

// The message ParseWebConfig throws for `yaml`, or "" when it parses.
std::string ErrorOf(const std::string& yaml, const std::string& source = "web.yml") {
  try {
    ParseWebConfig(yaml, source);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

// A tls_server_config section with a certificate and key, followed by `more` (indented lines).
std::string Tls(const std::string& more) {
  return "tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n" + more;
}

constexpr const char* kTlsKnownKeys =
    "cert_file, key_file, client_ca_file, client_auth_type, min_version, max_version, "
    "cipher_suites, curve_preferences, prefer_server_cipher_suites, client_allowed_sans, cert, "
    "key, client_ca";
constexpr const char* kCipherSuiteNames =
    "TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_AES_256_CBC_SHA, TLS_RSA_WITH_AES_128_GCM_SHA256, "
    "TLS_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305, "
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305";
constexpr const char* kAllowedHeaders =
    "Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, "
    "Content-Security-Policy";
constexpr const char* kBadHashProblem =
    "expected a bcrypt hash ($2y$, $2b$ or $2a$, cost 4 to 31, 60 characters), e.g. from "
    "`htpasswd -nBC 10 \"\" | tr -d ':'`";

TEST_CASE("Every key of the web config file is parsed") {
  const WebConfigFile web = ParseWebConfig(std::string(R"(
tls_server_config:
  cert_file: server.crt
  key_file: /srv/keys/server.key
  client_auth_type: VerifyClientCertIfGiven
  client_ca_file: certs/ca.crt
  min_version: TLS11
  max_version: TLS13
  cipher_suites:
    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    - TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
    - TLS_RSA_WITH_AES_256_CBC_SHA
  curve_preferences: [X25519, CurveP256, CurveP384, CurveP521]
  prefer_server_cipher_suites: false
http_server_config:
  http2: false
  headers:
    Strict-Transport-Security: max-age=31536000; includeSubDomains
    X-Content-Type-Options: nosniff
    x-frame-options: SAMEORIGIN
    X-XSS-Protection: "1; mode=block"
    Content-Security-Policy: default-src 'self'
basic_auth_users:
  prometheus: )") + kHashA + "\n  alice: '" + kHashY +
                                               "'\n",
                                           "/etc/exporter/web.yml");
  CHECK(web.source == "/etc/exporter/web.yml");
  REQUIRE(web.tls.has_value());
  const TlsServerConfig& tls = *web.tls;
  CHECK(tls.cert_file == "/etc/exporter/server.crt");
  CHECK(tls.key_file == "/srv/keys/server.key");
  CHECK(tls.client_ca_file == "/etc/exporter/certs/ca.crt");
  CHECK(tls.client_auth_type == ClientAuthType::kVerifyClientCertIfGiven);
  CHECK(tls.min_version == TlsVersion::kTls11);
  REQUIRE(tls.max_version.has_value());
  CHECK(*tls.max_version == TlsVersion::kTls13);
  CHECK(tls.cipher_suites == std::vector<std::string>{"ECDHE-RSA-AES128-GCM-SHA256",
                                                      "ECDHE-ECDSA-CHACHA20-POLY1305",
                                                      "AES256-SHA"});
  CHECK(tls.curve_preferences == std::vector<std::string>{"X25519", "P-256", "P-384", "P-521"});
  CHECK_FALSE(tls.prefer_server_cipher_suites);
  // Names as exporter-toolkit spells them, values as written.
  CHECK(web.headers == std::vector<std::pair<std::string, std::string>>{
                           {"Strict-Transport-Security", "max-age=31536000; includeSubDomains"},
                           {"X-Content-Type-Options", "nosniff"},
                           {"X-Frame-Options", "SAMEORIGIN"},
                           {"X-XSS-Protection", "1; mode=block"},
                           {"Content-Security-Policy", "default-src 'self'"},
                       });
  REQUIRE(web.basic_auth_users.size() == 2);
  CHECK(web.basic_auth_users[0].name == "prometheus");
  CHECK(web.basic_auth_users[0].bcrypt_hash == kHashA);
  CHECK(web.basic_auth_users[1].name == "alice");
  CHECK(web.basic_auth_users[1].bcrypt_hash == kHashY);
}

TEST_CASE("TLS settings left out keep exporter-toolkit's defaults") {
  const WebConfigFile web = ParseWebConfig(Tls(""), "web.yml");
  REQUIRE(web.tls.has_value());
  CHECK(web.tls->client_auth_type == ClientAuthType::kNoClientCert);
  CHECK(web.tls->client_ca_file.empty());
  CHECK(web.tls->min_version == TlsVersion::kTls12);
  CHECK_FALSE(web.tls->max_version.has_value());
  CHECK(web.tls->cipher_suites.empty());
  CHECK(web.tls->curve_preferences.empty());
  CHECK(web.tls->prefer_server_cipher_suites);
  CHECK(web.headers.empty());
  CHECK(web.basic_auth_users.empty());
}

TEST_CASE("Relative certificate paths are resolved against the web config file's directory") {
  const std::string yaml =
      "tls_server_config:\n  cert_file: tls/s.crt\n  key_file: ../s.key\n"
      "  client_ca_file: /abs/ca.crt\n";
  SUBCASE("absolute config path") {
    const WebConfigFile web = ParseWebConfig(yaml, "/etc/exporter/web.yml");
    CHECK(web.tls->cert_file == "/etc/exporter/tls/s.crt");
    CHECK(web.tls->key_file == "/etc/exporter/../s.key");
    CHECK(web.tls->client_ca_file == "/abs/ca.crt");
  }
  SUBCASE("relative config path") {
    const WebConfigFile web = ParseWebConfig(yaml, "conf/web.yml");
    CHECK(web.tls->cert_file == "conf/tls/s.crt");
    CHECK(web.tls->key_file == "conf/../s.key");
    CHECK(web.tls->client_ca_file == "/abs/ca.crt");
  }
  SUBCASE("config in the working directory: paths stay relative to it") {
    const WebConfigFile web = ParseWebConfig(yaml, "web.yml");
    CHECK(web.tls->cert_file == "tls/s.crt");
    CHECK(web.tls->key_file == "../s.key");
  }
  SUBCASE("a config file in the root directory") {
    const WebConfigFile web = ParseWebConfig(yaml, "/web.yml");
    CHECK(web.tls->cert_file == "/tls/s.crt");
  }
}

TEST_CASE("An empty web config, or an empty tls_server_config, serves plain HTTP") {
  for (const char* yaml : {"", "# nothing\n", "---\n", "tls_server_config:\n",
                           "tls_server_config: {}\n", "tls_server_config:\nhttp_server_config:\n",
                           "http_server_config: {headers: {}}\nbasic_auth_users: {}\n",
                           "tls_server_config:\n  cipher_suites: []\n  min_version: TLS13\n"}) {
    CAPTURE(yaml);
    const WebConfigFile web = ParseWebConfig(yaml, "web.yml");
    CHECK_FALSE(web.tls.has_value());
    CHECK(web.headers.empty());
    CHECK(web.basic_auth_users.empty());
    CHECK(web.source == "web.yml");
  }
}

TEST_CASE("Unknown keys in the web config are rejected with line and the known keys") {
  SUBCASE("top level") {
    CHECK(ErrorOf("tls_server_config: {}\nhttp_config: {}\n") ==
          "web.yml:2: http_config: unknown key (known keys: tls_server_config, "
          "http_server_config, basic_auth_users, rate_limit)");
  }
  SUBCASE("tls_server_config") {
    CHECK(ErrorOf(Tls("  keyfile: b\n")) ==
          std::string("web.yml:4: tls_server_config.keyfile: unknown key (known keys: ") +
              kTlsKnownKeys + ")");
  }
  SUBCASE("http_server_config") {
    CHECK(ErrorOf("http_server_config:\n  http2: true\n  header: {}\n") ==
          "web.yml:3: http_server_config.header: unknown key (known keys: http2, headers)");
  }
  SUBCASE("a key with a control character cannot break the message") {
    CHECK(ErrorOf("\"tls\\r\\n\": 1\n") ==
          "web.yml:1: \"tls\\x0d\\n\": unknown key (known keys: tls_server_config, "
          "http_server_config, basic_auth_users, rate_limit)");
  }
}

TEST_CASE("Duplicate keys in the web config are rejected") {
  SUBCASE("top level") {
    CHECK(ErrorOf("basic_auth_users: {}\ntls_server_config: {}\nbasic_auth_users: {}\n") ==
          "web.yml:3: basic_auth_users: duplicate key (first defined at line 1)");
  }
  SUBCASE("tls_server_config") {
    CHECK(ErrorOf(Tls("  cert_file: other.crt\n")) ==
          "web.yml:4: tls_server_config.cert_file: duplicate key (first defined at line 2)");
  }
  SUBCASE("http_server_config, flow style") {
    CHECK(ErrorOf("http_server_config: {http2: true, http2: false}\n") ==
          "web.yml:1: http_server_config.http2: duplicate key (first defined at line 1)");
  }
}

TEST_CASE("Web config values of the wrong type are rejected") {
  SUBCASE("a list where a file name is expected") {
    CHECK(ErrorOf("tls_server_config:\n  cert_file: [a.crt, b.crt]\n  key_file: k\n") ==
          "web.yml:2: tls_server_config.cert_file: expected a string, got a list");
  }
  SUBCASE("a map where a version is expected") {
    CHECK(ErrorOf(Tls("  min_version:\n    v: TLS12\n")) ==
          "web.yml:5: tls_server_config.min_version: expected a string, got a map");
  }
  SUBCASE("an empty client_auth_type") {
    CHECK(ErrorOf(Tls("  client_auth_type:\n")) ==
          "web.yml:4: tls_server_config.client_auth_type: expected a string, got nothing");
  }
  SUBCASE("a string where a list of cipher suites is expected") {
    CHECK(ErrorOf(Tls("  cipher_suites: TLS_RSA_WITH_AES_128_CBC_SHA\n")) ==
          "web.yml:4: tls_server_config.cipher_suites: expected a list of cipher suite, got "
          "\"TLS_RSA_WITH_AES_128_CBC_SHA\"");
  }
  SUBCASE("a list inside the list of curves") {
    CHECK(ErrorOf(Tls("  curve_preferences:\n    - [X25519]\n")) ==
          "web.yml:5: tls_server_config.curve_preferences: expected a list of curve, got a list "
          "in it");
  }
  SUBCASE("not a boolean") {
    CHECK(ErrorOf(Tls("  prefer_server_cipher_suites: maybe\n")) ==
          "web.yml:4: tls_server_config.prefer_server_cipher_suites: expected true or false, got "
          "\"maybe\"");
    CHECK(ErrorOf("http_server_config:\n  http2: [true]\n") ==
          "web.yml:2: http_server_config.http2: expected true or false, got a list");
  }
  SUBCASE("a scalar where a section is expected") {
    CHECK(ErrorOf("tls_server_config: yes\n") ==
          "web.yml:1: tls_server_config: expected a map, got \"yes\"");
  }
  SUBCASE("headers as a list") {
    CHECK(ErrorOf("http_server_config:\n  headers: [X-Frame-Options]\n") ==
          "web.yml:2: http_server_config.headers: expected a map of header: value, got a list");
  }
  SUBCASE("a header value that is a list") {
    CHECK(ErrorOf("http_server_config:\n  headers:\n    X-Frame-Options: [deny]\n") ==
          "web.yml:3: http_server_config.headers.X-Frame-Options: expected a string, got a list");
  }
  SUBCASE("basic_auth_users as a list") {
    CHECK(ErrorOf("basic_auth_users:\n  - alice\n") ==
          "web.yml:2: basic_auth_users: expected a map of user: bcrypt hash, got a list");
  }
  SUBCASE("a user whose hash is a list") {
    CHECK(ErrorOf("basic_auth_users:\n  alice: [x]\n") ==
          "web.yml:2: basic_auth_users.alice: expected a bcrypt hash, got a list");
  }
  SUBCASE("the top level is not a map") {
    CHECK(ErrorOf("- tls_server_config\n") ==
          "web.yml:1: the top level must be a map with tls_server_config, http_server_config, "
          "basic_auth_users, rate_limit; got a list");
  }
}

TEST_CASE("File paths with a NUL byte are rejected, as open() would cut them short") {
  CHECK(ErrorOf("tls_server_config:\n  cert_file: \"s.crt\\0.pem\"\n  key_file: s.key\n") ==
        "web.yml:2: tls_server_config.cert_file: must not contain a NUL byte");
  CHECK(ErrorOf(Tls("  client_ca_file: \"\\0\"\n")) ==
        "web.yml:4: tls_server_config.client_ca_file: must not contain a NUL byte");
}

TEST_CASE("A certificate needs its key and a key its certificate") {
  SUBCASE("cert without key") {
    CHECK(ErrorOf("tls_server_config: {cert_file: s.crt}\n") ==
          "web.yml:1: tls_server_config: key_file is required (with cert_file)");
  }
  SUBCASE("key without cert") {
    CHECK(ErrorOf("tls_server_config: {key_file: s.key}\n") ==
          "web.yml:1: tls_server_config: cert_file is required (with key_file)");
  }
  SUBCASE("a client CA alone") {
    CHECK(ErrorOf("tls_server_config: {client_ca_file: ca.crt}\n") ==
          "web.yml:1: tls_server_config: cert_file is required (with key_file)");
  }
  SUBCASE("a client auth policy alone") {
    CHECK(ErrorOf("tls_server_config: {client_auth_type: NoClientCert}\n") ==
          "web.yml:1: tls_server_config: cert_file is required (with key_file)");
  }
  SUBCASE("an empty cert_file is none") {
    CHECK(ErrorOf("tls_server_config: {cert_file: '', key_file: s.key}\n") ==
          "web.yml:1: tls_server_config: cert_file is required (with key_file)");
  }
  SUBCASE("block style: the line is the section's key") {
    CHECK(ErrorOf("basic_auth_users: {}\ntls_server_config:\n  cert_file: s.crt\n") ==
          "web.yml:2: tls_server_config: key_file is required (with cert_file)");
  }
}

TEST_CASE("Client certificate policy follows exporter-toolkit's rules") {
  SUBCASE("a CA alone means RequireAndVerifyClientCert") {
    const WebConfigFile web = ParseWebConfig(Tls("  client_ca_file: ca.crt\n"), "/w/web.yml");
    REQUIRE(web.tls.has_value());
    CHECK(web.tls->client_auth_type == ClientAuthType::kRequireAndVerifyClientCert);
    CHECK(web.tls->client_ca_file == "/w/ca.crt");
  }
  SUBCASE("a CA with a policy that does not verify") {
    for (const char* policy_name : {"NoClientCert", "RequestClientCert", "RequireAnyClientCert"}) {
      const std::string policy(policy_name);
      CAPTURE(policy);
      CHECK(ErrorOf(Tls("  client_ca_file: ca.crt\n  client_auth_type: " + policy + "\n")) ==
            "web.yml:1: tls_server_config: client_ca_file is set but client_auth_type " + policy +
                " does not verify client certificates");
    }
  }
  SUBCASE("a verifying policy without a CA") {
    CHECK(ErrorOf(Tls("  client_auth_type: RequireAndVerifyClientCert\n")) ==
          "web.yml:1: tls_server_config: client_auth_type RequireAndVerifyClientCert needs "
          "client_ca_file");
    CHECK(ErrorOf(Tls("  client_auth_type: VerifyClientCertIfGiven\n")) ==
          "web.yml:1: tls_server_config: client_auth_type VerifyClientCertIfGiven needs "
          "client_ca_file");
  }
  SUBCASE("policies that take any certificate need no CA") {
    CHECK(
        ParseWebConfig(Tls("  client_auth_type: RequestClientCert\n"), "w").tls->client_auth_type ==
        ClientAuthType::kRequestClientCert);
    CHECK(ParseWebConfig(Tls("  client_auth_type: RequireAnyClientCert\n"), "w")
              .tls->client_auth_type == ClientAuthType::kRequireAnyClientCert);
    CHECK(ParseWebConfig(Tls("  client_auth_type: NoClientCert\n"), "w").tls->client_auth_type ==
          ClientAuthType::kNoClientCert);
  }
  SUBCASE("an unknown policy") {
    CHECK(ErrorOf(Tls("  client_auth_type: requireandverifyclientcert\n")) ==
          "web.yml:4: tls_server_config.client_auth_type: must be one of NoClientCert, "
          "RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, "
          "RequireAndVerifyClientCert, got \"requireandverifyclientcert\"");
  }
}

TEST_CASE("TLS versions are checked by name and order") {
  SUBCASE("an unknown version") {
    CHECK(ErrorOf(Tls("  min_version: TLS14\n")) ==
          "web.yml:4: tls_server_config.min_version: must be one of TLS10, TLS11, TLS12, TLS13, "
          "got \"TLS14\"");
    CHECK(ErrorOf(Tls("  max_version: \"1.3\"\n")) ==
          "web.yml:4: tls_server_config.max_version: must be one of TLS10, TLS11, TLS12, TLS13, "
          "got \"1.3\"");
  }
  SUBCASE("max below min") {
    CHECK(ErrorOf(Tls("  min_version: TLS13\n  max_version: TLS12\n")) ==
          "web.yml:1: tls_server_config: max_version TLS12 is below min_version TLS13");
  }
  SUBCASE("max below the default min") {
    CHECK(ErrorOf(Tls("  max_version: TLS11\n")) ==
          "web.yml:1: tls_server_config: max_version TLS11 is below min_version TLS12");
  }
  SUBCASE("max equal to min") {
    const WebConfigFile web =
        ParseWebConfig(Tls("  min_version: TLS13\n  max_version: TLS13\n"), "w");
    CHECK(web.tls->min_version == TlsVersion::kTls13);
    CHECK(web.tls->max_version == TlsVersion::kTls13);
  }
  SUBCASE("names") {
    CHECK(TlsVersionName(TlsVersion::kTls10) == "TLS10");
    CHECK(TlsVersionName(TlsVersion::kTls11) == "TLS11");
    CHECK(TlsVersionName(TlsVersion::kTls12) == "TLS12");
    CHECK(TlsVersionName(TlsVersion::kTls13) == "TLS13");
  }
}

TEST_CASE("Cipher suites and curves take Go's names and become OpenSSL's") {
  SUBCASE("an unsupported cipher suite") {
    CHECK(ErrorOf(Tls("  cipher_suites:\n    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
                      "    - TLS_RSA_WITH_RC4_128_SHA\n")) ==
          std::string("web.yml:6: tls_server_config.cipher_suites: unsupported cipher suite "
                      "\"TLS_RSA_WITH_RC4_128_SHA\" (supported: ") +
              kCipherSuiteNames + ")");
  }
  SUBCASE("an OpenSSL name is not a Go name") {
    CHECK(ErrorOf(Tls("  cipher_suites: [ECDHE-RSA-AES128-GCM-SHA256]\n")) ==
          std::string("web.yml:4: tls_server_config.cipher_suites: unsupported cipher suite "
                      "\"ECDHE-RSA-AES128-GCM-SHA256\" (supported: ") +
              kCipherSuiteNames + ")");
  }
  SUBCASE("a good one") {
    const WebConfigFile web =
        ParseWebConfig(Tls("  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n"), "w");
    CHECK(web.tls->cipher_suites == std::vector<std::string>{"ECDHE-ECDSA-AES256-GCM-SHA384"});
  }
  SUBCASE("Go's short ChaCha20 aliases") {
    const WebConfigFile web =
        ParseWebConfig(Tls("  cipher_suites: [TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305, "
                           "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305]\n"),
                       "w");
    CHECK(web.tls->cipher_suites ==
          std::vector<std::string>{"ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305"});
  }
  SUBCASE("an empty list keeps the default") {
    CHECK(ParseWebConfig(Tls("  cipher_suites:\n"), "w").tls->cipher_suites.empty());
  }
  SUBCASE("curves") {
    const WebConfigFile web =
        ParseWebConfig(Tls("  curve_preferences: [CurveP521, X25519]\n"), "w");
    CHECK(web.tls->curve_preferences == std::vector<std::string>{"P-521", "X25519"});
  }
  SUBCASE("an unsupported curve") {
    CHECK(ErrorOf(Tls("  curve_preferences:\n    - P-256\n")) ==
          "web.yml:5: tls_server_config.curve_preferences: unsupported curve \"P-256\" "
          "(supported: CurveP256, CurveP384, CurveP521, X25519)");
  }
}

TEST_CASE("exporter-toolkit keys smartproxy_exporter does not support are refused, not ignored") {
  SUBCASE("client_allowed_sans") {
    CHECK(ErrorOf(Tls("  client_allowed_sans: [prometheus]\n")) ==
          "web.yml:4: tls_server_config.client_allowed_sans: not supported by "
          "smartproxy_exporter; restrict clients by the CA in client_ca_file instead");
  }
  SUBCASE("inline cert") {
    CHECK(ErrorOf("tls_server_config:\n  cert: |\n    -----BEGIN CERTIFICATE-----\n") ==
          "web.yml:2: tls_server_config.cert: not supported by smartproxy_exporter; put the "
          "certificate in a file and use cert_file");
  }
  SUBCASE("inline key: the key text never appears in the message") {
    const std::string error =
        ErrorOf("tls_server_config:\n  key: \"-----BEGIN PRIVATE KEY-----SECRETKEYBYTES\"\n");
    CHECK(error ==
          "web.yml:2: tls_server_config.key: not supported by smartproxy_exporter; put the key "
          "in a file and use key_file");
    CHECK(error.find("SECRETKEYBYTES") == std::string::npos);
  }
  SUBCASE("inline client CA") {
    CHECK(ErrorOf("tls_server_config:\n  client_ca: x\n") ==
          "web.yml:2: tls_server_config.client_ca: not supported by smartproxy_exporter; put the "
          "CA in a file and use client_ca_file");
  }
}

TEST_CASE("Response headers are limited to exporter-toolkit's list and checked") {
  const auto headers = [](const std::string& lines) {
    return "http_server_config:\n  headers:\n" + lines;
  };
  SUBCASE("a disallowed header") {
    CHECK(ErrorOf(headers("    X-Frame-Options: deny\n    Server: smartproxy\n")) ==
          std::string("web.yml:4: http_server_config.headers.Server: header not allowed "
                      "(allowed: ") +
              kAllowedHeaders + ")");
  }
  SUBCASE("Set-Cookie is disallowed too") {
    CHECK(ErrorOf(headers("    Set-Cookie: a=b\n")) ==
          std::string("web.yml:3: http_server_config.headers.Set-Cookie: header not allowed "
                      "(allowed: ") +
              kAllowedHeaders + ")");
  }
  SUBCASE("a duplicate differing only in case") {
    CHECK(ErrorOf(headers("    X-Frame-Options: deny\n    x-frame-OPTIONS: deny\n")) ==
          "web.yml:4: http_server_config.headers.x-frame-OPTIONS: duplicate header");
  }
  SUBCASE("an exact duplicate") {
    CHECK(ErrorOf(headers("    X-XSS-Protection: '0'\n    X-XSS-Protection: '0'\n")) ==
          "web.yml:4: http_server_config.headers.X-XSS-Protection: duplicate header");
  }
  SUBCASE("X-Content-Type-Options other than nosniff") {
    CHECK(ErrorOf(headers("    X-Content-Type-Options: sniff\n")) ==
          "web.yml:3: http_server_config.headers.X-Content-Type-Options: must be nosniff, got "
          "\"sniff\"");
  }
  SUBCASE("X-Frame-Options other than deny or sameorigin") {
    CHECK(ErrorOf(headers("    X-Frame-Options: ALLOW-FROM https://example.com\n")) ==
          "web.yml:3: http_server_config.headers.X-Frame-Options: must be deny or sameorigin, got "
          "\"ALLOW-FROM https://example.com\"");
  }
  SUBCASE("a value with a control character (response splitting)") {
    CHECK(ErrorOf(headers("    Content-Security-Policy: \"default-src 'self'\\r\\nSet-Cookie: "
                          "a=b\"\n")) ==
          "web.yml:3: http_server_config.headers.Content-Security-Policy: must be a non-empty "
          "value without control characters, got \"default-src 'self'\\x0d\\nSet-Cookie: a=b\"");
    CHECK(ErrorOf(headers("    X-XSS-Protection: \"1\\0\"\n")) ==
          "web.yml:3: http_server_config.headers.X-XSS-Protection: must be a non-empty value "
          "without control characters, got \"1\\x00\"");
    CHECK(ErrorOf(headers("    X-XSS-Protection: \"1\\x7f\"\n")) ==
          "web.yml:3: http_server_config.headers.X-XSS-Protection: must be a non-empty value "
          "without control characters, got \"1\\x7f\"");
  }
  SUBCASE("an empty value") {
    CHECK(ErrorOf(headers("    Strict-Transport-Security: ''\n")) ==
          "web.yml:3: http_server_config.headers.Strict-Transport-Security: must be a non-empty "
          "value without control characters, got \"\"");
    CHECK(ErrorOf(headers("    Strict-Transport-Security:\n")) ==
          "web.yml:3: http_server_config.headers.Strict-Transport-Security: expected a string, "
          "got nothing");
  }
  SUBCASE("a header name that is not a plain key is quoted in the message") {
    CHECK(ErrorOf(headers("    \"X-Frame-Options\\n\": deny\n")) ==
          std::string("web.yml:3: http_server_config.headers.\"X-Frame-Options\\n\": header not "
                      "allowed (allowed: ") +
              kAllowedHeaders + ")");
  }
  SUBCASE("lower-case deny and upper-case SAMEORIGIN are both accepted") {
    const WebConfigFile web = ParseWebConfig(headers("    X-Frame-Options: deny\n"), "w");
    CHECK(web.headers ==
          std::vector<std::pair<std::string, std::string>>{{"X-Frame-Options", "deny"}});
  }
}

TEST_CASE("Malformed bcrypt hashes are rejected without quoting the hash") {
  const std::string salt_and_hash = std::string(kHashA).substr(7);  // 53 characters
  struct Case {
    const char* what;
    std::string hash;
  };
  const std::vector<Case> cases = {
      {"one character short", std::string(kHashA).substr(0, 59)},
      {"one character long", std::string(kHashA) + "x"},
      {"md5-crypt", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/"},
      {"sha512-crypt", "$6$saltsaltsaltsalt$" + std::string(40, 'q')},
      {"cost 03", "$2y$03$" + salt_and_hash},
      {"cost 32", "$2y$32$" + salt_and_hash},
      {"cost 00", "$2b$00$" + salt_and_hash},
      {"a non-digit cost", "$2y$1x$" + salt_and_hash},
      {"unknown minor version $2x$", "$2x$10$" + salt_and_hash},
      {"standard base64 instead of bcrypt's alphabet", "$2y$10$" + std::string(52, 'q') + "+"},
      {"a space inside", "$2y$10$" + std::string(26, 'q') + " " + std::string(26, 'q')},
      {"a plain password", "correct horse battery staple correct horse battery staple ok"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const std::string error = ErrorOf("basic_auth_users:\n  alice: '" + c.hash + "'\n");
    CHECK(error == std::string("web.yml:2: basic_auth_users.alice: ") + kBadHashProblem);
    CHECK(error.find(c.hash) == std::string::npos);
    CHECK(error.find(c.hash.substr(7, 20)) == std::string::npos);
  }
}

TEST_CASE("basic_auth_users: user names and duplicates") {
  SUBCASE("a user name with ':' cannot be sent in basic auth") {
    CHECK(ErrorOf(std::string("basic_auth_users:\n  \"al:ice\": ") + kHashA + "\n") ==
          "web.yml:2: basic_auth_users.\"al:ice\": a user name must be non-empty, without ':' or "
          "NUL");
  }
  SUBCASE("a user name with a NUL byte") {
    CHECK(ErrorOf(std::string("basic_auth_users:\n  \"al\\0ice\": ") + kHashA + "\n") ==
          "web.yml:2: basic_auth_users.\"al\\x00ice\": a user name must be non-empty, without "
          "':' or NUL");
  }
  SUBCASE("an empty user name") {
    CHECK(ErrorOf(std::string("basic_auth_users:\n  \"\": ") + kHashA + "\n") ==
          "web.yml:2: basic_auth_users.\"\": a user name must be non-empty, without ':' or NUL");
  }
  SUBCASE("a duplicate user") {
    CHECK(ErrorOf(std::string("basic_auth_users:\n  alice: ") + kHashA + "\n  bob: " + kHashY +
                  "\n  alice: " + kHashY + "\n") ==
          "web.yml:4: basic_auth_users.alice: duplicate user");
  }
  SUBCASE("user names are case-sensitive") {
    const WebConfigFile web = ParseWebConfig(
        std::string("basic_auth_users:\n  alice: ") + kHashA + "\n  Alice: " + kHashY + "\n", "w");
    CHECK(web.basic_auth_users.size() == 2);
  }
  SUBCASE("a user without a hash") {
    CHECK(ErrorOf("basic_auth_users:\n  alice:\n") ==
          "web.yml:2: basic_auth_users.alice: expected a bcrypt hash, got nothing");
  }
}

// A user line missing its colon ("alice $2y$10$...") makes basic_auth_users a string; quoting it
// back would put the hash into logs. (Found by this test: the message quoted it.)
TEST_CASE("A basic_auth_users line missing its colon does not quote the hash") {
  SUBCASE("a user line without its colon") {
    const std::string error = ErrorOf(std::string("basic_auth_users:\n  alice ") + kHashY + "\n");
    CHECK(error.starts_with("web.yml:2: basic_auth_users: expected a map of user: bcrypt hash, "));
    CHECK(error.find(kHashY) == std::string::npos);
  }
  SUBCASE("a hash where the map of users belongs") {
    const std::string error = ErrorOf(std::string("basic_auth_users: ") + kHashY + "\n");
    CHECK(error.starts_with("web.yml:1: basic_auth_users: expected a map of user: bcrypt hash, "));
    CHECK(error.find(kHashY) == std::string::npos);
  }
}

TEST_CASE("A web config holds a single YAML document") {
  CHECK(ErrorOf("basic_auth_users: {}\n---\ntls_server_config: {}\n") ==
        "web.yml:2: expected one YAML document, got more");
  CHECK(ErrorOf("---\nbasic_auth_users: {}\n---\n") ==
        "web.yml:3: expected one YAML document, got more");
}

TEST_CASE("Invalid YAML in the web config reports line and column") {
  SUBCASE("unclosed flow sequence") {
    CHECK(ErrorOf(Tls("  cipher_suites: [a\n")) ==
          "web.yml:5: invalid YAML: end of sequence flow not found (column 1)");
  }
  SUBCASE("illegal map value") {
    CHECK(ErrorOf("http_server_config:\n  headers: a: b\n") ==
          "web.yml:2: invalid YAML: illegal map value (column 13)");
  }
  SUBCASE("an undefined alias") {
    CHECK(ErrorOf("basic_auth_users:\n  alice: *hash\n") ==
          "web.yml:2: invalid YAML: the referenced anchor is not defined (column 10)");
  }
  SUBCASE("binary garbage never escapes as a yaml-cpp exception") {
    const std::string garbage("\x00\xff\xfe{[:\t\"\x01", 10);
    CHECK_THROWS_AS(ParseWebConfig(garbage, "web.yml"), ConfigError);
  }
}

TEST_CASE("LoadWebConfigFile reads the file and resolves paths against its directory") {
  const test_support::TempDir dir;
  SUBCASE("a readable file") {
    test_support::WriteFile(dir.File("web.yml"), Tls(""));
    const WebConfigFile web = LoadWebConfigFile(dir.File("web.yml"));
    CHECK(web.source == dir.File("web.yml"));
    CHECK(web.tls->cert_file == dir.File("s.crt"));
    CHECK(web.tls->key_file == dir.File("s.key"));
  }
  SUBCASE("a missing file") {
    CHECK_THROWS_WITH_AS(
        LoadWebConfigFile(dir.File("missing.yml")),
        (dir.File("missing.yml") + ": cannot open the web config file: No such file or directory")
            .c_str(),
        ConfigError);
  }
  SUBCASE("errors name the file's path") {
    test_support::WriteFile(dir.File("web.yml"), "tls_server_config: {bogus: 1}\n");
    CHECK_THROWS_WITH_AS(
        LoadWebConfigFile(dir.File("web.yml")),
        (dir.File("web.yml") +
         ":1: tls_server_config.bogus: unknown key (known keys: " + kTlsKnownKeys + ")")
            .c_str(),
        ConfigError);
  }
}

TEST_CASE("BcryptCost reads the cost of well-formed hashes only") {
  const std::string rest = std::string(kHashA).substr(7);
  CHECK(BcryptCost(kHashA) == 5u);
  CHECK(BcryptCost(kHashY) == 10u);
  CHECK(BcryptCost("$2b$04$" + rest) == 4u);
  CHECK(BcryptCost("$2y$31$" + rest) == 31u);
  CHECK(BcryptCost("$2a$12$" + rest) == 12u);
  for (const std::string& bad :
       {std::string(), std::string("$2y$10$"), "$2y$03$" + rest, "$2y$32$" + rest, "$2y$99$" + rest,
        "$2y$-1$" + rest, "$2y$1$" + rest + "x", "$2x$10$" + rest, "$2$10$" + rest + "x",
        "$3y$10$" + rest, "x2y$10$" + rest, "$2y$10x" + rest, "$2y$10$" + rest.substr(1),
        "$2y$10$" + rest + "A", "$2y$10$" + rest.substr(1) + "=", "$2y$10$" + rest.substr(1) + "$",
        "$2y$10$" + rest.substr(1) + std::string(1, '\0'), "$2y$10$" + rest.substr(1) + "\xc3"}) {
    CAPTURE(bad);
    CHECK_FALSE(BcryptCost(bad).has_value());
  }
}

TEST_CASE("rate_limit is parsed as exporter-toolkit's, and bad values are refused") {
  SUBCASE("both keys") {
    const WebConfigFile web =
        ParseWebConfig("rate_limit:\n  interval: 100ms\n  burst: 20\n", "w.yml");
    CHECK(web.rate_limit.interval == std::chrono::milliseconds(100));
    CHECK(web.rate_limit.burst == 20);
    CHECK(web.rate_limit.Enabled());
  }
  SUBCASE("absent, empty or interval 0: no limit; interval without burst: a limit of 0") {
    CHECK_FALSE(ParseWebConfig("", "w.yml").rate_limit.Enabled());
    CHECK_FALSE(ParseWebConfig("rate_limit: {}\n", "w.yml").rate_limit.Enabled());
    // exporter-toolkit's rate.NewLimiter(rate.Every(1s), 0) admits nothing.
    CHECK(ParseWebConfig("rate_limit: {interval: 1s}\n", "w.yml").rate_limit.Enabled());
    CHECK_FALSE(ParseWebConfig("rate_limit: {burst: 5}\n", "w.yml").rate_limit.Enabled());
    CHECK_FALSE(
        ParseWebConfig("rate_limit: {burst: 5, interval: 0s}\n", "w.yml").rate_limit.Enabled());
  }
  SUBCASE("bad values name the line and key") {
    CHECK(ErrorOf("rate_limit:\n  interval: fast\n") ==
          "web.yml:2: rate_limit.interval: expected a duration such as 100ms, 1s or 1m, got "
          "\"fast\"");
    CHECK(ErrorOf("rate_limit:\n  burst: -1\n").starts_with("web.yml:2: rate_limit.burst: "));
    CHECK(ErrorOf("rate_limit:\n  burst: 2000000\n").starts_with("web.yml:2: rate_limit.burst: "));
    CHECK(ErrorOf("rate_limit:\n  bursts: 2\n")
              .starts_with("web.yml:2: rate_limit.bursts: unknown key"));
    CHECK(ErrorOf("rate_limit: [1]\n").starts_with("web.yml:1: rate_limit: "));
  }
}

}  // namespace
}  // namespace exporter::config
