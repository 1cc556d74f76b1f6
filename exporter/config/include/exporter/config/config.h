#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/conversion/metrics_options.h"
#include "exporter/log/log.h"
#include "proxy_client/defaults.h"

// The exporter's configuration: YAML file (yaml-cpp) plus Prometheus-style flags that override it.
// Defaults need no file at all.
namespace exporter::config {

struct ProxyConfig {
  std::string socket{proxy_client::kDefaultSocketPath};
  std::chrono::milliseconds timeout = proxy_client::kDefaultFetchTimeout;  // > 0
  std::size_t max_body_bytes = proxy_client::kDefaultMaxBodyBytes;         // > 0
};

inline constexpr unsigned kMaxRequestsLimit = 1000;
inline constexpr unsigned kMaxConnectionsLimit = 10000;

// The web defaults, here once: the HTTP server's options start from them too.
inline constexpr std::string_view kDefaultListenAddress = ":10190";
inline constexpr std::string_view kDefaultTelemetryPath = "/metrics";
inline constexpr unsigned kDefaultMaxRequests = 40;
inline constexpr std::chrono::milliseconds kDefaultRequestTimeout{5000};
inline constexpr unsigned kDefaultMaxConnections = 256;

struct WebConfig {
  // [host]:port each, host may be [v6]; every one is served. The file gives one (a string);
  // --web.listen-address, repeatable, replaces it with every address it was given.
  std::vector<std::string> listen_addresses{std::string(kDefaultListenAddress)};
  // --web.systemd-socket: serve the sockets systemd passes instead of listen_addresses. Flag
  // only, as in exporter-toolkit.
  bool systemd_socket = false;
  std::string telemetry_path{kDefaultTelemetryPath};
  // Concurrent requests served; beyond it 503; 1..kMaxRequestsLimit.
  unsigned max_requests = kDefaultMaxRequests;
  // Time allowed to receive a request's headers, and for each socket read or write. An idle or
  // trickling client holds a worker thread this long, so keep it short. > 0
  std::chrono::milliseconds request_timeout = kDefaultRequestTimeout;
  // Connections served at once, each on its own civetweb thread: idle and trickling clients up
  // to this many cannot delay a scrape. Must exceed max_requests. Each idle thread costs a few
  // tens of KiB of memory.
  unsigned max_connections = kDefaultMaxConnections;
  // exporter-toolkit web config (TLS, basic auth, headers); empty: plain HTTP. Flag only, as in
  // every exporter that reads this file.
  std::string config_file;
  // With basic auth on, let /-/healthy and /-/ready answer without credentials (kubelet probes).
  bool health_endpoints_without_auth = false;
  // --web.disable-exporter-metrics (flag only, as in node_exporter): serve no process_* and no
  // smartproxy_exporter_* family but smartproxy_exporter_build_info.
  bool disable_exporter_metrics = false;
};

struct LogConfig {
  log::LogLevel level = log::LogLevel::kInfo;
  log::LogFormat format = log::LogFormat::kLogfmt;
};

struct Config {
  ProxyConfig proxy;
  WebConfig web;
  conversion::MetricsOptions metrics;
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
  std::vector<std::string> web_listen_addresses;  // in the order given; empty: not given
  std::optional<std::string> web_telemetry_path;
  std::optional<unsigned> web_max_requests;
  std::optional<unsigned> web_max_connections;
  std::optional<std::string> web_config_file;
  bool web_health_endpoints_without_auth = false;
  bool web_disable_exporter_metrics = false;
  bool web_systemd_socket = false;
  std::optional<log::LogLevel> log_level;
  std::optional<log::LogFormat> log_format;
};

// Applies the flags that were given over `config` (no validation: see ValidateConfig).
void ApplyCommandLine(const CommandLine& command_line, Config& config);

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
// Checks every rule below on a complete config; throws ConfigError naming the first bad key.
void ValidateConfig(const Config& config);

// A listen address split into its parts: ":10190", "0.0.0.0:10190", "[::1]:10190",
// "localhost:10190". Nothing when it does not parse (missing or bad port, bad host).
struct ListenAddress {
  std::string host;        // empty: every interface; an IPv6 literal is stored without brackets
  std::uint16_t port = 0;  // 0: any free port
};
std::optional<ListenAddress> ParseListenAddress(std::string_view text);

// Prometheus durations: "500ms", "2s", "1m30s", "0"; units y w d h m s ms, each at most once and
// in that order (y = 365d). Nothing on bad syntax, a sign, a fraction or overflow.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);
// The inverse of ParseDuration: 90000ms → "1m30s", 0 → "0s".
std::string FormatDuration(std::chrono::milliseconds duration);
// Byte sizes: "67108864", "64MiB", "100MB", "512B" (KiB/MiB/GiB = 1024^n, KB/MB/GB = 1000^n).
// Nothing on bad syntax or overflow.
std::optional<std::size_t> ParseByteSize(std::string_view text);

// Rules for single values, shared by the file and the flags. Each returns the value or throws a
// ConfigError whose what() is only the problem (`must be greater than 0, got 0s`); the caller adds
// where the value came from (`file:line: key: ` or `--flag: `).
std::chrono::milliseconds ParseTimeoutValue(std::string_view text);  // a duration > 0
std::size_t ParseByteSizeValue(std::string_view text);               // a size > 0
unsigned ParseUnsignedValue(std::string_view text, unsigned min, unsigned max);
void CheckRange(unsigned value, unsigned min, unsigned max);
void CheckTimeout(std::chrono::milliseconds timeout);
void CheckProxySocket(std::string_view path);       // non-empty, fits a Unix socket address
void CheckListenAddress(std::string_view address);  // ParseListenAddress accepts it
// No address twice (after "localhost" → "127.0.0.1"; port 0 may repeat): each is bound once.
void CheckDistinctListenAddresses(const std::vector<std::string>& addresses);
void CheckTelemetryPath(std::string_view path);  // "/x...", not "/", "/-/healthy", "/-/ready"
void CheckMetricNamespace(std::string_view metric_namespace);  // [a-zA-Z_][a-zA-Z0-9_]*
// `text` in double quotes with quotes, backslashes and control characters escaped, so an error
// message stays one line whatever the input was.
std::string QuoteForMessage(std::string_view text);

}  // namespace exporter::config
