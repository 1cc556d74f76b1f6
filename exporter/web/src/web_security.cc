#include "exporter/web/web_security.h"

namespace exporter::web {

std::shared_ptr<const WebSecurity> BuildWebSecurity(const config::WebConfigFile& web_config) {
  auto security = std::make_shared<WebSecurity>();
  security->source = web_config.source;
  if (web_config.tls) security->tls = TlsContext::Load(*web_config.tls, web_config.source);
  if (!web_config.basic_auth_users.empty()) {
    security->auth = std::make_shared<BasicAuthenticator>(web_config.basic_auth_users);
  }
  security->headers = web_config.headers;
  if (web_config.rate_limit.Enabled()) {
    security->rate_limiter = std::make_shared<RateLimiter>(web_config.rate_limit);
  }
  return security;
}

std::shared_ptr<const WebSecurity> LoadWebSecurity(const std::string& path) {
  if (path.empty()) return std::make_shared<WebSecurity>();
  return BuildWebSecurity(config::LoadWebConfigFile(path));
}

}  // namespace exporter::web
