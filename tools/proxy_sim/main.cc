// proxy-sim: wiring and signals only; see proxy_sim/command_line.h and proxy_sim/server.h.
#include <signal.h>

#include <cstdio>
#include <exception>
#include <string_view>
#include <vector>

#include "proxy_sim/command_line.h"
#include "proxy_sim/server.h"

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  const proxy_sim::CommandLine command_line = proxy_sim::ParseCommandLine(args);
  if (command_line.help) {
    std::fputs(proxy_sim::UsageText().c_str(), stdout);
    return 0;
  }
  if (command_line.error) {
    std::fprintf(stderr, "proxy-sim: %s (see --help)\n", command_line.error->c_str());
    return 2;
  }

  // Block the signals before any thread starts, so that only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const proxy_sim::FaultMode configured = command_line.server.fault.mode;
  proxy_sim::Server server(command_line.server);
  try {
    server.Start();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "proxy-sim: %s\n", error.what());
    return 1;
  }
  std::printf("proxy-sim listening on %s\n", server.socket_path().c_str());
  std::fflush(stdout);

  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGUSR1) {
      const auto next =
          server.fault() == proxy_sim::FaultMode::kNone ? configured : proxy_sim::FaultMode::kNone;
      server.SetFault(next);
      const std::string_view name = proxy_sim::FaultModeName(next);
      std::fprintf(stderr, "proxy-sim: fault %.*s\n", static_cast<int>(name.size()), name.data());
      continue;
    }
    server.Stop();
    return 0;
  }
}
