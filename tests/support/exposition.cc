#include "exposition.h"

#include <doctest/doctest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <cstdlib>
#include <sstream>

#include "temp_dir.h"

namespace test_support {
namespace {

// Where the series part of a sample line ends: after the closing brace of the label set
// (label values may hold spaces, braces and escaped quotes) or at the first space.
std::size_t SeriesEnd(const std::string& line) {
  const auto brace = line.find('{');
  const auto space = line.find(' ');
  if (brace == std::string::npos || (space != std::string::npos && space < brace)) return space;
  bool in_quotes = false;
  for (std::size_t i = brace; i < line.size(); ++i) {
    const char c = line[i];
    if (in_quotes) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      }
    } else if (c == '"') {
      in_quotes = true;
    } else if (c == '}') {
      return i + 1;
    }
  }
  return std::string::npos;
}

std::string MetricName(const std::string& series) { return series.substr(0, series.find('{')); }

}  // namespace

std::map<std::string, double> ParseExposition(const std::string& text) {
  std::map<std::string, double> samples;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto end = SeriesEnd(line);
    REQUIRE_MESSAGE(end != std::string::npos, "malformed sample line: " << line);
    const std::string series = line.substr(0, end);
    const std::string value = line.substr(end + 1);
    const bool inserted = samples.emplace(series, std::strtod(value.c_str(), nullptr)).second;
    REQUIRE_MESSAGE(inserted, "series written twice: " << series);
  }
  return samples;
}

double SampleValue(const std::map<std::string, double>& samples, const std::string& series) {
  const auto it = samples.find(series);
  REQUIRE_MESSAGE(it != samples.end(), "no sample " << series);
  return it->second;
}

double SumOf(const std::map<std::string, double>& samples, const std::string& name) {
  double sum = 0;
  for (const auto& [series, value] : samples) {
    if (MetricName(series) == name) sum += value;
  }
  return sum;
}

std::size_t CountOf(const std::map<std::string, double>& samples, const std::string& name) {
  std::size_t count = 0;
  for (const auto& entry : samples) {
    if (MetricName(entry.first) == name) ++count;
  }
  return count;
}

CommandResult RunCommand(const std::string& command_line) {
  CommandResult result;
  FILE* pipe = popen((command_line + " 2>&1").c_str(), "r");
  REQUIRE_MESSAGE(pipe != nullptr, "cannot run " << command_line);
  char buffer[4096];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, read);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

CommandResult PromtoolCheckMetrics(const std::string& text) {
  TempDir dir;
  WriteFile(dir.File("metrics.prom"), text);
  const auto which = RunCommand("command -v promtool");
  REQUIRE_MESSAGE(which.exit_code == 0,
                  "promtool not found: scripts/setup.sh installs Debian's `prometheus` package");
  return RunCommand("promtool check metrics < " + dir.File("metrics.prom"));
}

}  // namespace test_support
