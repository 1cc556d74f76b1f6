#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proxy_client/defaults.h"
#include "proxy_client/expected.h"
#include "proxy_client/fetch_error.h"
#include "proxy_client/snapshot.h"

namespace proxy_client {

struct SnapshotClientOptions {
  std::string socket_path{kDefaultSocketPath};
  std::size_t max_body_bytes = kDefaultMaxBodyBytes;  // enforced while receiving
};

struct FetchRequest {
  std::chrono::milliseconds deadline = kDefaultFetchTimeout;  // connect, request and response
  std::optional<unsigned> ips;                                // ?ips=N; nullopt asks for every IP
  // ?ipv4Prefix=&ipv6Prefix= (protocol 1.1): the source sums IPs per network before the ips cut.
  // An older source ignores it: the answer's connections.ip_grouping says whether it was done.
  std::optional<IpGrouping> ip_grouping = std::nullopt;
};

struct FetchResult {
  Snapshot snapshot;
  std::size_t body_bytes = 0;  // size of the JSON body as received
};

// Fetches snapshots over HTTP/1.1 on a Unix socket, reusing one connection (keep-alive).
// Blocking; returns within the request's deadline. Not thread-safe: one fetch at a time.
class SnapshotClient {
 public:
  explicit SnapshotClient(SnapshotClientOptions options);
  ~SnapshotClient();
  SnapshotClient(const SnapshotClient&) = delete;
  SnapshotClient& operator=(const SnapshotClient&) = delete;

  Expected<FetchResult, FetchError> Fetch(const FetchRequest& request);

  const SnapshotClientOptions& options() const { return options_; }

 private:
  struct Impl;
  SnapshotClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace proxy_client
