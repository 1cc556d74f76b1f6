#include "exporter/web/systemd_sockets.h"

#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace exporter::web {
namespace {

constexpr int kFirstListenFd = 3;  // SD_LISTEN_FDS_START

bool ParsePositive(const char* text, long* out) {
  if (text == nullptr) return false;
  const std::string_view view(text);
  const auto [end, ec] = std::from_chars(view.data(), view.data() + view.size(), *out);
  return ec == std::errc() && end == view.data() + view.size() && *out > 0;
}

std::string CheckListeningTcp(int fd) {
  int accepting = 0;
  socklen_t length = sizeof accepting;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) != 0) {
    return "descriptor " + std::to_string(fd) + " is not a socket";
  }
  if (accepting == 0) return "socket " + std::to_string(fd) + " is not listening";
  sockaddr_storage address{};
  socklen_t address_length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_length) != 0 ||
      (address.ss_family != AF_INET && address.ss_family != AF_INET6)) {
    return "socket " + std::to_string(fd) + " is not a TCP socket (ListenStream=[host:]port)";
  }
  int type = 0;
  length = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM) {
    return "socket " + std::to_string(fd) + " is not a stream socket";
  }
  return {};
}

}  // namespace

SystemdSockets TakeSystemdSockets() {
  SystemdSockets sockets;
  long pid = 0;
  long count = 0;
  const bool for_us = ParsePositive(std::getenv("LISTEN_PID"), &pid) && pid == getpid();
  const bool counted = ParsePositive(std::getenv("LISTEN_FDS"), &count);
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  if (!for_us || !counted) {
    sockets.error =
        "no socket activation file descriptors found (LISTEN_PID and LISTEN_FDS not set for "
        "this process: start it from a .socket unit, or drop --web.systemd-socket)";
    return sockets;
  }
  for (long i = 0; i < count; ++i) {
    const int fd = kFirstListenFd + static_cast<int>(i);
    if (std::string problem = CheckListeningTcp(fd); !problem.empty()) {
      sockets.fds.clear();
      sockets.error = std::move(problem);
      return sockets;
    }
    sockets.fds.push_back(fd);
  }
  return sockets;
}

}  // namespace exporter::web
