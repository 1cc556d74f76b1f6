#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace test_support {

// Samples of a text-format exposition, keyed by the series exactly as written
// (`name` or `name{a="b",c="d"}`). Comment lines are skipped. Fails the test on a malformed
// sample line or a series written twice.
std::map<std::string, double> ParseExposition(const std::string& text);

// The value of `series` in `samples`; fails the test if absent.
double SampleValue(const std::map<std::string, double>& samples, const std::string& series);

// Sum of every sample of metric `name` (all label sets).
double SumOf(const std::map<std::string, double>& samples, const std::string& name);
// Number of samples of metric `name`.
std::size_t CountOf(const std::map<std::string, double>& samples, const std::string& name);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command line, capturing its output.
CommandResult RunCommand(const std::string& command_line);

// `promtool check metrics` on `text` (promtool from the Debian package `prometheus`).
CommandResult PromtoolCheckMetrics(const std::string& text);

}  // namespace test_support

// Fails the current test unless promtool accepts `text` without a single complaint.
#define CHECK_PROMTOOL_CLEAN(text)                                         \
  do {                                                                     \
    const auto promtool_result = test_support::PromtoolCheckMetrics(text); \
    CHECK_MESSAGE(promtool_result.exit_code == 0, promtool_result.output); \
    CHECK_MESSAGE(promtool_result.output.empty(), promtool_result.output); \
  } while (false)
