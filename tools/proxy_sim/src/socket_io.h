#pragma once

#include <chrono>
#include <initializer_list>
#include <string_view>

// Non-blocking socket helpers that give up as soon as the server's stop fd turns readable.
namespace proxy_sim::internal {

enum class WaitResult { kReady, kStopped, kTimeout };

// Waits until fd has `events` (POLLIN/POLLOUT; hang-ups count as ready) or stop_fd is
// readable. timeout < 0 waits forever.
WaitResult WaitFor(int fd, short events, int stop_fd, std::chrono::milliseconds timeout);

// Sends every part in order on a non-blocking socket, without SIGPIPE. False if the peer left,
// an error occurred or the server stopped.
bool SendAll(int fd, std::initializer_list<std::string_view> parts, int stop_fd);

// Sleeps for `duration` unless the server stops first; false if it stopped.
bool PauseUnlessStopped(int stop_fd, std::chrono::milliseconds duration);

}  // namespace proxy_sim::internal
