#include "exporter/config/config.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace exporter::config {
namespace {

// The message ParseConfig throws for `yaml`, or "" when it parses.
std::string ErrorOf(const std::string& yaml) {
  try {
    ParseConfig(yaml, "config.yml");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

void CheckDefaults(const Config& config) {
  CHECK(config.proxy.socket == "/run/smartproxy/metrics.sock");
  CHECK(config.proxy.timeout == 2s);
  CHECK(config.proxy.max_body_bytes == 64u * 1024 * 1024);
  CHECK(config.web.listen_addresses == std::vector<std::string>{":10190"});
  CHECK(config.web.telemetry_path == "/metrics");
  CHECK(config.web.max_requests == 40);
  CHECK(config.web.request_timeout == 5s);
  CHECK(config.metrics.metric_namespace == "smartproxy");
  CHECK(config.metrics.ips.top == 20);
  CHECK(config.metrics.ips.anonymize == exporter::conversion::IpAnonymization::kNone);
  CHECK(config.metrics.ips.ipv4_prefix == 24);
  CHECK(config.metrics.ips.ipv6_prefix == 64);
  CHECK(config.metrics.routes.max == 500);
  CHECK(config.metrics.backends.max == 20);
  CHECK(config.metrics.domains.top == 20);
  CHECK(config.log.level == exporter::log::LogLevel::kInfo);
  CHECK(config.log.format == exporter::log::LogFormat::kLogfmt);
}

// A file in a fresh temp dir, removed with its dir at the end of the scope.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char pattern[] = "/tmp/config_test.XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    dir_ = pattern;
    path_ = dir_ + "/config.yml";
    std::ofstream(path_) << content;
  }
  ~TempFile() {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

TEST_CASE("An empty config file means every default") {
  SUBCASE("empty") { CheckDefaults(ParseConfig("", "config.yml")); }
  SUBCASE("comments only") { CheckDefaults(ParseConfig("# nothing here\n\n", "config.yml")); }
  SUBCASE("an explicit empty document") { CheckDefaults(ParseConfig("---\n", "config.yml")); }
  SUBCASE("empty sections") {
    CheckDefaults(ParseConfig("proxy:\nweb: {}\nmetrics:\n  ips:\nlog:\n", "config.yml"));
  }
  SUBCASE("a default-constructed Config") { CheckDefaults(Config{}); }
}

TEST_CASE("Every key of the config file is parsed") {
  const Config config = ParseConfig(R"(
proxy:
  socket: /tmp/proxy.sock
  timeout: 1m30s
  max_body_size: 8MiB
web:
  listen_address: "127.0.0.1:9999"
  telemetry_path: /prom/metrics
  max_requests: 7
  request_timeout: 500ms
metrics:
  namespace: sp_1
  ips:
    top: 300000
    anonymize: prefix
    ipv4_prefix: 16
    ipv6_prefix: 48
  routes:
    max: 0
  backends:
    max: 3
  domains:
    top: 0
log:
  level: debug
  format: json
)",
                                    "config.yml");
  CHECK(config.proxy.socket == "/tmp/proxy.sock");
  CHECK(config.proxy.timeout == 90s);
  CHECK(config.proxy.max_body_bytes == 8u * 1024 * 1024);
  CHECK(config.web.listen_addresses == std::vector<std::string>{"127.0.0.1:9999"});
  CHECK(config.web.telemetry_path == "/prom/metrics");
  CHECK(config.web.max_requests == 7);
  CHECK(config.web.request_timeout == 500ms);
  CHECK(config.metrics.metric_namespace == "sp_1");
  CHECK(config.metrics.ips.top == 300000);
  CHECK(config.metrics.ips.anonymize == exporter::conversion::IpAnonymization::kPrefix);
  CHECK(config.metrics.ips.ipv4_prefix == 16);
  CHECK(config.metrics.ips.ipv6_prefix == 48);
  CHECK(config.metrics.routes.max == 0);
  CHECK(config.metrics.backends.max == 3);
  CHECK(config.metrics.domains.top == 0);
  CHECK(config.log.level == exporter::log::LogLevel::kDebug);
  CHECK(config.log.format == exporter::log::LogFormat::kJson);
}

TEST_CASE("Keys not in the file keep their defaults") {
  const Config config = ParseConfig("metrics:\n  ips: {top: 5}\n", "config.yml");
  CHECK(config.metrics.ips.top == 5);
  CHECK(config.metrics.ips.ipv4_prefix == 24);
  CHECK(config.metrics.routes.max == 500);
  CHECK(config.metrics.backends.max == 20);
  CHECK(config.metrics.domains.top == 20);
  CHECK(config.proxy.timeout == 2s);
}

TEST_CASE("Backend and domain limits are read from their sections, any unsigned allowed") {
  const Config config = ParseConfig(
      "metrics:\n  backends: {max: 4294967295}\n  domains:\n    top: 7\n", "config.yml");
  CHECK(config.metrics.backends.max == 4294967295u);
  CHECK(config.metrics.domains.top == 7);
  CHECK(config.metrics.routes.max == 500);
  ValidateConfig(config);
  SUBCASE("empty sections keep the defaults") {
    const Config empty = ParseConfig("metrics:\n  backends:\n  domains: {}\n", "config.yml");
    CHECK(empty.metrics.backends.max == 20);
    CHECK(empty.metrics.domains.top == 20);
  }
}

TEST_CASE("Unknown keys are rejected with file, line and key path") {
  SUBCASE("top level") {
    CHECK(ErrorOf("proxy: {}\nprometheus: {}\n") ==
          "config.yml:2: prometheus: unknown key (known keys: proxy, web, metrics, log)");
  }
  SUBCASE("nested") {
    CHECK(ErrorOf("metrics:\n  ips:\n    top: 3\n    bottom: 1\n") ==
          "config.yml:4: metrics.ips.bottom: unknown key (known keys: top, anonymize, "
          "ipv4_prefix, ipv6_prefix)");
  }
  SUBCASE("web.config_file points to the flag, as exporters take the web config") {
    CHECK(ErrorOf("web: {config_file: x}\n") ==
          "config.yml:1: web.config_file: the web config file is given with --web.config.file, "
          "as in every exporter that reads one");
  }
  SUBCASE("web.max_connections must exceed web.max_requests") {
    const Config parsed = ParseConfig("web: {max_requests: 40, max_connections: 40}\n", "c.yml");
    CHECK_THROWS_WITH_AS(ValidateConfig(parsed),
                         "invalid configuration: web.max_connections: must be greater than "
                         "web.max_requests (40), got 40",
                         ConfigError);
    CHECK(ErrorOf("web:\n  health_endpoints_without_auth: maybe\n") ==
          "config.yml:2: web.health_endpoints_without_auth: expected true or false, got \"maybe\"");
  }
  SUBCASE("booleans: one grammar for this file and the web config (YAML 1.1, as yaml.v2 reads)") {
    for (const char* yes :
         {"true", "True", "TRUE", "yes", "Yes", "YES", "y", "Y", "on", "On", "ON"}) {
      CAPTURE(yes);
      CHECK(ParseConfig(std::string("web:\n  health_endpoints_without_auth: ") + yes + "\n", "c")
                .web.health_endpoints_without_auth);
    }
    for (const char* no :
         {"false", "False", "FALSE", "no", "No", "NO", "n", "N", "off", "Off", "OFF"}) {
      CAPTURE(no);
      CHECK_FALSE(
          ParseConfig(std::string("web:\n  health_endpoints_without_auth: ") + no + "\n", "c")
              .web.health_endpoints_without_auth);
    }
    CHECK(ErrorOf("web:\n  health_endpoints_without_auth: tRUE\n") ==
          "config.yml:2: web.health_endpoints_without_auth: expected true or false, got \"tRUE\"");
    CHECK(ErrorOf("web:\n  health_endpoints_without_auth: \"true\"\n") ==
          "config.yml:2: web.health_endpoints_without_auth: expected true or false, got the "
          "string \"true\"");
  }
  SUBCASE("each series limit has its one key") {
    CHECK(ErrorOf("metrics:\n  backends: {top: 3}\n") ==
          "config.yml:2: metrics.backends.top: unknown key (known keys: max)");
    CHECK(ErrorOf("metrics:\n  domains:\n    max: 3\n") ==
          "config.yml:3: metrics.domains.max: unknown key (known keys: top)");
    CHECK(ErrorOf("metrics:\n  protocols: {max: 3}\n") ==
          "config.yml:2: metrics.protocols: unknown key (known keys: namespace, ips, routes, "
          "backends, domains)");
  }
  SUBCASE("a misspelt key") {
    CHECK(ErrorOf("proxy:\n  sockt: /x\n") ==
          "config.yml:2: proxy.sockt: unknown key (known keys: socket, timeout, max_body_size)");
  }
  SUBCASE("a key with a newline cannot break the message") {
    CHECK(ErrorOf("\"a\\nb\": 1\n") ==
          "config.yml:1: \"a\\nb\": unknown key (known keys: proxy, web, metrics, log)");
  }
  SUBCASE("a non-scalar key") {
    CHECK(ErrorOf("proxy:\n  ? [a, b]\n  : 1\n") ==
          "config.yml:2: proxy: expected a plain key, got a list");
  }
}

TEST_CASE("Duplicate keys are rejected, which yaml-cpp alone would accept") {
  SUBCASE("top level") {
    CHECK(ErrorOf("log: {level: info}\nproxy: {}\nlog: {level: debug}\n") ==
          "config.yml:3: log: duplicate key (first defined at line 1)");
  }
  SUBCASE("nested") {
    CHECK(ErrorOf("proxy:\n  timeout: 1s\n  socket: /a\n  timeout: 3s\n") ==
          "config.yml:4: proxy.timeout: duplicate key (first defined at line 2)");
  }
  SUBCASE("deeply nested, flow style") {
    CHECK(ErrorOf("metrics:\n  ips: {top: 1, top: 2}\n") ==
          "config.yml:2: metrics.ips.top: duplicate key (first defined at line 2)");
  }
  SUBCASE("the same value twice is still a duplicate") {
    CHECK(ErrorOf("web:\n  max_requests: 4\n  max_requests: 4\n") ==
          "config.yml:3: web.max_requests: duplicate key (first defined at line 2)");
  }
}

TEST_CASE("Values of the wrong type are rejected") {
  SUBCASE("a map where a scalar is expected") {
    CHECK(ErrorOf("proxy:\n  socket:\n    path: /x\n") ==
          "config.yml:3: proxy.socket: expected a string, got a map");
  }
  SUBCASE("a list where a duration is expected") {
    CHECK(ErrorOf("proxy:\n  timeout: [1s]\n") ==
          "config.yml:2: proxy.timeout: expected a duration, got a list");
  }
  SUBCASE("a scalar where a section is expected") {
    CHECK(ErrorOf("web: yes\n") == "config.yml:1: web: expected a map, got \"yes\"");
  }
  SUBCASE("a missing value") {
    CHECK(ErrorOf("metrics:\n  ips:\n    top:\n") ==
          "config.yml:3: metrics.ips.top: expected an integer, got nothing");
  }
  SUBCASE("a non-integer top") {
    CHECK(ErrorOf("metrics:\n  ips:\n    top: 2.5\n") ==
          "config.yml:3: metrics.ips.top: expected an integer, got \"2.5\"");
  }
  SUBCASE("a quoted number") {
    CHECK(ErrorOf("metrics:\n  ips:\n    top: \"20\"\n") ==
          "config.yml:3: metrics.ips.top: expected an integer, got the string \"20\"");
  }
  SUBCASE("a negative top") {
    CHECK(ErrorOf("metrics:\n  ips:\n    top: -1\n") ==
          "config.yml:3: metrics.ips.top: must not be negative, got -1");
  }
  SUBCASE("a negative route limit") {
    CHECK(ErrorOf("metrics:\n  routes: {max: -5}\n") ==
          "config.yml:2: metrics.routes.max: must not be negative, got -5");
  }
  SUBCASE("bad backend and domain limits") {
    CHECK(ErrorOf("metrics:\n  backends: {max: -1}\n") ==
          "config.yml:2: metrics.backends.max: must not be negative, got -1");
    CHECK(ErrorOf("metrics:\n  domains:\n    top: -20\n") ==
          "config.yml:3: metrics.domains.top: must not be negative, got -20");
    CHECK(ErrorOf("metrics:\n  backends:\n    max: 1e3\n") ==
          "config.yml:3: metrics.backends.max: expected an integer, got \"1e3\"");
    CHECK(ErrorOf("metrics:\n  domains: {top: \"5\"}\n") ==
          "config.yml:2: metrics.domains.top: expected an integer, got the string \"5\"");
    CHECK(ErrorOf("metrics:\n  domains:\n    top:\n") ==
          "config.yml:3: metrics.domains.top: expected an integer, got nothing");
    CHECK(ErrorOf("metrics:\n  backends: {max: 4294967296}\n") ==
          "config.yml:2: metrics.backends.max: must be at most 4294967295, got 4294967296");
    CHECK(ErrorOf("metrics:\n  domains: 20\n") ==
          "config.yml:2: metrics.domains: expected a map, got \"20\"");
  }
  SUBCASE("a number too large for the field") {
    CHECK(ErrorOf("metrics:\n  ips:\n    top: 99999999999\n") ==
          "config.yml:3: metrics.ips.top: must be at most 4294967295, got 99999999999");
  }
  SUBCASE("an unknown choice") {
    CHECK(ErrorOf("metrics:\n  ips:\n    anonymize: hash\n") ==
          "config.yml:3: metrics.ips.anonymize: must be one of none, prefix, got \"hash\"");
    CHECK(ErrorOf("log:\n  level: verbose\n") ==
          "config.yml:2: log.level: must be one of debug, info, warn, error, got \"verbose\"");
    CHECK(ErrorOf("log:\n  format: text\n") ==
          "config.yml:2: log.format: must be one of logfmt, json, got \"text\"");
  }
}

TEST_CASE("Out-of-range values are rejected with the key and the value") {
  SUBCASE("prefix length 33") {
    CHECK(ErrorOf("metrics:\n  ips:\n    anonymize: prefix\n    ipv4_prefix: 33\n") ==
          "config.yml:4: metrics.ips.ipv4_prefix: must be between 0 and 32, got 33");
  }
  SUBCASE("prefix length 129") {
    CHECK(ErrorOf("metrics:\n  ips:\n    ipv6_prefix: 129\n") ==
          "config.yml:3: metrics.ips.ipv6_prefix: must be between 0 and 128, got 129");
  }
  SUBCASE("prefix length at the limits is fine") {
    const Config config =
        ParseConfig("metrics:\n  ips: {ipv4_prefix: 0, ipv6_prefix: 128}\n", "config.yml");
    CHECK(config.metrics.ips.ipv4_prefix == 0);
    CHECK(config.metrics.ips.ipv6_prefix == 128);
  }
  SUBCASE("zero timeout") {
    CHECK(ErrorOf("proxy:\n  timeout: 0s\n") ==
          "config.yml:2: proxy.timeout: must be greater than 0, got 0s");
    CHECK(ErrorOf("proxy:\n  timeout: 0\n") ==
          "config.yml:2: proxy.timeout: must be greater than 0, got 0");
  }
  SUBCASE("negative timeout") {
    CHECK(ErrorOf("web:\n  request_timeout: -1s\n") ==
          "config.yml:2: web.request_timeout: must be greater than 0, got -1s");
  }
  SUBCASE("NaN timeout") {
    CHECK(ErrorOf("proxy:\n  timeout: .nan\n") ==
          "config.yml:2: proxy.timeout: expected a duration such as 500ms, 2s or 1m30s, got "
          "\".nan\"");
    CHECK(ErrorOf("proxy:\n  timeout: NaN\n") ==
          "config.yml:2: proxy.timeout: expected a duration such as 500ms, 2s or 1m30s, got "
          "\"NaN\"");
  }
  SUBCASE("a duration without a unit") {
    CHECK(ErrorOf("proxy:\n  timeout: 2\n") ==
          "config.yml:2: proxy.timeout: expected a duration such as 500ms, 2s or 1m30s, got "
          "\"2\"");
  }
  SUBCASE("zero and malformed sizes") {
    CHECK(ErrorOf("proxy:\n  max_body_size: 0\n") ==
          "config.yml:2: proxy.max_body_size: must be greater than 0, got 0");
    CHECK(ErrorOf("proxy:\n  max_body_size: 64 megs\n") ==
          "config.yml:2: proxy.max_body_size: expected a size in bytes such as 1048576, 64MiB "
          "or 100MB, got \"64 megs\"");
  }
  SUBCASE("max_requests") {
    CHECK(ErrorOf("web:\n  max_requests: 0\n") ==
          "config.yml:2: web.max_requests: must be between 1 and 1000, got 0");
    CHECK(ErrorOf("web:\n  max_requests: 1001\n") ==
          "config.yml:2: web.max_requests: must be between 1 and 1000, got 1001");
  }
  SUBCASE("telemetry path") {
    CHECK(ErrorOf("web:\n  telemetry_path: metrics\n") ==
          "config.yml:2: web.telemetry_path: must start with '/', got \"metrics\"");
    for (const char* reserved : {"/", "/-/healthy", "/-/ready"}) {
      CAPTURE(reserved);
      CHECK(ErrorOf(std::string("web:\n  telemetry_path: ") + reserved + "\n") ==
            std::string("config.yml:2: web.telemetry_path: must not be one of the reserved paths "
                        "/, /-/healthy, /-/ready, got \"") +
                reserved + "\"");
    }
    CHECK(ErrorOf("web:\n  telemetry_path: /metrics?x=1\n") ==
          "config.yml:2: web.telemetry_path: must be printable ASCII without spaces, '?' or '#', "
          "got \"/metrics?x=1\"");
  }
  SUBCASE("metric namespace") {
    for (const char* bad : {"1abc", "smart-proxy", "a:b", "\"\""}) {
      CAPTURE(bad);
      const std::string shown = std::string(bad) == "\"\"" ? "" : bad;
      CHECK(ErrorOf(std::string("metrics:\n  namespace: ") + bad + "\n") ==
            "config.yml:2: metrics.namespace: must match [a-zA-Z_][a-zA-Z0-9_]*, got \"" + shown +
                "\"");
    }
    CHECK(ParseConfig("metrics: {namespace: _Ab9}\n", "c").metrics.metric_namespace == "_Ab9");
    // The conversion's rule, checked at start: "__" is reserved, so it is never a scrape-time
    // surprise.
    CHECK(ErrorOf("metrics:\n  namespace: __x\n") ==
          "config.yml:2: metrics.namespace: must not start with \"__\" (reserved for Prometheus' "
          "internal use), got \"__x\"");
  }
  SUBCASE("listen address") {
    for (const char* bad : {"10190", "localhost", ":99999", ":port", "::1:10190", "[::1]10190",
                            "[zz]:1", "300.1.1.1:80", "bad_host:80", "-a:80"}) {
      CAPTURE(bad);
      CHECK(ErrorOf(std::string("web:\n  listen_address: \"") + bad + "\"\n") ==
            "config.yml:2: web.listen_address: expected [host]:port such as \":10190\", "
            "\"127.0.0.1:10190\" or \"[::1]:10190\", got \"" +
                std::string(bad) + "\"");
    }
  }
  SUBCASE("proxy socket") {
    CHECK(ErrorOf("proxy:\n  socket: \"\"\n") == "config.yml:2: proxy.socket: must not be empty");
    CHECK(ErrorOf("proxy:\n  socket: /" + std::string(120, 'a') + "\n") ==
          "config.yml:2: proxy.socket: must be at most 107 bytes (the limit of a Unix socket "
          "path), got 121");
  }
}

TEST_CASE("YAML syntax errors become a ConfigError with the line") {
  SUBCASE("unclosed flow sequence") {
    CHECK(ErrorOf("proxy:\n  socket: [a\n") ==
          "config.yml:3: invalid YAML: end of sequence flow not found (column 1)");
  }
  SUBCASE("illegal map value") {
    CHECK(ErrorOf("log:\n  level: a: b\n") ==
          "config.yml:2: invalid YAML: illegal map value (column 11)");
  }
  SUBCASE("an undefined alias") {
    CHECK(ErrorOf("log:\n  level: *nothing\n") ==
          "config.yml:2: invalid YAML: the referenced anchor is not defined (column 10)");
  }
  SUBCASE("bad indentation") {
    const std::string error = ErrorOf("proxy:\n  socket: /a\n timeout: 2s\n");
    CHECK(error.starts_with("config.yml:3: invalid YAML: "));
  }
  SUBCASE("very deep nesting") {
    const std::string error = ErrorOf(std::string(5000, '[') + std::string(5000, ']'));
    CHECK(error.starts_with("config.yml:1: "));
  }
  SUBCASE("binary garbage never escapes as a yaml-cpp exception") {
    const std::string garbage("\x00\xff\xfe{[:\t\"\x01", 10);
    CHECK_THROWS_AS(ParseConfig(garbage, "config.yml"), ConfigError);
  }
}

TEST_CASE("The top level must be a single map") {
  CHECK(ErrorOf("- proxy\n") ==
        "config.yml:1: the top level must be a map with the sections proxy, web, metrics, log; "
        "got a list");
  CHECK(ErrorOf("just text\n") ==
        "config.yml:1: the top level must be a map with the sections proxy, web, metrics, log; "
        "got \"just text\"");
  // The line of the second document's `---`.
  CHECK(ErrorOf("proxy: {}\n---\nweb: {}\n") ==
        "config.yml:2: expected one YAML document, got more");
}

TEST_CASE("A file that yaml-cpp reads as endless documents is rejected, not looped on") {
  // yaml-cpp 0.7's LoadAll never returns on "," (fuzz/regressions/fuzz_config/).
  CHECK(ErrorOf(",") == "config.yml:1: expected one YAML document, got more");
  CHECK(ErrorOf(",{").find("config.yml:1:") == 0);
}

TEST_CASE("Durations follow Prometheus syntax") {
  CHECK(ParseDuration("500ms") == 500ms);
  CHECK(ParseDuration("2s") == 2s);
  CHECK(ParseDuration("1m") == 1min);
  CHECK(ParseDuration("1m30s") == 90s);
  CHECK(ParseDuration("1h2m3s4ms") == 1h + 2min + 3s + 4ms);
  CHECK(ParseDuration("1d") == 24h);
  CHECK(ParseDuration("1w") == 7 * 24h);
  CHECK(ParseDuration("1y") == 365 * 24h);
  CHECK(ParseDuration("0") == 0ms);
  for (const char* bad : {"", "2", "s", "1.5s", "-1s", "+1s", "1s1m", "1s1s", "1 s", "1S",
                          "99999999999999999999ms", "999999999y", "2s ", "nan", "inf"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseDuration(bad).has_value());
  }
  CHECK(FormatDuration(90s) == "1m30s");
  CHECK(FormatDuration(2s) == "2s");
  CHECK(FormatDuration(500ms) == "500ms");
  CHECK(FormatDuration(0ms) == "0s");
  CHECK(FormatDuration(-1500ms) == "-1s500ms");
  CHECK(FormatDuration(14 * 24h) == "2w");
  CHECK(FormatDuration(90 * 24h) == "90d");
}

TEST_CASE("Sizes accept bytes and binary or decimal units") {
  CHECK(ParseByteSize("1048576") == 1048576u);
  CHECK(ParseByteSize("512B") == 512u);
  CHECK(ParseByteSize("2KiB") == 2048u);
  CHECK(ParseByteSize("64MiB") == 64u * 1024 * 1024);
  CHECK(ParseByteSize("1GiB") == 1024u * 1024 * 1024);
  CHECK(ParseByteSize("2KB") == 2000u);
  CHECK(ParseByteSize("100MB") == 100'000'000u);
  CHECK(ParseByteSize("1GB") == 1'000'000'000u);
  for (const char* bad : {"", "MiB", "1.5MiB", "-1", "1 MiB", "1mib", "1Mi", "99999999999999GiB"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseByteSize(bad).has_value());
  }
}

TEST_CASE("Listen addresses split into host and port") {
  SUBCASE("all interfaces") {
    const auto address = ParseListenAddress(":10190");
    REQUIRE(address);
    CHECK(address->host.empty());
    CHECK(address->port == 10190);
  }
  SUBCASE("IPv4") {
    const auto address = ParseListenAddress("127.0.0.1:0");
    REQUIRE(address);
    CHECK(address->host == "127.0.0.1");
    CHECK(address->port == 0);
  }
  SUBCASE("IPv6 in brackets") {
    const auto address = ParseListenAddress("[::1]:65535");
    REQUIRE(address);
    CHECK(address->host == "::1");
    CHECK(address->port == 65535);
  }
  SUBCASE("a hostname") {
    const auto address = ParseListenAddress("localhost:80");
    REQUIRE(address);
    CHECK(address->host == "localhost");
  }
}

TEST_CASE("A config file is read from disk and its errors name the file") {
  SUBCASE("valid") {
    const TempFile file("log:\n  level: warn\n");
    CHECK(LoadConfigFile(file.path()).log.level == exporter::log::LogLevel::kWarn);
  }
  SUBCASE("invalid") {
    const TempFile file("log:\n  level: warn\n  level: info\n");
    CHECK_THROWS_WITH_AS(
        LoadConfigFile(file.path()),
        (file.path() + ":3: log.level: duplicate key (first defined at line 2)").c_str(),
        ConfigError);
  }
  SUBCASE("missing") {
    CHECK_THROWS_WITH_AS(
        LoadConfigFile("/nonexistent/config.yml"),
        "/nonexistent/config.yml: cannot open the config file: No such file or directory",
        ConfigError);
  }
  SUBCASE("a directory") { CHECK_THROWS_AS(LoadConfigFile("/tmp"), ConfigError); }
}

TEST_CASE("ResolveConfig applies defaults, then the file, then the flags") {
  const TempFile file(
      "proxy:\n  socket: /from/file.sock\n  timeout: 5s\nweb:\n  max_requests: 9\nlog:\n  level: "
      "debug\n");
  SUBCASE("no file, no flags: defaults") { CheckDefaults(ResolveConfig(CommandLine{})); }
  SUBCASE("file only") {
    CommandLine command_line;
    command_line.config_file = file.path();
    const Config config = ResolveConfig(command_line);
    CHECK(config.proxy.socket == "/from/file.sock");
    CHECK(config.proxy.timeout == 5s);
    CHECK(config.web.max_requests == 9);
    CHECK(config.log.level == exporter::log::LogLevel::kDebug);
    CHECK(config.web.listen_addresses == std::vector<std::string>{":10190"});
  }
  SUBCASE("flags override the file") {
    const std::string config_flag = "--config.file=" + file.path();
    const char* argv[] = {"smartproxy_exporter",
                          config_flag.c_str(),
                          "--proxy.timeout",
                          "750ms",
                          "--web.max-requests=3",
                          "--log.level=error",
                          "--log.format",
                          "json",
                          "--web.listen-address=127.0.0.1:0",
                          "--web.telemetry-path=/m"};
    const Config config = ResolveConfig(ParseCommandLine(std::size(argv), argv));
    CHECK(config.proxy.socket == "/from/file.sock");  // not given as a flag: the file's value
    CHECK(config.proxy.timeout == 750ms);
    CHECK(config.web.max_requests == 3);
    CHECK(config.log.level == exporter::log::LogLevel::kError);
    CHECK(config.log.format == exporter::log::LogFormat::kJson);
    CHECK(config.web.listen_addresses == std::vector<std::string>{"127.0.0.1:0"});
    CHECK(config.web.telemetry_path == "/m");
  }
  SUBCASE("the result is validated") {
    CommandLine command_line;
    command_line.web_telemetry_path = "/-/ready";
    CHECK_THROWS_WITH_AS(ResolveConfig(command_line),
                         "invalid configuration: web.telemetry_path: must not be one of the "
                         "reserved paths /, /-/healthy, /-/ready, got \"/-/ready\"",
                         ConfigError);
  }
}

TEST_CASE("The example config in deploy/ parses and equals the defaults") {
  const Config config = LoadConfigFile(SOURCE_DIR "/deploy/config/smartproxy_exporter.yml");
  CheckDefaults(config);
  ValidateConfig(config);
}

TEST_CASE("ValidateConfig refuses no listen address and the same address twice") {
  Config config;
  config.web.listen_addresses = {};
  CHECK_THROWS_WITH_AS(ValidateConfig(config),
                       "invalid configuration: web.listen_address: must name at least one address",
                       ConfigError);
  // Strings to compare only: ValidateConfig binds nothing.
  config.web.listen_addresses = {"127.0.0.1:9000", "[::1]:9000", "127.0.0.1:9000"};
  CHECK_THROWS_WITH_AS(
      ValidateConfig(config),
      "invalid configuration: web.listen_address: address \"127.0.0.1:9000\" given more than once",
      ConfigError);
  config.web.listen_addresses = {"127.0.0.1:9000", "[::1]:9000", ":0", ":0"};
  CHECK_NOTHROW(ValidateConfig(config));
}

}  // namespace
}  // namespace exporter::config
