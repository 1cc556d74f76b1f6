#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

// Runs `promtool check metrics` on exposition text (test helper).
namespace exporter_test {

struct PromtoolResult {
  bool found = false;  // promtool is on PATH
  int exit_status = -1;
  std::string output;  // stdout and stderr: lint complaints, parse errors
};

inline PromtoolResult RunPromtoolCheckMetrics(const std::string& text) {
  PromtoolResult result;
  result.found = std::system("command -v promtool >/dev/null 2>&1") == 0;
  if (!result.found) return result;
  char path[] = "/tmp/promtool_input_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return result;
  close(fd);
  std::ofstream(path, std::ios::binary) << text;
  std::string command = std::string("promtool check metrics < ") + path + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe != nullptr) {
    std::array<char, 4096> buffer{};
    std::size_t n;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
      result.output.append(buffer.data(), n);
    int status = pclose(pipe);
    result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  unlink(path);
  return result;
}

}  // namespace exporter_test

// Fails the current test unless promtool accepts `text` without a single complaint.
#define CHECK_PROMTOOL_CLEAN(text)                                               \
  do {                                                                           \
    const auto promtool_result = exporter_test::RunPromtoolCheckMetrics(text);   \
    REQUIRE_MESSAGE(promtool_result.found,                                       \
                    "promtool not found on PATH (Debian package `prometheus`)"); \
    CHECK_MESSAGE(promtool_result.exit_status == 0, promtool_result.output);     \
    CHECK_MESSAGE(promtool_result.output.empty(), promtool_result.output);       \
  } while (false)
