#include "prometheus_api.h"

#include <doctest/doctest.h>
#include <signal.h>

#include <cctype>
#include <cstdio>
#include <regex>
#include <vector>

#include "exposition.h"
#include "http_get.h"

namespace test_support {

using namespace std::chrono_literals;

std::optional<double> QueryValue(int port, const std::string& promql) {
  std::string encoded;
  for (const unsigned char c : promql) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-') {
      encoded += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      encoded += hex;
    }
  }
  const auto response =
      HttpGet("http://127.0.0.1:" + std::to_string(port) + "/api/v1/query?query=" + encoded);
  if (response.status != 200) return std::nullopt;
  static const std::regex value(R"re("value":\[[0-9.e+]+,"([^"]+)"\])re");
  std::smatch match;
  if (!std::regex_search(response.body, match, value)) return std::nullopt;
  return std::stod(match[1].str());
}

bool QueryUntil(int port, const std::string& promql, const std::function<bool(double)>& holds,
                std::chrono::milliseconds timeout) {
  return PollUntil(
      [&] {
        const auto value = QueryValue(port, promql);
        return value && holds(*value);
      },
      timeout);
}

PrometheusProcess::PrometheusProcess(const TempDir& dir, const std::string& scrape_configs)
    : port_(FreeLoopbackPort()) {
  const auto which = RunCommand("command -v prometheus");
  REQUIRE_MESSAGE(which.exit_code == 0,
                  "prometheus not found: scripts/setup.sh installs Debian's `prometheus` package");
  WriteFile(dir.File("prometheus.yml"),
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n" +
                scrape_configs);
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/bin/prometheus", "--config.file=" + dir.File("prometheus.yml"),
                               "--storage.tsdb.path=" + dir.File("data"),
                               "--web.listen-address=127.0.0.1:" + std::to_string(port_)},
      dir.path());
}

PrometheusProcess::~PrometheusProcess() { process_->Stop(SIGTERM, 10s); }

}  // namespace test_support
