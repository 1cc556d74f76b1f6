// YAML bytes → ParseWebConfig, then BuildWebSecurity when that cannot touch the file system or
// run bcrypt: ConfigError is the only exception allowed out; anything else escaping is a bug that
// libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "exporter/config/config.h"
#include "exporter/config/web_config.h"
#include "exporter/web/web_security.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string yaml_text(reinterpret_cast<const char*>(data), size);
  try {
    const exporter::config::WebConfigFile web =
        exporter::config::ParseWebConfig(yaml_text, "/etc/fuzz/web.yml");
    // With TLS, Build would open the files the input names; with users, it would run bcrypt at
    // the input's cost (seconds each at cost 12 and up), so both stay out of the loop.
    if (!web.tls && web.basic_auth_users.empty()) {
      const auto security = exporter::web::BuildWebSecurity(web);
      if (security == nullptr || security->tls != nullptr || security->RequiresAuth() ||
          security->headers != web.headers) {
        std::abort();
      }
    }
  } catch (const exporter::config::ConfigError&) {
  }
  return 0;
}
