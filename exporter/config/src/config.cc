#include "exporter/config/config.h"

#include <arpa/inet.h>
#include <sys/un.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "exporter/conversion/metric_names.h"
#include "exporter/log/log.h"
#include "yaml_reader.h"

namespace exporter::config {
namespace {

using std::chrono::milliseconds;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Leading decimal digits of `text` as an unsigned 64-bit value; nothing when there are none or
// they overflow. `pos` moves past the digits.
std::optional<std::uint64_t> ReadDigits(std::string_view text, std::size_t& pos) {
  const std::size_t start = pos;
  std::uint64_t value = 0;
  for (; pos < text.size() && IsDigit(text[pos]); ++pos) {
    const auto digit = static_cast<std::uint64_t>(text[pos] - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (pos == start) return std::nullopt;
  return value;
}

bool IsHostname(std::string_view host) {
  // RFC 1123 labels: letters, digits and hyphens, 1..63 characters, no hyphen at either end.
  if (host.empty() || host.size() > 253) return false;
  std::size_t label_start = 0;
  for (std::size_t pos = 0; pos <= host.size(); ++pos) {
    if (pos == host.size() || host[pos] == '.') {
      const std::string_view label = host.substr(label_start, pos - label_start);
      if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
        return false;
      }
      label_start = pos + 1;
    } else if (!IsAlpha(host[pos]) && !IsDigit(host[pos]) && host[pos] != '-') {
      return false;
    }
  }
  return true;
}

[[noreturn]] void Problem(const std::string& problem) { throw ConfigError(problem); }

constexpr unsigned kAnyUnsigned = std::numeric_limits<unsigned>::max();

std::optional<conversion::IpAnonymization> ParseAnonymization(std::string_view text) {
  if (text == "none") return conversion::IpAnonymization::kNone;
  if (text == "prefix") return conversion::IpAnonymization::kPrefix;
  return std::nullopt;
}

// One function per section, each listing its keys; the key names are the file's schema.
using Entry = YamlReader::Entry;

void ReadProxy(const YamlReader& reader, const Entry& section, ProxyConfig& proxy) {
  reader.ReadSection(
      section,
      {
          {"socket",
           [&](const Entry& e) { proxy.socket = reader.CheckedString(e, CheckProxySocket); }},
          {"timeout", [&](const Entry& e) { proxy.timeout = reader.Timeout(e); }},
          {"max_body_size", [&](const Entry& e) { proxy.max_body_bytes = reader.ByteSize(e); }},
      });
}

void ReadWeb(const YamlReader& reader, const Entry& section, WebConfig& web) {
  reader.ReadSection(
      section,
      {
          {"listen_address",
           [&](const Entry& e) {
             web.listen_addresses = {reader.CheckedString(e, CheckListenAddress)};
           }},
          {"telemetry_path",
           [&](const Entry& e) {
             web.telemetry_path = reader.CheckedString(e, CheckTelemetryPath);
           }},
          {"max_requests",
           [&](const Entry& e) { web.max_requests = reader.Unsigned(e, 1, kMaxRequestsLimit); }},
          {"request_timeout", [&](const Entry& e) { web.request_timeout = reader.Timeout(e); }},
          {"max_connections",
           [&](const Entry& e) {
             web.max_connections = reader.Unsigned(e, 2, kMaxConnectionsLimit);
           }},
          {"health_endpoints_without_auth",
           [&](const Entry& e) { web.health_endpoints_without_auth = reader.Bool(e); }},
          {"config_file",
           [&](const Entry& e) {
             reader.Fail(YamlReader::LineOf(e), e.path,
                         "the web config file is given with --web.config.file, as in every "
                         "exporter that reads one");
           }},
      });
}

void ReadIps(const YamlReader& reader, const Entry& section, conversion::IpOptions& ips) {
  reader.ReadSection(
      section,
      {
          {"top", [&](const Entry& e) { ips.top = reader.Unsigned(e, 0, kAnyUnsigned); }},
          {"anonymize",
           [&](const Entry& e) {
             ips.anonymize = reader.Choice(e, ParseAnonymization, "none, prefix");
           }},
          {"ipv4_prefix", [&](const Entry& e) { ips.ipv4_prefix = reader.Unsigned(e, 0, 32); }},
          {"ipv6_prefix", [&](const Entry& e) { ips.ipv6_prefix = reader.Unsigned(e, 0, 128); }},
      });
}

// A section whose one key is a series limit (routes.max, backends.max, domains.top): any
// unsigned, 0 folding everything into "other".
void ReadLimit(const YamlReader& reader, const Entry& section, std::string_view key,
               unsigned& limit) {
  reader.ReadSection(section,
                     {{key, [&](const Entry& e) { limit = reader.Unsigned(e, 0, kAnyUnsigned); }}});
}

void ReadMetrics(const YamlReader& reader, const Entry& section,
                 conversion::MetricsOptions& metrics) {
  reader.ReadSection(
      section,
      {
          {"namespace",
           [&](const Entry& e) {
             metrics.metric_namespace = reader.CheckedString(e, CheckMetricNamespace);
           }},
          {"ips", [&](const Entry& e) { ReadIps(reader, e, metrics.ips); }},
          {"routes", [&](const Entry& e) { ReadLimit(reader, e, "max", metrics.routes.max); }},
          {"backends", [&](const Entry& e) { ReadLimit(reader, e, "max", metrics.backends.max); }},
          {"domains", [&](const Entry& e) { ReadLimit(reader, e, "top", metrics.domains.top); }},
      });
}

void ReadLog(const YamlReader& reader, const Entry& section, LogConfig& log) {
  reader.ReadSection(
      section, {
                   {"level",
                    [&](const Entry& e) {
                      log.level = reader.Choice(e, log::ParseLogLevel, "debug, info, warn, error");
                    }},
                   {"format",
                    [&](const Entry& e) {
                      log.format = reader.Choice(e, log::ParseLogFormat, "logfmt, json");
                    }},
               });
}

void ReadConfig(const YamlReader& reader, const YAML::Node& root, Config& config) {
  reader.ReadMap(root, root.Mark().line, "",
                 {
                     {"proxy", [&](const Entry& e) { ReadProxy(reader, e, config.proxy); }},
                     {"web", [&](const Entry& e) { ReadWeb(reader, e, config.web); }},
                     {"metrics", [&](const Entry& e) { ReadMetrics(reader, e, config.metrics); }},
                     {"log", [&](const Entry& e) { ReadLog(reader, e, config.log); }},
                 });
}

// Prefixes a bare value-rule error with the key it concerns.
template <typename Check>
void ValidateAt(std::string_view path, Check check) {
  try {
    check();
  } catch (const ConfigError& error) {
    throw ConfigError("invalid configuration: " + std::string(path) + ": " + error.what());
  }
}

}  // namespace

std::string QuoteForMessage(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string quoted = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (c == '\n') {
      quoted += "\\n";
    } else if (c == '\t') {
      quoted += "\\t";
    } else if (byte < 0x20 || byte == 0x7F) {
      quoted += "\\x";
      quoted += kHex[byte >> 4];
      quoted += kHex[byte & 0xF];
    } else {
      quoted += c;
    }
  }
  quoted += '"';
  return quoted;
}

std::optional<ListenAddress> ParseListenAddress(std::string_view text) {
  ListenAddress address;
  std::string_view port;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    address.host = std::string(text.substr(1, close - 1));
    in6_addr ipv6{};
    if (inet_pton(AF_INET6, address.host.c_str(), &ipv6) != 1) return std::nullopt;
    port = text.substr(close + 2);
  } else {
    // Exactly one colon: a bare IPv6 literal is ambiguous and needs brackets, as in Go.
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos) {
      return std::nullopt;
    }
    address.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (!address.host.empty()) {
      const bool looks_numeric = std::all_of(address.host.begin(), address.host.end(),
                                             [](char c) { return IsDigit(c) || c == '.'; });
      in_addr ipv4{};
      if (looks_numeric ? inet_pton(AF_INET, address.host.c_str(), &ipv4) != 1
                        : !IsHostname(address.host)) {
        return std::nullopt;
      }
    }
  }
  std::size_t pos = 0;
  const std::optional<std::uint64_t> number = ReadDigits(port, pos);
  if (!number || pos != port.size() || port.size() > 5 || *number > 65535) return std::nullopt;
  address.port = static_cast<std::uint16_t>(*number);
  return address;
}

