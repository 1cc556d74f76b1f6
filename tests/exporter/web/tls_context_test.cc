#include "exporter/web/tls_context.h"

#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "exporter/config/config.h"
#include "exporter/config/web_config.h"
#include "test_pki.h"

namespace exporter::web {
namespace {

using test_support::TempDir;
using test_support::TestPki;
using test_support::WriteFile;

exporter::config::TlsServerConfig ServerConfig(const TestPki& pki) {
  exporter::config::TlsServerConfig config;
  config.cert_file = pki.server_cert;
  config.key_file = pki.server_key;
  return config;
}

// The message TlsContext::Load throws for `config`, or "" when it loads.
std::string ErrorOf(const exporter::config::TlsServerConfig& config) {
  try {
    TlsContext::Load(config, "web.yml");
  } catch (const config::ConfigError& error) {
    return error.what();
  }
  return "";
}

std::string Quoted(const std::string& path) { return exporter::config::QuoteForMessage(path); }

// One PKI for the whole file: making it runs openssl a dozen times.
struct Fixture {
  TempDir dir;
  TestPki pki{dir};
};
const Fixture& Shared() {
  static const Fixture fixture;
  return fixture;
}

TEST_CASE("TlsContext loads a certificate and key made by openssl") {
  const TestPki& pki = Shared().pki;
  SUBCASE("certificate and key") { CHECK(TlsContext::Load(ServerConfig(pki), "web.yml")); }
  SUBCASE("with a client CA, verifying") {
    exporter::config::TlsServerConfig config = ServerConfig(pki);
    config.client_ca_file = pki.ca_cert;
    config.client_auth_type = exporter::config::ClientAuthType::kRequireAndVerifyClientCert;
    CHECK(TlsContext::Load(config, "web.yml"));
  }
  SUBCASE("every setting") {
    exporter::config::TlsServerConfig config = ServerConfig(pki);
    config.client_ca_file = pki.other_ca_cert;
    config.client_auth_type = exporter::config::ClientAuthType::kVerifyClientCertIfGiven;
    config.min_version = exporter::config::TlsVersion::kTls12;
    config.max_version = exporter::config::TlsVersion::kTls13;
    config.cipher_suites = {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"};
    config.curve_preferences = {"X25519", "P-256"};
    config.prefer_server_cipher_suites = false;
    CHECK(TlsContext::Load(config, "web.yml"));
  }
  SUBCASE("the second server pair") {
    exporter::config::TlsServerConfig config;
    config.cert_file = pki.second_server_cert;
    config.key_file = pki.second_server_key;
    CHECK(TlsContext::Load(config, "web.yml"));
  }
  SUBCASE("certificate followed by its chain, and the key in the same file") {
    const TempDir dir;
    WriteFile(dir.File("chain.pem"), test_support::ReadFile(pki.server_cert) +
                                         test_support::ReadFile(pki.ca_cert) +
                                         test_support::ReadFile(pki.server_key));
    exporter::config::TlsServerConfig config;
    config.cert_file = dir.File("chain.pem");
    config.key_file = dir.File("chain.pem");
    CHECK(TlsContext::Load(config, "web.yml"));
  }
}

TEST_CASE("TlsContext refuses unreadable and wrong files with the file and the reason") {
  const TestPki& pki = Shared().pki;
  const TempDir dir;
  WriteFile(dir.File("garbage.pem"), "this is not PEM\n");
  SUBCASE("a missing certificate file") {
    exporter::config::TlsServerConfig config = ServerConfig(pki);
    config.cert_file = dir.File("missing.crt");
    CHECK(ErrorOf(config) ==
          "web.yml: tls_server_config.cert_file: " + Quoted(dir.File("missing.crt")) +
              ": cannot open: No such file or directory");
  }
  SUBCASE("a missing key file") {
    exporter::config::TlsServerConfig config = ServerConfig(pki);
    config.key_file = dir.File("missing.key");
    CHECK(ErrorOf(config) ==
          "web.yml: tls_server_config.key_file: " + Quoted(dir.File("missing.key")) +
              ": cannot open: No such file or directory");
  }
  SUBCASE("a directory as the certificate") {
    exporter::config::TlsServerConfig config = ServerConfig(pki);
    config.cert_file = dir.path();
    const std::string error = ErrorOf(config);
    CHECK(error.starts_with("web.yml: tls_server_config.cert_file: " + Quoted(dir.path()) + ": "));
  }
  SUBCASE("a file with no certificate") {
    exporter::config::TlsServerConfig config = ServerConfig(pki);
    config.cert_file = dir.File("garbage.pem");
    const std::string error = ErrorOf(config);
    CHECK(error.starts_with("web.yml: tls_server_config.cert_file: " +
                            Quoted(dir.File("garbage.pem")) + ": no PEM certificate in it ("));
    CHECK(error.ends_with(")"));
  }
  SUBCASE("a key file as the certificate") {
    exporter::config::TlsServerConfig config = ServerConfig(pki);
    config.cert_file = pki.server_key;
    CHECK(ErrorOf(config).starts_with("web.yml: tls_server_config.cert_file: " +
                                      Quoted(pki.server_key) + ": no PEM certificate in it ("));
  }
  SUBCASE("a file with no key") {
    exporter::config::TlsServerConfig config = ServerConfig(pki);
    config.key_file = pki.server_cert;
    const std::string error = ErrorOf(config);
    CHECK(error.starts_with("web.yml: tls_server_config.key_file: " + Quoted(pki.server_cert) +
                            ": no unencrypted PEM private key in it ("));
  }
  SUBCASE("a key that does not match the certificate") {
    exporter::config::TlsServerConfig config = ServerConfig(pki);
    config.key_file = pki.second_server_key;
    CHECK(ErrorOf(config) ==
          "web.yml: tls_server_config.key_file: " + Quoted(pki.second_server_key) +
              ": does not match the certificate in " + Quoted(pki.server_cert));
  }
  SUBCASE("an encrypted key is refused, never prompted for") {
    exporter::config::TlsServerConfig config = ServerConfig(pki);
    config.key_file = pki.encrypted_key;
    const std::string error = ErrorOf(config);
    CHECK(error.starts_with("web.yml: tls_server_config.key_file: " + Quoted(pki.encrypted_key) +
                            ": no unencrypted PEM private key in it ("));
    CHECK(error.ends_with(")"));
  }
  SUBCASE("a missing CA file") {
    exporter::config::TlsServerConfig config = ServerConfig(pki);
    config.client_ca_file = dir.File("missing-ca.crt");
    config.client_auth_type = exporter::config::ClientAuthType::kRequireAndVerifyClientCert;
    CHECK(ErrorOf(config) ==
          "web.yml: tls_server_config.client_ca_file: " + Quoted(dir.File("missing-ca.crt")) +
              ": cannot open: No such file or directory");
  }
  SUBCASE("a CA file with no certificate") {
    exporter::config::TlsServerConfig config = ServerConfig(pki);
    config.client_ca_file = dir.File("garbage.pem");
    config.client_auth_type = exporter::config::ClientAuthType::kRequireAndVerifyClientCert;
    const std::string error = ErrorOf(config);
    CHECK(error.starts_with("web.yml: tls_server_config.client_ca_file: " +
                            Quoted(dir.File("garbage.pem")) + ": no PEM certificate in it ("));
    CHECK(error.ends_with(")"));
  }
  SUBCASE("a CA file holding only a key") {
    exporter::config::TlsServerConfig config = ServerConfig(pki);
    config.client_ca_file = pki.client_key;
    config.client_auth_type = exporter::config::ClientAuthType::kRequireAndVerifyClientCert;
    CHECK(ErrorOf(config).starts_with("web.yml: tls_server_config.client_ca_file: " +
                                      Quoted(pki.client_key) + ": no PEM certificate in it ("));
  }
  SUBCASE("an empty CA file") {
    WriteFile(dir.File("empty.pem"), "");
    exporter::config::TlsServerConfig config = ServerConfig(pki);
    config.client_ca_file = dir.File("empty.pem");
    config.client_auth_type = exporter::config::ClientAuthType::kRequireAndVerifyClientCert;
    CHECK(ErrorOf(config).starts_with(
        "web.yml: tls_server_config.client_ca_file: " + Quoted(dir.File("empty.pem")) +
        ": no PEM certificate in it ("));
  }
}

TEST_CASE("TlsContext::Load leaves no OpenSSL error behind for the next caller") {
  const TestPki& pki = Shared().pki;
  exporter::config::TlsServerConfig config = ServerConfig(pki);
  config.key_file = pki.second_server_key;
  CHECK_FALSE(ErrorOf(config).empty());
  CHECK(ERR_peek_error() == 0);
  CHECK(TlsContext::Load(ServerConfig(pki), "web.yml"));
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("TlsContext applies its material to a connection of a fresh SSL_CTX") {
  const TestPki& pki = Shared().pki;
  const std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                              &SSL_CTX_free);
  REQUIRE(ctx);
  TlsContext::PrepareListenerContext(ctx.get());
  const auto apply = [&](const exporter::config::TlsServerConfig& config) {
    const std::shared_ptr<const TlsContext> tls = TlsContext::Load(config, "web.yml");
    const std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), &SSL_free);
    REQUIRE(ssl);
    CHECK(tls->ApplyTo(ssl.get()));
    return SSL_get_verify_mode(ssl.get());
  };
  SUBCASE("no client certificates") { CHECK(apply(ServerConfig(pki)) == SSL_VERIFY_NONE); }
  SUBCASE("verified client certificates") {
    exporter::config::TlsServerConfig config = ServerConfig(pki);
    config.client_ca_file = pki.ca_cert;
    config.client_auth_type = exporter::config::ClientAuthType::kRequireAndVerifyClientCert;
    CHECK(apply(config) == (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT));
  }
  SUBCASE("any client certificate") {
    exporter::config::TlsServerConfig config = ServerConfig(pki);
    config.client_auth_type = exporter::config::ClientAuthType::kRequestClientCert;
    CHECK(apply(config) == SSL_VERIFY_PEER);
  }
}

}  // namespace
}  // namespace exporter::web
