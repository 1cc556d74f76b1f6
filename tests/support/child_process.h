#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace test_support {

// A program started by a test. Its stdout and stderr go to files in `log_dir` so that a
// failing test can show them. Killed (SIGKILL) on destruction if still running, so that a
// failed assertion never leaves a process behind.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, const std::string& log_dir);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool Running();
  // Sends `signal` and waits up to `timeout` for exit; returns the exit status (or 128+signal),
  // nullopt when it did not exit in time.
  std::optional<int> Stop(int signal, std::chrono::milliseconds timeout);
  // Waits for the process to exit on its own.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  void Signal(int signal);
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string stdout_path_;
  std::string stderr_path_;
};

// Polls `condition` until it holds or `timeout` passes; returns whether it held.
bool PollUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it back, close).
int FreeLoopbackPort();

// Path of a built program: BINARY_DIR-relative, e.g. "exporter/smartproxy_exporter".
std::string BuiltProgram(const std::string& relative);

}  // namespace test_support