std::optional<milliseconds> ParseDuration(std::string_view text) {
  // As Prometheus's model.ParseDuration: github.com/prometheus/common/blob/main/model/time.go
  struct Unit {
    std::string_view name;
    std::int64_t millis;
  };
  static constexpr std::array<Unit, 7> kUnits{{{"y", 365LL * 24 * 3600 * 1000},
                                               {"w", 7LL * 24 * 3600 * 1000},
                                               {"d", 24LL * 3600 * 1000},
                                               {"h", 3600LL * 1000},
                                               {"m", 60LL * 1000},
                                               {"s", 1000},
                                               {"ms", 1}}};
  if (text == "0") return milliseconds{0};
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t next_unit = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::optional<std::uint64_t> number = ReadDigits(text, pos);
    if (!number) return std::nullopt;
    const std::size_t unit_start = pos;
    while (pos < text.size() && IsAlpha(text[pos])) ++pos;
    const std::string_view unit_name = text.substr(unit_start, pos - unit_start);
    std::size_t unit = next_unit;
    while (unit < kUnits.size() && kUnits[unit].name != unit_name) ++unit;
    if (unit == kUnits.size()) return std::nullopt;  // unknown, missing, repeated or out of order
    next_unit = unit + 1;
    const auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() - total);
    if (*number > limit / static_cast<std::uint64_t>(kUnits[unit].millis)) return std::nullopt;
    total += static_cast<std::int64_t>(*number) * kUnits[unit].millis;
  }
  return milliseconds{total};
}

