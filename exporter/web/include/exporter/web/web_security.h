#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "exporter/config/web_config.h"
#include "exporter/web/basic_auth.h"
#include "exporter/web/rate_limiter.h"
#include "exporter/web/tls_context.h"

// What a web config file turns into for the HTTP server: TLS material, the authenticator, the
// response headers and the rate limiter, built together so that a reload swaps all of them at once.
namespace exporter::web {

struct WebSecurity {
  std::string source;                                        // the web config file; empty: none
  std::shared_ptr<const TlsContext> tls;                     // null: plain HTTP
  std::shared_ptr<const BasicAuthenticator> auth;            // null: no authentication
  std::vector<std::pair<std::string, std::string>> headers;  // added to every response
  // The web config's rate_limit over every request; null: none. A reload starts a full bucket.
  std::shared_ptr<RateLimiter> rate_limiter;

  bool RequiresAuth() const { return auth != nullptr && auth->Enabled(); }
};

// Loads the certificates and keys the file names and prepares the authenticator. Throws
// ConfigError naming the file and key.
std::shared_ptr<const WebSecurity> BuildWebSecurity(const config::WebConfigFile& web_config);

// Reads, parses and builds in one step; an empty path means no web config (plain HTTP, no auth).
std::shared_ptr<const WebSecurity> LoadWebSecurity(const std::string& path);

}  // namespace exporter::web
