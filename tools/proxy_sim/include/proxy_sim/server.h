#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "proxy_sim/faults.h"
#include "proxy_sim/simulation.h"

// The simulated proxy: protocol v1 (docs/snapshot-protocol.md) over HTTP/1.1 on a Unix socket,
// one thread per connection, keep-alive, fault injection. Used in-process by tests and
// benchmarks, and by the proxy-sim binary.
namespace proxy_sim {

struct ServerOptions {
  std::string socket_path;  // must fit sockaddr_un (at most 107 bytes)
  SimulationOptions simulation;
  FaultOptions fault;
  // false: every snapshot advances simulated time by simulation.step (deterministic);
  // true: snapshots carry the wall-clock time and traffic follows the real elapsed time.
  bool wall_clock = false;
};

struct SharedState;  // private to the implementation

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens, then serves on background threads; returns once connections are
  // accepted. Removes a stale socket file first. Throws std::runtime_error (with the path and
  // the reason) if the path is too long, exists and is not a socket, is in use by a live
  // server, or cannot be bound. Call at most once, from the thread that calls Stop().
  void Start();
  // Closes the listener and every connection (hanging and trickling ones included), joins all
  // threads and unlinks the socket. Returns promptly; idempotent.
  void Stop();

  // Thread-safe; applies from the next request on. Restarts the restart fault's count.
  void SetFault(FaultMode mode);
  FaultMode fault() const;

  // GET /v1/snapshot requests received so far, faulted ones included. Thread-safe.
  std::uint64_t snapshot_requests() const;
  // Connections accepted so far. Thread-safe.
  std::uint64_t connections_accepted() const;
  const std::string& socket_path() const { return options_.socket_path; }

 private:
  struct Worker;
  void AcceptLoop();
  void ReapWorkers(bool all);

  ServerOptions options_;
  std::unique_ptr<SharedState> state_;
  int listen_fd_ = -1;
  int stop_read_fd_ = -1;
  int stop_write_fd_ = -1;
  unsigned long socket_inode_ = 0;
  bool started_ = false;
  bool stopped_ = false;
  std::thread accept_thread_;
  std::vector<std::unique_ptr<Worker>> workers_;  // accept thread only, then Stop()
};

}  // namespace proxy_sim