std::string FormatDuration(milliseconds duration) {
  // As model.Duration.String(): years and weeks only when exact, since 90d reads better than 12w6d.
  std::int64_t left = duration.count();
  if (left == 0) return "0s";
  std::string text;
  if (left < 0) {
    text = "-";
    left = left == std::numeric_limits<std::int64_t>::min()
               ? std::numeric_limits<std::int64_t>::max()
               : -left;
  }
  const auto part = [&](std::string_view unit, std::int64_t millis, bool exact) {
    if (exact && left % millis != 0) return;
    if (const std::int64_t count = left / millis; count > 0) {
      text += std::to_string(count);
      text += unit;
      left -= count * millis;
    }
  };
  part("y", 365LL * 24 * 3600 * 1000, true);
  part("w", 7LL * 24 * 3600 * 1000, true);
  part("d", 24LL * 3600 * 1000, false);
  part("h", 3600LL * 1000, false);
  part("m", 60LL * 1000, false);
  part("s", 1000, false);
  part("ms", 1, false);
  return text;
}

std::optional<std::size_t> ParseByteSize(std::string_view text) {
  struct Unit {
    std::string_view name;
    std::uint64_t bytes;
  };
  static constexpr std::array<Unit, 9> kUnits{{{"", 1},
                                               {"B", 1},
                                               {"KB", 1000},
                                               {"MB", 1000 * 1000},
                                               {"GB", 1000 * 1000 * 1000},
                                               {"KiB", 1024},
                                               {"MiB", 1024 * 1024},
                                               {"GiB", 1024 * 1024 * 1024},
                                               {"TiB", 1024ULL * 1024 * 1024 * 1024}}};
  std::size_t pos = 0;
  const std::optional<std::uint64_t> number = ReadDigits(text, pos);
  if (!number) return std::nullopt;
  const std::string_view unit_name = text.substr(pos);
  for (const Unit& unit : kUnits) {
    if (unit.name != unit_name) continue;
    if (*number > std::numeric_limits<std::size_t>::max() / unit.bytes) return std::nullopt;
    return static_cast<std::size_t>(*number * unit.bytes);
  }
  return std::nullopt;
}

milliseconds ParseTimeoutValue(std::string_view text) {
  if (text.starts_with('-')) Problem("must be greater than 0, got " + std::string(text));
  const std::optional<milliseconds> duration = ParseDuration(text);
  if (!duration) {
    Problem("expected a duration such as 500ms, 2s or 1m30s, got " + QuoteForMessage(text));
  }
  if (duration->count() <= 0) Problem("must be greater than 0, got " + std::string(text));
  return *duration;
}

