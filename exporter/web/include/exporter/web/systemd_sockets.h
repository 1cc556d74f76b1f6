#pragma once

#include <string>
#include <vector>

// systemd socket activation (sd_listen_fds(3)), read without libsystemd: a service started by
// its .socket unit inherits the listening sockets from descriptor 3 on, and LISTEN_PID and
// LISTEN_FDS say how many are its own.
namespace exporter::web {

struct SystemdSockets {
  std::vector<int> fds;  // the inherited listening sockets, in order; empty on error
  std::string error;     // why there are none, for the log and exit status
};

// The sockets systemd passed to this process, each checked to be a listening TCP socket (a
// .socket unit with ListenStream=[host:]port). LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are
// removed from the environment, as sd_listen_fds(1) does, so that no child takes them as its own.
SystemdSockets TakeSystemdSockets();

}  // namespace exporter::web
