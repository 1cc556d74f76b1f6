#include "exporter/config/web_config.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "exporter/config/config.h"
#include "exporter/strings/ascii.h"
#include "yaml_reader.h"

namespace exporter::config {
namespace {

using Entry = YamlReader::Entry;

struct NamedValue {
  std::string_view name;
  std::string_view value;
};

// Go's crypto/tls names (what exporter-toolkit accepts) → OpenSSL's names. TLS 1.3 suites are
// not configurable in Go either.
constexpr std::array<NamedValue, 16> kCipherSuites = {{
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305"},
}};

constexpr std::array<NamedValue, 4> kCurves = {{
    {"CurveP256", "P-256"},
    {"CurveP384", "P-384"},
    {"CurveP521", "P-521"},
    {"X25519", "X25519"},
}};

constexpr std::array<NamedValue, 5> kClientAuthTypes = {{
    {"NoClientCert", ""},
    {"RequestClientCert", ""},
    {"RequireAnyClientCert", ""},
    {"VerifyClientCertIfGiven", ""},
    {"RequireAndVerifyClientCert", ""},
}};

constexpr std::array<std::string_view, 4> kTlsVersionNames = {"TLS10", "TLS11", "TLS12", "TLS13"};

// The response headers exporter-toolkit lets a web config set; anything else is refused there
// and here, so one file means the same thing to both.
constexpr std::array<std::string_view, 5> kAllowedHeaders = {
    "Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "X-XSS-Protection",
    "Content-Security-Policy"};

std::string KnownNames(auto const& table) {
  std::string names;
  for (const auto& entry : table) {
    if (!names.empty()) names += ", ";
    if constexpr (std::is_same_v<std::decay_t<decltype(entry)>, NamedValue>) {
      names += entry.name;
    } else {
      names += entry;
    }
  }
  return names;
}

std::string ResolveAgainst(const std::string& source, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  const std::size_t slash = source.rfind('/');
  if (slash == std::string::npos) return path;
  return source.substr(0, slash + 1) + path;
}

// A bucket larger than this is no limit in practice; bounded so the count stays exact.
constexpr unsigned kMaxBurst = 1000000;

class WebConfigReader {
 public:
  explicit WebConfigReader(std::string source) : reader_(source), source_(std::move(source)) {}

  WebConfigFile Read(const std::string& yaml_text) {
    WebConfigFile web;
    web.source = source_;
    reader_.ReadDocument(yaml_text, [&](const YAML::Node& root) {
      if (!root.IsMap()) {
        reader_.Fail(root.Mark().line, "",
                     "the top level must be a map with tls_server_config, http_server_config, "
                     "basic_auth_users, rate_limit; got " +
                         Describe(root));
      }
      reader_.ReadMap(root, root.Mark().line, "",
                      {
                          {"tls_server_config", [&](const Entry& e) { ReadTls(e, web); }},
                          {"http_server_config", [&](const Entry& e) { ReadHttp(e, web); }},
                          {"basic_auth_users", [&](const Entry& e) { ReadUsers(e, web); }},
                          {"rate_limit", [&](const Entry& e) { ReadRateLimit(e, web); }},
                      });
    });
    return web;
  }

 private:
  [[noreturn]] void Fail(const Entry& e, std::string_view problem) const {
    reader_.Fail(YamlReader::LineOf(e), e.path, problem);
  }

  std::string FilePath(const Entry& e) const {
    const std::string text = reader_.String(e);
    if (text.find('\0') != std::string::npos) Fail(e, "must not contain a NUL byte");
    return ResolveAgainst(source_, text);
  }

  // A YAML list of strings, each looked up in `table`.
  std::vector<std::string> NameList(const Entry& e, auto const& table,
                                    std::string_view what) const {
    std::vector<std::string> values;
    if (e.value.IsNull()) return values;
    if (!e.value.IsSequence())
      Fail(e, "expected a list of " + std::string(what) + ", got " + Describe(e.value));
    for (auto it = e.value.begin(); it != e.value.end(); ++it) {
      const YAML::Node item = *it;
      const int line = item.Mark().line;
      if (!item.IsScalar()) {
        reader_.Fail(
            line, e.path,
            "expected a list of " + std::string(what) + ", got " + Describe(item) + " in it");
      }
      const auto found = std::find_if(table.begin(), table.end(),
                                      [&](const NamedValue& n) { return n.name == item.Scalar(); });
      if (found == table.end()) {
        reader_.Fail(line, e.path,
                     "unsupported " + std::string(what) + " " + QuoteForMessage(item.Scalar()) +
                         " (supported: " + KnownNames(table) + ")");
      }
      values.emplace_back(found->value);
    }
    return values;
  }

  TlsVersion Version(const Entry& e) const {
    const std::string text = reader_.String(e);
    for (std::size_t i = 0; i < kTlsVersionNames.size(); ++i) {
      if (text == kTlsVersionNames[i]) return static_cast<TlsVersion>(i);
    }
    Fail(e, "must be one of " + KnownNames(kTlsVersionNames) + ", got " + QuoteForMessage(text));
  }