std::size_t ParseByteSizeValue(std::string_view text) {
  if (text.starts_with('-')) Problem("must be greater than 0, got " + std::string(text));
  const std::optional<std::size_t> size = ParseByteSize(text);
  if (!size) {
    Problem("expected a size in bytes such as 1048576, 64MiB or 100MB, got " +
            QuoteForMessage(text));
  }
  if (*size == 0) Problem("must be greater than 0, got " + std::string(text));
  return *size;
}

unsigned ParseUnsignedValue(std::string_view text, unsigned min, unsigned max) {
  std::size_t pos = text.starts_with('-') || text.starts_with('+') ? 1 : 0;
  const std::optional<std::uint64_t> number = ReadDigits(text, pos);
  if (!number || pos != text.size()) {
    Problem("expected an integer, got " + QuoteForMessage(text));
  }
  if (text.starts_with('-') && *number != 0) {
    Problem(max == std::numeric_limits<unsigned>::max() && min == 0
                ? "must not be negative, got " + std::string(text)
                : "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                      ", got " + std::string(text));
  }
  if (*number > std::numeric_limits<unsigned>::max()) {
    Problem("must be at most " + std::to_string(max) + ", got " + std::string(text));
  }
  const auto value = static_cast<unsigned>(*number);
  CheckRange(value, min, max);
  return value;
}

void CheckRange(unsigned value, unsigned min, unsigned max) {
  if (value >= min && value <= max) return;
  if (max == std::numeric_limits<unsigned>::max()) {
    Problem("must be at least " + std::to_string(min) + ", got " + std::to_string(value));
  }
  Problem("must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
          std::to_string(value));
}

void CheckTimeout(milliseconds timeout) {
  if (timeout.count() <= 0) Problem("must be greater than 0, got " + FormatDuration(timeout));
}

void CheckProxySocket(std::string_view path) {
  constexpr std::size_t kMaxPath = sizeof(sockaddr_un::sun_path) - 1;
  if (path.empty()) Problem("must not be empty");
  if (path.find('\0') != std::string_view::npos) Problem("must not contain a NUL byte");
  if (path.size() > kMaxPath) {
    Problem("must be at most " + std::to_string(kMaxPath) +
            " bytes (the limit of a Unix socket path), got " + std::to_string(path.size()));
  }
}

void CheckListenAddress(std::string_view address) {
  if (!ParseListenAddress(address)) {
    Problem(
        "expected [host]:port such as \":10190\", \"127.0.0.1:10190\" or \"[::1]:10190\", got " +
        QuoteForMessage(address));
  }
}

void CheckDistinctListenAddresses(const std::vector<std::string>& addresses) {
  // Two equal addresses would make civetweb's second bind fail with a bare "address in use";
  // said here instead, as a config error. Port 0 binds a fresh port each time.
  std::vector<std::pair<std::string, std::uint16_t>> seen;
  for (const std::string& address : addresses) {
    const std::optional<ListenAddress> parsed = ParseListenAddress(address);
    if (!parsed || parsed->port == 0) continue;
    std::string host = parsed->host;
    std::transform(host.begin(), host.end(), host.begin(), [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
    if (host == "localhost") host = "127.0.0.1";
    const std::pair<std::string, std::uint16_t> key{host, parsed->port};
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      Problem("address " + QuoteForMessage(address) + " given more than once");
    }
    seen.push_back(key);
  }
}

void CheckTelemetryPath(std::string_view path) {
  if (!path.starts_with('/')) Problem("must start with '/', got " + QuoteForMessage(path));
  for (const std::string_view reserved : {"/", "/-/healthy", "/-/ready"}) {
    if (path == reserved) {
      Problem("must not be one of the reserved paths /, /-/healthy, /-/ready, got " +
              QuoteForMessage(path));
    }
  }
  for (const char c : path) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= ' ' || byte >= 0x7F || c == '?' || c == '#') {
      Problem("must be printable ASCII without spaces, '?' or '#', got " + QuoteForMessage(path));
    }
  }
}

