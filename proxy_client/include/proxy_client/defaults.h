#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

namespace proxy_client {

// The defaults of a fetch, here once: SnapshotClientOptions and FetchRequest start from them,
// and so does the exporter's configuration (proxy.*).
inline constexpr std::string_view kDefaultSocketPath = "/run/smartproxy/metrics.sock";
inline constexpr std::size_t kDefaultMaxBodyBytes = 64 * 1024 * 1024;
inline constexpr std::chrono::milliseconds kDefaultFetchTimeout{2000};

}  // namespace proxy_client
