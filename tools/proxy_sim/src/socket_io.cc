#include "socket_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>

namespace proxy_sim::internal {

WaitResult WaitFor(int fd, short events, int stop_fd, std::chrono::milliseconds timeout) {
  std::array<pollfd, 2> fds = {pollfd{stop_fd, POLLIN, 0}, pollfd{fd, events, 0}};
  const nfds_t count = fd >= 0 ? 2 : 1;
  for (;;) {
    const int ready = ::poll(fds.data(), count, static_cast<int>(timeout.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return WaitResult::kTimeout;
    if (fds[0].revents != 0) return WaitResult::kStopped;
    return WaitResult::kReady;  // also on poll errors: the next read or write reports them
  }
}

bool SendAll(int fd, std::initializer_list<std::string_view> parts, int stop_fd) {
  std::array<iovec, 4> iov{};
  std::size_t count = 0;
  for (std::string_view part : parts) {
    if (part.empty()) continue;
    iov[count++] = {const_cast<char*>(part.data()), part.size()};
    if (count == iov.size()) break;
  }
  std::size_t first = 0;
  while (first < count) {
    msghdr message{};
    message.msg_iov = iov.data() + first;
    message.msg_iovlen = count - first;
    const ssize_t sent = ::sendmsg(fd, &message, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
      if (WaitFor(fd, POLLOUT, stop_fd, std::chrono::milliseconds(-1)) != WaitResult::kReady) {
        return false;
      }
      continue;
    }
    auto left = static_cast<std::size_t>(sent);
    while (first < count && left >= iov[first].iov_len) left -= iov[first++].iov_len;
    if (first < count) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return true;
}

bool PauseUnlessStopped(int stop_fd, std::chrono::milliseconds duration) {
  return WaitFor(-1, 0, stop_fd, duration) == WaitResult::kTimeout;
}

}  // namespace proxy_sim::internal
