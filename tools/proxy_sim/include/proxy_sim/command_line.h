#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy_sim/server.h"

// The proxy-sim command line, parsed into ServerOptions. Pure.
namespace proxy_sim {

struct CommandLine {
  ServerOptions server;
  bool help = false;                 // --help: print UsageText() and exit 0
  std::optional<std::string> error;  // a usage error: print it and exit 2
};

// args excludes argv[0]. Accepts "--name value" and "--name=value".
CommandLine ParseCommandLine(const std::vector<std::string_view>& args);

std::string UsageText();

}  // namespace proxy_sim
