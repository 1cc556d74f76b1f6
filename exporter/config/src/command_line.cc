#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/config/config.h"
#include "exporter/log/log.h"

// Flags in the style of kingpin, as Prometheus and its exporters use them:
// github.com/alecthomas/kingpin (--flag=value or --flag value, -h for --help).
namespace exporter::config {
namespace {

struct Flag {
  std::string_view name;   // without the leading "--"
  std::string value_text;  // shown after '=' in the help; empty: a flag without a value
  std::string help;
  // Stores the value; throws a bare ConfigError (the problem only) when the value is bad.
  std::function<void(CommandLine&, std::string_view)> set;
  // May be given more than once (kingpin's repeatable flags); the others may not.
  bool repeatable = false;
};

const std::vector<Flag>& Flags() {
  static const std::vector<Flag> flags = [] {
    const Config defaults;
    const auto quoted = [](std::string_view text) { return "\"" + std::string(text) + "\""; };
    return std::vector<Flag>{
        {"help", "", "Show context-sensitive help.",
         [](CommandLine& command_line, std::string_view) { command_line.show_help = true; }},
        {"config.file", "CONFIG.FILE",
         "Path to the YAML configuration file. Without it, the defaults and the flags apply.",
         [](CommandLine& command_line, std::string_view value) {
           if (value.empty()) throw ConfigError("must not be empty");
           command_line.config_file = std::string(value);
         }},
        {"check-config", "",
         "Validate the configuration (file and flags) and exit: 0 when valid, 2 otherwise.",
         [](CommandLine& command_line, std::string_view) { command_line.check_config = true; }},
        {"proxy.socket", quoted(defaults.proxy.socket),
         "Unix socket on which SmartProxy serves its metrics snapshot.",
         [](CommandLine& command_line, std::string_view value) {
           CheckProxySocket(value);
           command_line.proxy_socket = std::string(value);
         }},
        {"proxy.timeout", FormatDuration(defaults.proxy.timeout),
         "Deadline for fetching one snapshot from the proxy, e.g. 500ms, 2s, 1m30s.",
         [](CommandLine& command_line, std::string_view value) {
           command_line.proxy_timeout = ParseTimeoutValue(value);
         }},
        {"web.listen-address", quoted(defaults.web.listen_addresses.front()),
         "Address on which to expose metrics and the web interface ([host]:port). Repeatable: "
         "given more than once, every address is served.",
         [](CommandLine& command_line, std::string_view value) {
           CheckListenAddress(value);
           command_line.web_listen_addresses.emplace_back(value);
           CheckDistinctListenAddresses(command_line.web_listen_addresses);
         },
         true},
        {"web.systemd-socket", "",
         "Use systemd socket activation listeners instead of port listeners (Linux only): "
         "serve the sockets of the .socket unit that started the process; "
         "--web.listen-address is then not used.",
         [](CommandLine& command_line, std::string_view) {
           command_line.web_systemd_socket = true;
         }},
        {"web.telemetry-path", quoted(defaults.web.telemetry_path),
         "Path under which to expose metrics.",
         [](CommandLine& command_line, std::string_view value) {
           CheckTelemetryPath(value);
           command_line.web_telemetry_path = std::string(value);
         }},
        {"web.max-requests", std::to_string(defaults.web.max_requests),
         "Maximum number of requests served in parallel; beyond it, 503 at once. 1 to " +
             std::to_string(kMaxRequestsLimit) + ".",
         [](CommandLine& command_line, std::string_view value) {
           command_line.web_max_requests = ParseUnsignedValue(value, 1, kMaxRequestsLimit);
         }},
        {"web.max-connections", std::to_string(defaults.web.max_connections),
         "Maximum number of connections served at once (one thread each); idle or slow clients "
         "up to this many cannot delay a scrape. Above --web.max-requests, at most " +
             std::to_string(kMaxConnectionsLimit) + ".",
         [](CommandLine& command_line, std::string_view value) {
           command_line.web_max_connections = ParseUnsignedValue(value, 2, kMaxConnectionsLimit);
         }},
        {"web.config.file", "\"\"",
         "Path to a web configuration file (exporter-toolkit format) that enables TLS, basic "
         "authentication and response headers. Re-read on SIGHUP.",
         [](CommandLine& command_line, std::string_view value) {
           if (value.empty()) throw ConfigError("must not be empty");
           command_line.web_config_file = std::string(value);
         }},
        {"web.health-endpoints-without-auth", "",
         "With basic authentication on, serve /-/healthy and /-/ready without credentials "
         "(for Kubernetes probes).",
         [](CommandLine& command_line, std::string_view) {
           command_line.web_health_endpoints_without_auth = true;
         }},
        {"web.disable-exporter-metrics", "",
         "Exclude the exporter's own metrics (process_* and smartproxy_exporter_*, all but "
         "smartproxy_exporter_build_info) from the telemetry path; smartproxy_up and the "
         "proxy's series stay.",
         [](CommandLine& command_line, std::string_view) {
           command_line.web_disable_exporter_metrics = true;
         }},
        {"log.level", std::string(LogLevelName(defaults.log.level)),
         "Only log messages with the given severity or above. One of: [debug, info, warn, error]",
         [](CommandLine& command_line, std::string_view value) {
           command_line.log_level = log::ParseLogLevel(value);
           if (!command_line.log_level) {
             throw ConfigError("must be one of debug, info, warn, error, got " +
                               QuoteForMessage(value));
           }
         }},
        {"log.format", std::string(LogFormatName(defaults.log.format)),
         "Output format of log messages. One of: [logfmt, json]",
         [](CommandLine& command_line, std::string_view value) {
           command_line.log_format = log::ParseLogFormat(value);
           if (!command_line.log_format) {
             throw ConfigError("must be one of logfmt, json, got " + QuoteForMessage(value));
           }
         }},
        {"version", "", "Show application version.",
         [](CommandLine& command_line, std::string_view) { command_line.show_version = true; }},
    };
  }();
  return flags;
}

const Flag* FindFlag(std::string_view name) {
  for (const Flag& flag : Flags()) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

// A flag name as written in messages; anything odd is quoted so the message stays one line.
std::string FlagForMessage(std::string_view argument) {
  const bool plain = std::all_of(argument.begin(), argument.end(), [](char c) {
    return c > ' ' && c < 0x7F && c != '"' && c != '\\';
  });
  return plain ? std::string(argument) : QuoteForMessage(argument);
}

}  // namespace

CommandLine ParseCommandLine(int argc, const char* const* argv) {
  CommandLine command_line;
  std::vector<std::string_view> seen;
  for (int index = 1; index < argc; ++index) {
    const std::string_view argument = argv[index] != nullptr ? argv[index] : "";
    if (argument == "--" && index + 1 < argc) {
      throw ConfigError("unexpected argument " + QuoteForMessage(argv[index + 1]) +
                        " (this program takes flags only; see --help)");
    }
    if (argument == "--") break;
    std::string_view name;
    std::optional<std::string_view> value;
    if (argument == "-h") {
      name = "help";
    } else if (argument.starts_with("--") && argument.size() > 2) {
      name = argument.substr(2);
      if (const std::size_t equals = name.find('='); equals != std::string_view::npos) {
        value = name.substr(equals + 1);
        name = name.substr(0, equals);
      }
    } else if (argument.starts_with("-")) {
      throw ConfigError("unknown flag " + FlagForMessage(argument) + " (see --help)");
    } else {
      throw ConfigError("unexpected argument " + QuoteForMessage(argument) +
                        " (this program takes flags only; see --help)");
    }

    const std::string flag_text = "--" + FlagForMessage(name);
    const Flag* flag = FindFlag(name);
    if (flag == nullptr) throw ConfigError("unknown flag " + flag_text + " (see --help)");
    const bool takes_value = !flag->value_text.empty();
    if (!takes_value && value) throw ConfigError(flag_text + ": takes no value");
    if (takes_value && !value) {
      // As kingpin: the next argument is the value unless it is itself a flag.
      if (index + 1 >= argc || argv[index + 1] == nullptr ||
          std::string_view(argv[index + 1]).starts_with("--")) {
        throw ConfigError(flag_text + ": expected a value");
      }
      value = argv[++index];
    }
    for (const std::string_view earlier : seen) {
      if (earlier == flag->name && !flag->repeatable) {
        throw ConfigError(flag_text + ": given more than once");
      }
    }
    seen.push_back(flag->name);
    try {
      flag->set(command_line, value.value_or(""));
    } catch (const ConfigError& error) {
      throw ConfigError(flag_text + ": " + error.what());
    }
  }
  return command_line;
}

std::string CommandLineHelp() {
  // Laid out as kingpin does: the flag column, then its help, on the next line when too wide.
  constexpr std::size_t kHelpColumn = 30;
  constexpr std::size_t kWidth = 100;
  std::string help =
      "usage: smartproxy_exporter [<flags>]\n"
      "\n"
      "Prometheus exporter for SmartProxy: each scrape of the telemetry path fetches a fresh\n"
      "snapshot from the proxy's metrics socket. Flags override the configuration file.\n"
      "\n"
      "Flags:\n";
  for (const Flag& flag : Flags()) {
    std::string column = flag.name == "help" ? "  -h, --help" : "      --" + std::string(flag.name);
    if (!flag.value_text.empty()) column += "=" + flag.value_text;
    help += column;
    if (column.size() + 2 > kHelpColumn) {
      help += "\n";
      column.clear();
    }
    help += std::string(kHelpColumn - column.size(), ' ');
    // Word-wrapped to kWidth, continuation lines indented to the help column.
    std::size_t line_length = kHelpColumn;
    std::string_view words = flag.help;
    bool first_word = true;
    while (!words.empty()) {
      const std::size_t space = words.find(' ');
      const std::string_view word = words.substr(0, space);
      words = space == std::string_view::npos ? std::string_view() : words.substr(space + 1);
      if (!first_word && line_length + 1 + word.size() > kWidth) {
        help += "\n" + std::string(kHelpColumn, ' ');
        line_length = kHelpColumn;
      } else if (!first_word) {
        help += ' ';
        ++line_length;
      }
      help += word;
      line_length += word.size();
      first_word = false;
    }
    help += "\n";
  }
  return help;
}

}  // namespace exporter::config
