#include <doctest/doctest.h>

#include <chrono>
#include <initializer_list>
#include <string>
#include <vector>

#include "exporter/config/config.h"

using namespace std::chrono_literals;

namespace exporter::config {
namespace {

CommandLine Parse(std::initializer_list<const char*> arguments) {
  std::vector<const char*> argv{"smartproxy_exporter"};
  argv.insert(argv.end(), arguments);
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data());
}

std::string ErrorOf(std::initializer_list<const char*> arguments) {
  try {
    Parse(arguments);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

TEST_CASE("No flags: nothing set, the defaults apply") {
  const CommandLine command_line = Parse({});
  CHECK_FALSE(command_line.config_file);
  CHECK_FALSE(command_line.check_config);
  CHECK_FALSE(command_line.show_version);
  CHECK_FALSE(command_line.show_help);
  CHECK_FALSE(command_line.proxy_socket);
  CHECK_FALSE(command_line.proxy_timeout);
  CHECK(command_line.web_listen_addresses.empty());
  CHECK_FALSE(command_line.web_disable_exporter_metrics);
  CHECK_FALSE(command_line.web_telemetry_path);
  CHECK_FALSE(command_line.web_max_requests);
  CHECK_FALSE(command_line.log_level);
  CHECK_FALSE(command_line.log_format);
  CHECK(ParseCommandLine(0, nullptr).config_file == std::nullopt);
}

TEST_CASE("Every flag is parsed in both --flag=value and --flag value syntax") {
  SUBCASE("--flag=value") {
    const CommandLine command_line =
        Parse({"--config.file=/etc/sp.yml", "--proxy.socket=/tmp/p.sock", "--proxy.timeout=1m30s",
               "--web.listen-address=[::1]:9000", "--web.telemetry-path=/x", "--web.max-requests=5",
               "--log.level=debug", "--log.format=json"});
    CHECK(command_line.config_file == "/etc/sp.yml");
    CHECK(command_line.proxy_socket == "/tmp/p.sock");
    CHECK(command_line.proxy_timeout == 90s);
    CHECK(command_line.web_listen_addresses == std::vector<std::string>{"[::1]:9000"});
    CHECK(command_line.web_telemetry_path == "/x");
    CHECK(command_line.web_max_requests == 5u);
    CHECK(command_line.log_level == exporter::log::LogLevel::kDebug);
    CHECK(command_line.log_format == exporter::log::LogFormat::kJson);
  }
  SUBCASE("--flag value") {
    const CommandLine command_line =
        Parse({"--config.file", "/etc/sp.yml", "--proxy.socket", "/tmp/p.sock", "--proxy.timeout",
               "500ms", "--web.listen-address", ":0", "--web.telemetry-path", "/x",
               "--web.max-requests", "1000", "--log.level", "warn", "--log.format", "logfmt"});
    CHECK(command_line.config_file == "/etc/sp.yml");
    CHECK(command_line.proxy_socket == "/tmp/p.sock");
    CHECK(command_line.proxy_timeout == 500ms);
    CHECK(command_line.web_listen_addresses == std::vector<std::string>{":0"});
    CHECK(command_line.web_telemetry_path == "/x");
    CHECK(command_line.web_max_requests == 1000u);
    CHECK(command_line.log_level == exporter::log::LogLevel::kWarn);
    CHECK(command_line.log_format == exporter::log::LogFormat::kLogfmt);
  }
  SUBCASE("a value containing '='") {
    CHECK(Parse({"--proxy.socket=/tmp/a=b"}).proxy_socket == "/tmp/a=b");
  }
}

// The addresses in these config tests are strings to parse and compare: nothing here listens
// (the tests that listen, in tests/integration, bind port 0 or a port a running process holds).
TEST_CASE("--web.listen-address is repeatable: every address is kept, in order") {
  const CommandLine command_line =
      Parse({"--web.listen-address=127.0.0.1:9000", "--web.listen-address", "[::1]:9001"});
  CHECK(command_line.web_listen_addresses ==
        std::vector<std::string>{"127.0.0.1:9000", "[::1]:9001"});
  Config config;
  ApplyCommandLine(command_line, config);
  CHECK(config.web.listen_addresses == std::vector<std::string>{"127.0.0.1:9000", "[::1]:9001"});
  SUBCASE("port 0 may repeat: each binds a fresh port") {
    CHECK(Parse({"--web.listen-address=127.0.0.1:0", "--web.listen-address=127.0.0.1:0"})
              .web_listen_addresses.size() == 2);
  }
  SUBCASE("the same address twice is an error naming it") {
    CHECK(ErrorOf({"--web.listen-address=127.0.0.1:9000", "--web.listen-address=127.0.0.1:9000"}) ==
          "--web.listen-address: address \"127.0.0.1:9000\" given more than once");
    CHECK(ErrorOf({"--web.listen-address=127.0.0.1:9000", "--web.listen-address=localhost:9000"}) ==
          "--web.listen-address: address \"localhost:9000\" given more than once");
  }
  SUBCASE("each value is checked") {
    CHECK(ErrorOf({"--web.listen-address=:1", "--web.listen-address=nope"})
              .starts_with("--web.listen-address: expected [host]:port"));
  }
}

TEST_CASE("--web.disable-exporter-metrics is a switch that reaches the config") {
  const CommandLine command_line = Parse({"--web.disable-exporter-metrics"});
  CHECK(command_line.web_disable_exporter_metrics);
  Config config;
  CHECK_FALSE(config.web.disable_exporter_metrics);
  ApplyCommandLine(command_line, config);
  CHECK(config.web.disable_exporter_metrics);
  CHECK(ErrorOf({"--web.disable-exporter-metrics=yes"}) ==
        "--web.disable-exporter-metrics: takes no value");
  CHECK(CommandLineHelp().find("--web.disable-exporter-metrics") != std::string::npos);
}

TEST_CASE("Switches set their mode") {
  CHECK(Parse({"--check-config"}).check_config);
  CHECK(Parse({"--version"}).show_version);
  CHECK(Parse({"--help"}).show_help);
  CHECK(Parse({"-h"}).show_help);
}

TEST_CASE("Unknown flags and arguments are rejected, naming them") {
  CHECK(ErrorOf({"--web.listen_address=:1"}) == "unknown flag --web.listen_address (see --help)");
  CHECK(ErrorOf({"--nope"}) == "unknown flag --nope (see --help)");
  CHECK(ErrorOf({"--web.config.file="}) == "--web.config.file: must not be empty");
  CHECK(ErrorOf({"--web.health-endpoints-without-auth=yes"}) ==
        "--web.health-endpoints-without-auth: takes no value");
  CHECK(ErrorOf({"--web.max-connections=1"}) ==
        "--web.max-connections: must be between 2 and 10000, got 1");
  CHECK(ErrorOf({"-v"}) == "unknown flag -v (see --help)");
  CHECK(ErrorOf({"--a\nb"}) == "unknown flag --\"a\\nb\" (see --help)");
  CHECK(ErrorOf({"extra"}) ==
        "unexpected argument \"extra\" (this program takes flags only; see --help)");
  CHECK(ErrorOf({"--", "extra"}) ==
        "unexpected argument \"extra\" (this program takes flags only; see --help)");
}

TEST_CASE("Bad flag values are rejected, naming the flag") {
  SUBCASE("missing value") {
    CHECK(ErrorOf({"--proxy.timeout"}) == "--proxy.timeout: expected a value");
    CHECK(ErrorOf({"--proxy.socket", "--version"}) == "--proxy.socket: expected a value");
  }
  SUBCASE("value on a switch") { CHECK(ErrorOf({"--version=yes"}) == "--version: takes no value"); }
  SUBCASE("repeated") {
    CHECK(ErrorOf({"--log.level=info", "--log.level", "debug"}) ==
          "--log.level: given more than once");
  }
  SUBCASE("durations") {
    CHECK(ErrorOf({"--proxy.timeout=0s"}) == "--proxy.timeout: must be greater than 0, got 0s");
    CHECK(ErrorOf({"--proxy.timeout=-2s"}) == "--proxy.timeout: must be greater than 0, got -2s");
    CHECK(ErrorOf({"--proxy.timeout=2"}) ==
          "--proxy.timeout: expected a duration such as 500ms, 2s or 1m30s, got \"2\"");
  }
  SUBCASE("numbers") {
    CHECK(ErrorOf({"--web.max-requests=0"}) ==
          "--web.max-requests: must be between 1 and 1000, got 0");
    CHECK(ErrorOf({"--web.max-requests=-1"}) ==
          "--web.max-requests: must be between 1 and 1000, got -1");
    CHECK(ErrorOf({"--web.max-requests=ten"}) ==
          "--web.max-requests: expected an integer, got \"ten\"");
  }
  SUBCASE("choices") {
    CHECK(ErrorOf({"--log.level=trace"}) ==
          "--log.level: must be one of debug, info, warn, error, got \"trace\"");
    CHECK(ErrorOf({"--log.format=text"}) ==
          "--log.format: must be one of logfmt, json, got \"text\"");
  }
  SUBCASE("addresses and paths") {
    CHECK(ErrorOf({"--web.listen-address=10190"}) ==
          "--web.listen-address: expected [host]:port such as \":10190\", \"127.0.0.1:10190\" or "
          "\"[::1]:10190\", got \"10190\"");
    CHECK(ErrorOf({"--web.telemetry-path=/-/healthy"}) ==
          "--web.telemetry-path: must not be one of the reserved paths /, /-/healthy, /-/ready, "
          "got \"/-/healthy\"");
    CHECK(ErrorOf({"--proxy.socket="}) == "--proxy.socket: must not be empty");
    CHECK(ErrorOf({"--config.file="}) == "--config.file: must not be empty");
  }
}

TEST_CASE("The help text lists every flag with its default") {
  const std::string help = CommandLineHelp();
  CHECK(help.starts_with("usage: smartproxy_exporter [<flags>]\n"));
  for (const char* expected :
       {"  -h, --help", "      --config.file=CONFIG.FILE", "      --check-config",
        "      --proxy.socket=\"/run/smartproxy/metrics.sock\"", "      --proxy.timeout=2s",
        "      --web.listen-address=\":10190\"", "      --web.telemetry-path=\"/metrics\"",
        "      --web.max-requests=40", "      --log.level=info", "      --log.format=logfmt",
        "      --version"}) {
    CAPTURE(expected);
    CHECK(help.find(std::string("\n") + expected) != std::string::npos);
  }
}

}  // namespace
}  // namespace exporter::config
