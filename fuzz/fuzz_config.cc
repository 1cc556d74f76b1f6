// YAML bytes → ParseConfig (and ValidateConfig on success): ConfigError is the only exception
// allowed out; anything else escaping is a bug that libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "exporter/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string yaml_text(reinterpret_cast<const char*>(data), size);
  try {
    const exporter::config::Config config = exporter::config::ParseConfig(yaml_text, "fuzz.yml");
    exporter::config::ValidateConfig(config);
  } catch (const exporter::config::ConfigError&) {
  }
  return 0;
}
