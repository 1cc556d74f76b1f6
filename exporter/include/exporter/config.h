#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "exporter/metrics_options.h"

// The exporter's configuration: YAML file (yaml-cpp) plus Prometheus-style flags that override it.
// Defaults need no file at all.
namespace exporter {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kLogfmt, kJson };

struct ProxyConfig {
  std::string socket = "/run/smartproxy/metrics.sock";
  std::chrono::milliseconds timeout{2000};    // > 0
  std::size_t max_body_bytes = 64 * 1024 * 1024;  // > 0
};

struct WebConfig {
  std::string listen_address = ":10190";  // [host]:port, host may be [v6]
  std::string telemetry_path = "/metrics";
  unsigned max_requests = 40;     // concurrent requests served; beyond it 503
  std::chrono::milliseconds request_timeout{10000};
  std::string config_file;        // --web.config.file (TLS/basic auth), empty: none
};

struct LogConfig {
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kLogfmt;
};

struct Config {
  ProxyConfig proxy;
  WebConfig web;
  MetricsOptions metrics;
  LogConfig log;
};

// A config or flag that cannot be used. what() names the file, line and key (or the flag).
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What the command line asked for. Values given on the command line override the file.
struct CommandLine {
  std::optional<std::string> config_file;
  bool check_config = false;
  bool show_version = false;
  bool show_help = false;
  // Flags that were given, applied over the file's values by ApplyCommandLine.
  std::optional<std::string> proxy_socket;
  std::optional<std::chrono::milliseconds> proxy_timeout;
  std::optional<std::string> web_listen_address;
  std::optional<std::string> web_telemetry_path;
  std::optional<unsigned> web_max_requests;
  std::optional<std::string> web_config_file;
  std::optional<LogLevel> log_level;
  std::optional<LogFormat> log_format;
};

// Parses argv (Prometheus style: --flag=value or --flag value). Throws ConfigError.
CommandLine ParseCommandLine(int argc, const char* const* argv);
// The --help text.
std::string CommandLineHelp();

// Parses YAML text; `source_name` is used in error messages. Throws ConfigError on unknown or
// duplicate keys, wrong types and out-of-range values.
Config ParseConfig(const std::string& yaml_text, const std::string& source_name);
// Reads and parses a file. Throws ConfigError (also when the file cannot be read).
Config LoadConfigFile(const std::string& path);
// The effective config: defaults, then the file (if any), then the flags. Throws ConfigError.
Config ResolveConfig(const CommandLine& command_line);

}  // namespace exporter
