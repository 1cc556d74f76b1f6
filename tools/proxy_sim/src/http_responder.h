#pragma once

namespace proxy_sim {

struct SharedState;

// Serves HTTP/1.1 requests on one accepted, non-blocking connection until the client closes,
// a response requires closing, or the server stops. Does not close fd. Never throws.
void ServeConnection(int fd, SharedState& state) noexcept;

}  // namespace proxy_sim
