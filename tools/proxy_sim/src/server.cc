#include "proxy_sim/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "http_responder.h"
#include "shared_state.h"
#include "socket_io.h"

namespace proxy_sim {
namespace {

// Beyond this many open connections new ones are closed at once; a runaway client must not
// exhaust threads.
constexpr std::size_t kMaxConnections = 256;

[[noreturn]] void Fail(const std::string& path, const std::string& what, int error) {
  std::string message = "socket " + path + ": " + what;
  if (error != 0) message += ": " + std::string(std::strerror(error));
  throw std::runtime_error(message);
}

sockaddr_un MakeAddress(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) {
    Fail(path, "path must be 1 to " + std::to_string(sizeof address.sun_path - 1) + " bytes", 0);
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

// True if a server accepts connections on the socket at `address`.
bool IsLive(const sockaddr_un& address) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  const bool live = rc == 0 || errno == EAGAIN || errno == EINPROGRESS;
  ::close(fd);
  return live;
}

}  // namespace

struct Server::Worker {
  std::thread thread;
  std::atomic<bool> done{false};
};

Server::Server(ServerOptions options)
    : options_(std::move(options)),
      state_(std::make_unique<SharedState>(options_.simulation, options_.fault,
                                           options_.wall_clock)) {}

Server::~Server() { Stop(); }

void Server::Start() {
  if (started_) throw std::logic_error("proxy_sim::Server::Start called twice");
  const std::string& path = options_.socket_path;
  const sockaddr_un address = MakeAddress(path);

  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) Fail(path, "exists and is not a socket; not removing it", 0);
    if (IsLive(address)) Fail(path, "already in use by a running server", 0);
    if (::unlink(path.c_str()) != 0) Fail(path, "cannot remove the stale socket", errno);
  }

  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) Fail(path, "socket()", errno);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, 128) != 0) {
    const int error = errno;
    ::close(fd);
    Fail(path, "cannot listen", error);
  }
  struct stat bound {};
  if (::stat(path.c_str(), &bound) == 0) socket_inode_ = bound.st_ino;

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(fd);
    ::unlink(path.c_str());
    Fail(path, "pipe2()", error);
  }
  listen_fd_ = fd;
  stop_read_fd_ = pipe_fds[0];
  stop_write_fd_ = pipe_fds[1];
  state_->stop_fd = stop_read_fd_;
  started_ = true;
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

void Server::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  // The pipe stays readable once written: every poll on it wakes up, now and later.
  const char byte = 1;
  while (::write(stop_write_fd_, &byte, 1) < 0 && errno == EINTR) {
  }
  accept_thread_.join();
  ReapWorkers(/*all=*/true);
  ::close(listen_fd_);
  // Unlink only our own socket, not one that replaced it meanwhile.
  struct stat current {};
  if (::lstat(options_.socket_path.c_str(), &current) == 0 && S_ISSOCK(current.st_mode) &&
      current.st_ino == socket_inode_) {
    ::unlink(options_.socket_path.c_str());
  }
  ::close(stop_read_fd_);
  ::close(stop_write_fd_);
}

void Server::SetFault(FaultMode mode) {
  std::lock_guard lock(state_->mutex);
  state_->restart_count = 0;
  state_->fault.store(mode);
}

FaultMode Server::fault() const { return state_->fault.load(); }

std::uint64_t Server::snapshot_requests() const { return state_->snapshot_requests.load(); }

std::uint64_t Server::connections_accepted() const { return state_->connections_accepted.load(); }

void Server::AcceptLoop() {
  for (;;) {
    if (internal::WaitFor(listen_fd_, POLLIN, stop_read_fd_, std::chrono::milliseconds(-1)) !=
        internal::WaitResult::kReady) {
      return;
    }
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: back off instead of spinning on a listener that stays readable.
        if (!internal::PauseUnlessStopped(stop_read_fd_, std::chrono::milliseconds(50))) return;
      }
      continue;
    }
    ReapWorkers(/*all=*/false);
    if (workers_.size() >= kMaxConnections) {
      ::close(fd);
      continue;
    }
    ++state_->connections_accepted;
    auto worker = std::make_unique<Worker>();
    Worker* raw = worker.get();
    try {
      raw->thread = std::thread([this, fd, raw] {
        ServeConnection(fd, *state_);
        ::close(fd);
        raw->done.store(true);
      });
    } catch (const std::system_error&) {
      ::close(fd);  // no thread for this one; the client sees the connection close
      continue;
    }
    workers_.push_back(std::move(worker));
  }
}

void Server::ReapWorkers(bool all) {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (all || (*it)->done.load()) {
      (*it)->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace proxy_sim
