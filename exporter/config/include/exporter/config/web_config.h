#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// The web configuration file of --web.config.file, in the format of Prometheus' exporter-toolkit
// (the file node_exporter, haproxy_exporter and Prometheus itself read), so one file serves all:
//
//   tls_server_config:
//     cert_file: server.crt          # relative paths are relative to this file
//     key_file: server.key
//     client_auth_type: RequireAndVerifyClientCert
//     client_ca_file: ca.crt
//     min_version: TLS12
//   http_server_config:
//     headers:
//       Strict-Transport-Security: max-age=31536000
//   basic_auth_users:
//     prometheus: $2y$10$...         # bcrypt
//   rate_limit:                      # a token bucket over every request; beyond it 429
//     interval: 100ms                # one token per interval; 0: no limit
//     burst: 20                      # bucket size; 0: no limit
//
// Parsing checks the syntax and every value; loading the certificates is TlsContext's job.
namespace exporter::config {

// Go's tls.ClientAuthType names, as exporter-toolkit spells them.
enum class ClientAuthType {
  kNoClientCert,
  kRequestClientCert,
  kRequireAnyClientCert,
  kVerifyClientCertIfGiven,
  kRequireAndVerifyClientCert,
};

enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };

struct TlsServerConfig {
  std::string cert_file;  // absolute, or resolved against the web config file's directory
  std::string key_file;
  ClientAuthType client_auth_type = ClientAuthType::kNoClientCert;
  std::string client_ca_file;  // empty: none
  TlsVersion min_version = TlsVersion::kTls12;
  std::optional<TlsVersion> max_version;
  std::vector<std::string> cipher_suites;      // OpenSSL names, TLS 1.2 and below; empty: default
  std::vector<std::string> curve_preferences;  // OpenSSL group names; empty: default
  bool prefer_server_cipher_suites = true;
};

struct BasicAuthUser {
  std::string name;
  std::string bcrypt_hash;  // "$2y$10$..." (also $2a$, $2b$)
};

// exporter-toolkit's rate_limit (golang.org/x/time/rate): `burst` requests at once, then one
// more per `interval`. On whenever interval is not 0, as in exporter-toolkit (web/tls_config.go
// builds rate.NewLimiter(rate.Every(interval), burst) then); with burst 0 such a limiter admits
// nothing, so every request is refused, here as there.
struct RateLimit {
  std::chrono::milliseconds interval{0};  // >= 0
  unsigned burst = 0;

  bool Enabled() const { return interval.count() > 0; }
};

struct WebConfigFile {
  std::string source;                                        // the file's path, for messages
  std::optional<TlsServerConfig> tls;                        // nothing: plain HTTP
  std::vector<std::pair<std::string, std::string>> headers;  // added to every response
  std::vector<BasicAuthUser> basic_auth_users;               // empty: no authentication
  RateLimit rate_limit;                                      // default: off
};

// Parses the YAML text of a web config. `source_name` is used in messages and its directory
// resolves relative file paths. Throws ConfigError naming the file, line and key: unknown and
// duplicate keys, wrong types, bad values, a cert without a key, a malformed bcrypt hash.
WebConfigFile ParseWebConfig(const std::string& yaml_text, const std::string& source_name);
// Reads and parses a file. Throws ConfigError (also when the file cannot be read).
WebConfigFile LoadWebConfigFile(const std::string& path);

// The cost factor of a well-formed bcrypt hash ("$2y$10$..." → 10); nothing when malformed.
std::optional<unsigned> BcryptCost(std::string_view hash);

std::string_view TlsVersionName(TlsVersion version);

}  // namespace exporter::config