  void ReadTls(const Entry& section, WebConfigFile& web) {
    TlsServerConfig tls;
    bool client_auth_given = false;
    // Rules about the section as a whole are reported at its key, not at its first entry.
    const int section_line = section.key.Mark().line;
    const auto unsupported = [&](std::string_view instead) {
      return [this, instead](const Entry& e) {
        Fail(e, "not supported by smartproxy_exporter; " + std::string(instead));
      };
    };
    reader_.ReadSection(
        section,
        {
            {"cert_file", [&](const Entry& e) { tls.cert_file = FilePath(e); }},
            {"key_file", [&](const Entry& e) { tls.key_file = FilePath(e); }},
            {"client_ca_file", [&](const Entry& e) { tls.client_ca_file = FilePath(e); }},
            {"client_auth_type",
             [&](const Entry& e) {
               const std::string text = reader_.String(e);
               const auto found = std::find_if(kClientAuthTypes.begin(), kClientAuthTypes.end(),
                                               [&](const NamedValue& n) { return n.name == text; });
               if (found == kClientAuthTypes.end()) {
                 Fail(e, "must be one of " + KnownNames(kClientAuthTypes) + ", got " +
                             QuoteForMessage(text));
               }
               tls.client_auth_type = static_cast<ClientAuthType>(found - kClientAuthTypes.begin());
               client_auth_given = true;
             }},
            {"min_version", [&](const Entry& e) { tls.min_version = Version(e); }},
            {"max_version", [&](const Entry& e) { tls.max_version = Version(e); }},
            {"cipher_suites",
             [&](const Entry& e) {
               tls.cipher_suites = NameList(e, kCipherSuites, "cipher suite");
             }},
            {"curve_preferences",
             [&](const Entry& e) { tls.curve_preferences = NameList(e, kCurves, "curve"); }},
            {"prefer_server_cipher_suites",
             [&](const Entry& e) { tls.prefer_server_cipher_suites = reader_.Bool(e); }},
            // Known to exporter-toolkit, refused here rather than ignored.
            {"client_allowed_sans",
             unsupported("restrict clients by the CA in client_ca_file instead")},
            {"cert", unsupported("put the certificate in a file and use cert_file")},
            {"key", unsupported("put the key in a file and use key_file")},
            {"client_ca", unsupported("put the CA in a file and use client_ca_file")},
        });
    const bool empty = tls.cert_file.empty() && tls.key_file.empty() &&
                       tls.client_ca_file.empty() && !client_auth_given;
    if (empty) return;  // as exporter-toolkit: an empty section serves plain HTTP
    const auto fail_section = [&](std::string_view problem) {
      reader_.Fail(section_line, section.path, problem);
    };
    if (tls.cert_file.empty()) fail_section("cert_file is required (with key_file)");
    if (tls.key_file.empty()) fail_section("key_file is required (with cert_file)");
    // exporter-toolkit's rules: a CA alone means verified client certificates; a CA with a
    // policy that ignores it, or a verifying policy without a CA, is a mistake.
    const bool verifies = tls.client_auth_type == ClientAuthType::kVerifyClientCertIfGiven ||
                          tls.client_auth_type == ClientAuthType::kRequireAndVerifyClientCert;
    if (!tls.client_ca_file.empty() && !client_auth_given) {
      tls.client_auth_type = ClientAuthType::kRequireAndVerifyClientCert;
    } else if (!tls.client_ca_file.empty() && !verifies) {
      fail_section(
          "client_ca_file is set but client_auth_type " +
          std::string(kClientAuthTypes[static_cast<std::size_t>(tls.client_auth_type)].name) +
          " does not verify client certificates");
    } else if (tls.client_ca_file.empty() && verifies) {
      fail_section(
          "client_auth_type " +
          std::string(kClientAuthTypes[static_cast<std::size_t>(tls.client_auth_type)].name) +
          " needs client_ca_file");
    }
    if (tls.max_version && *tls.max_version < tls.min_version) {
      fail_section("max_version " + std::string(TlsVersionName(*tls.max_version)) +
                   " is below min_version " + std::string(TlsVersionName(tls.min_version)));
    }
    web.tls = std::move(tls);
  }

  void ReadRateLimit(const Entry& section, WebConfigFile& web) {
    reader_.ReadSection(
        section,
        {
            {"interval",
             [&](const Entry& e) {
               const std::string& text = reader_.Scalar(e, "a duration");
               const std::optional<std::chrono::milliseconds> interval = ParseDuration(text);
               if (!interval) {
                 Fail(e,
                      "expected a duration such as 100ms, 1s or 1m, got " + QuoteForMessage(text));
               }
               web.rate_limit.interval = *interval;
             }},
            {"burst",
             [&](const Entry& e) { web.rate_limit.burst = reader_.Unsigned(e, 0, kMaxBurst); }},
        });
  }

  void ReadHttp(const Entry& section, WebConfigFile& web) {
    reader_.ReadSection(section,
                        {
                            // HTTP/2 is negotiated by ALPN; civetweb serves HTTP/1.1 only and does
                            // not offer h2, so clients use HTTP/1.1 whatever this says.
                            {"http2", [&](const Entry& e) { reader_.Bool(e); }},
                            {"headers", [&](const Entry& e) { ReadHeaders(e, web); }},
                        });
  }