void CheckMetricNamespace(std::string_view metric_namespace) {
  if (const auto problem = conversion::MetricNamespaceProblem(metric_namespace)) {
    Problem(std::string(*problem) + ", got " + QuoteForMessage(metric_namespace));
  }
}

Config ParseConfig(const std::string& yaml_text, const std::string& source_name) {
  const YamlReader reader(source_name);
  Config config;
  reader.ReadDocument(yaml_text, [&](const YAML::Node& root) {
    if (!root.IsMap()) {
      reader.Fail(root.Mark().line, "",
                  "the top level must be a map with the sections proxy, web, metrics, log; got " +
                      Describe(root));
    }
    ReadConfig(reader, root, config);
  });
  return config;
}

Config LoadConfigFile(const std::string& path) {
  return ParseConfig(ReadConfigFile(path, "config file"), path);
}

void ApplyCommandLine(const CommandLine& command_line, Config& config) {
  if (command_line.proxy_socket) config.proxy.socket = *command_line.proxy_socket;
  if (command_line.proxy_timeout) config.proxy.timeout = *command_line.proxy_timeout;
  if (!command_line.web_listen_addresses.empty()) {
    config.web.listen_addresses = command_line.web_listen_addresses;
  }
  if (command_line.web_telemetry_path) {
    config.web.telemetry_path = *command_line.web_telemetry_path;
  }
  if (command_line.web_max_requests) config.web.max_requests = *command_line.web_max_requests;
  if (command_line.web_max_connections) {
    config.web.max_connections = *command_line.web_max_connections;
  }
  if (command_line.web_config_file) config.web.config_file = *command_line.web_config_file;
  if (command_line.web_health_endpoints_without_auth) {
    config.web.health_endpoints_without_auth = true;
  }
  if (command_line.web_disable_exporter_metrics) config.web.disable_exporter_metrics = true;
  if (command_line.web_systemd_socket) config.web.systemd_socket = true;
  if (command_line.log_level) config.log.level = *command_line.log_level;
  if (command_line.log_format) config.log.format = *command_line.log_format;
}

void ValidateConfig(const Config& config) {
  ValidateAt("proxy.socket", [&] { CheckProxySocket(config.proxy.socket); });
  ValidateAt("proxy.timeout", [&] { CheckTimeout(config.proxy.timeout); });
  ValidateAt("proxy.max_body_size", [&] {
    if (config.proxy.max_body_bytes == 0) Problem("must be greater than 0, got 0");
  });
  ValidateAt("web.listen_address", [&] {
    if (config.web.listen_addresses.empty()) Problem("must name at least one address");
    for (const std::string& address : config.web.listen_addresses) CheckListenAddress(address);
    CheckDistinctListenAddresses(config.web.listen_addresses);
  });
  ValidateAt("web.telemetry_path", [&] { CheckTelemetryPath(config.web.telemetry_path); });
  ValidateAt("web.max_requests",
             [&] { CheckRange(config.web.max_requests, 1, kMaxRequestsLimit); });
  ValidateAt("web.request_timeout", [&] { CheckTimeout(config.web.request_timeout); });
  ValidateAt("web.max_connections", [&] {
    CheckRange(config.web.max_connections, 2, kMaxConnectionsLimit);
    if (config.web.max_connections <= config.web.max_requests) {
      Problem("must be greater than web.max_requests (" + std::to_string(config.web.max_requests) +
              "), got " + std::to_string(config.web.max_connections));
    }
  });
  ValidateAt("metrics.namespace", [&] { CheckMetricNamespace(config.metrics.metric_namespace); });
  ValidateAt("metrics.ips.ipv4_prefix", [&] { CheckRange(config.metrics.ips.ipv4_prefix, 0, 32); });
  ValidateAt("metrics.ips.ipv6_prefix",
             [&] { CheckRange(config.metrics.ips.ipv6_prefix, 0, 128); });
}

Config ResolveConfig(const CommandLine& command_line) {
  Config config = command_line.config_file ? LoadConfigFile(*command_line.config_file) : Config{};
  ApplyCommandLine(command_line, config);
  ValidateConfig(config);
  return config;
}

}  // namespace exporter::config