  void ReadHeaders(const Entry& section, WebConfigFile& web) {
    if (section.value.IsNull()) return;
    if (!section.value.IsMap())
      Fail(section, "expected a map of header: value, got " + Describe(section.value));
    for (auto it = section.value.begin(); it != section.value.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      const int line = key.Mark().line;
      if (!key.IsScalar())
        reader_.Fail(line, section.path, "expected a header name, got " + Describe(key));
      const std::string& name = key.Scalar();
      const std::string path = section.path + "." + PathSegment(name);
      const auto allowed =
          std::find_if(kAllowedHeaders.begin(), kAllowedHeaders.end(),
                       [&](std::string_view h) { return strings::EqualsIgnoreCase(h, name); });
      if (allowed == kAllowedHeaders.end()) {
        reader_.Fail(line, path,
                     "header not allowed (allowed: " + KnownNames(kAllowedHeaders) + ")");
      }
      for (const auto& [seen, unused] : web.headers) {
        if (strings::EqualsIgnoreCase(seen, name)) reader_.Fail(line, path, "duplicate header");
      }
      if (!value.IsScalar()) reader_.Fail(line, path, "expected a string, got " + Describe(value));
      const std::string& text = value.Scalar();
      const bool printable = std::all_of(text.begin(), text.end(), [](char c) {
        return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
      });
      if (text.empty() || !printable) {
        reader_.Fail(
            line, path,
            "must be a non-empty value without control characters, got " + QuoteForMessage(text));
      }
      if (*allowed == "X-Content-Type-Options" && text != "nosniff") {
        reader_.Fail(line, path, "must be nosniff, got " + QuoteForMessage(text));
      }
      if (*allowed == "X-Frame-Options" && !strings::EqualsIgnoreCase(text, "deny") &&
          !strings::EqualsIgnoreCase(text, "sameorigin")) {
        reader_.Fail(line, path, "must be deny or sameorigin, got " + QuoteForMessage(text));
      }
      web.headers.emplace_back(std::string(*allowed), text);
    }
  }

  void ReadUsers(const Entry& section, WebConfigFile& web) {
    if (section.value.IsNull()) return;
    // A scalar here is likely a user line missing its colon: never quote it, it holds a hash.
    if (!section.value.IsMap()) {
      Fail(section, "expected a map of user: bcrypt hash, got " +
                        (section.value.IsScalar() ? std::string("a string (not shown)")
                                                  : Describe(section.value)));
    }
    for (auto it = section.value.begin(); it != section.value.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      const int line = key.Mark().line;
      if (!key.IsScalar())
        reader_.Fail(line, section.path, "expected a user name, got " + Describe(key));
      const std::string& name = key.Scalar();
      const std::string path = section.path + "." + PathSegment(name);
      // Basic authentication splits user and password at the first ':'.
      if (name.empty() || name.find(':') != std::string::npos ||
          name.find('\0') != std::string::npos) {
        reader_.Fail(line, path, "a user name must be non-empty, without ':' or NUL");
      }
      for (const BasicAuthUser& seen : web.basic_auth_users) {
        if (seen.name == name) reader_.Fail(line, path, "duplicate user");
      }
      if (!value.IsScalar())
        reader_.Fail(line, path, "expected a bcrypt hash, got " + Describe(value));
      // Never quote the hash back: it would put it into logs.
      if (!BcryptCost(value.Scalar())) {
        reader_.Fail(line, path,
                     "expected a bcrypt hash ($2y$, $2b$ or $2a$, cost 4 to 31, 60 characters), "
                     "e.g. from `htpasswd -nBC 10 \"\" | tr -d ':'`");
      }
      web.basic_auth_users.push_back({name, value.Scalar()});
    }
  }

  YamlReader reader_;
  std::string source_;
};

}  // namespace

std::optional<unsigned> BcryptCost(std::string_view hash) {
  // $2y$10$ + 22 characters of salt + 31 of hash, in bcrypt's base64 alphabet.
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') {
    return std::nullopt;
  }
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return std::nullopt;
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') return std::nullopt;
  const auto cost = static_cast<unsigned>((hash[4] - '0') * 10 + (hash[5] - '0'));
  if (cost < 4 || cost > 31) return std::nullopt;
  const bool alphabet = std::all_of(hash.begin() + 7, hash.end(), [](char c) {
    return c == '.' || c == '/' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9');
  });
  if (!alphabet) return std::nullopt;
  return cost;
}

std::string_view TlsVersionName(TlsVersion version) {
  return kTlsVersionNames[static_cast<std::size_t>(version)];
}

WebConfigFile ParseWebConfig(const std::string& yaml_text, const std::string& source_name) {
  return WebConfigReader(source_name).Read(yaml_text);
}

WebConfigFile LoadWebConfigFile(const std::string& path) {
  return ParseWebConfig(ReadConfigFile(path, "web config file"), path);
}

}  // namespace exporter::config
