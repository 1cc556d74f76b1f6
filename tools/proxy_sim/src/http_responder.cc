#include "http_responder.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <string>
#include <string_view>

#include "proxy_sim/http_request.h"
#include "proxy_sim/snapshot_json.h"
#include "shared_state.h"
#include "socket_io.h"

namespace proxy_sim {
namespace {

using internal::PauseUnlessStopped;
using internal::SendAll;
using internal::WaitFor;
using internal::WaitResult;

constexpr std::chrono::milliseconds kForever{-1};

std::string StatusHead(int status, std::string_view reason, std::string_view content_type,
                       std::uint64_t content_length, bool keep_alive, int minor_version,
                       std::string_view extra_headers = {}) {
  std::string head = "HTTP/1.1 ";
  char digits[24];
  head.append(digits,
              static_cast<std::size_t>(std::to_chars(digits, digits + 24, status).ptr - digits));
  head += ' ';
  head += reason;
  head += "\r\nContent-Type: ";
  head += content_type;
  head += "\r\nContent-Length: ";
  head.append(digits, static_cast<std::size_t>(
                          std::to_chars(digits, digits + 24, content_length).ptr - digits));
  head += "\r\n";
  if (!keep_alive) {
    head += "Connection: close\r\n";
  } else if (minor_version == 0) {
    head += "Connection: keep-alive\r\n";
  }
  head += extra_headers;
  head += "\r\n";
  return head;
}

class Connection {
 public:
  Connection(int fd, SharedState& state) : fd_(fd), state_(state) {}

  void Serve() {
    for (;;) {
      const ParsedRequest parsed = ParseHttpRequest(input_);
      if (parsed.status == ParseStatus::kIncomplete) {
        if (!Receive()) return;
        continue;
      }
      if (parsed.status == ParseStatus::kBad) {
        SendText(400, "Bad Request", parsed.error + "\n", /*keep_alive=*/false, 1);
        return;
      }
      input_.erase(0, parsed.consumed);
      if (!Respond(parsed.request)) return;
    }
  }

 private:
  // Appends what the client sent; false on EOF, error or stop.
  bool Receive() {
    char chunk[16 * 1024];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        input_.append(chunk, static_cast<std::size_t>(n));
        return true;
      }
      if (n == 0) return false;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
      if (WaitFor(fd_, POLLIN, state_.stop_fd, kForever) != WaitResult::kReady) return false;
    }
  }

  bool SendText(int status, std::string_view reason, std::string_view body, bool keep_alive,
                int minor_version, std::string_view extra_headers = {}) {
    const std::string head = StatusHead(status, reason, "text/plain; charset=utf-8", body.size(),
                                        keep_alive, minor_version, extra_headers);
    return SendAll(fd_, {head, body}, state_.stop_fd) && keep_alive;
  }

  // Answers one request; false if the connection must close.
  bool Respond(const HttpRequest& request) {
    const RouteResult route = RouteRequest(request);
    const bool keep_alive = request.keep_alive;
    const int minor = request.minor_version;
    switch (route.kind) {
      case RouteKind::kNotFound:
        return SendText(404, "Not Found", "not found; try GET /v1/snapshot\n", keep_alive, minor);
      case RouteKind::kMethodNotAllowed:
        return SendText(405, "Method Not Allowed", "only GET is allowed\n", keep_alive, minor,
                        "Allow: GET\r\n");
      case RouteKind::kBadQuery:
        return SendText(400, "Bad Request", route.error + "\n", keep_alive, minor);
      case RouteKind::kSnapshot:
        break;
    }

    const std::uint64_t number = ++state_.snapshot_requests;
    const FaultOptions& options = state_.fault_options;
    const FaultMode mode = number > options.after ? state_.fault.load() : FaultMode::kNone;
    switch (mode) {
      case FaultMode::kHang:
        Hang();
        return false;
      case FaultMode::kHttp500:
        return SendText(500, "Internal Server Error",
                        "proxy-sim: simulated internal error (fault http500)\n", keep_alive, minor);
      case FaultMode::kGarbage: {
        static constexpr std::string_view kGarbage =
            "{\"schemaVersion\":1,\"timestamp\":1764040000000,\"connections\":{\"active\":3,"
            "\"total\":oops}} <html>not json</html>";
        const std::string head =
            StatusHead(200, "OK", "application/json", kGarbage.size(), keep_alive, minor);
        return SendAll(fd_, {head, kGarbage}, state_.stop_fd) && keep_alive;
      }
      default:
        break;
    }

    const std::string_view body = RenderBody(mode, route);
    switch (mode) {
      case FaultMode::kSlow:
        return Trickle(body, keep_alive, minor) && keep_alive;
      case FaultMode::kTruncate: {
        const std::string head =
            StatusHead(200, "OK", "application/json", body.size(), keep_alive, minor);
        SendAll(fd_, {head, body.substr(0, body.size() / 2)}, state_.stop_fd);
        return false;  // the caller closes the connection mid-body
      }
      case FaultMode::kHuge:
        return SendHuge(body, keep_alive, minor) && keep_alive;
      default: {
        const std::string head =
            StatusHead(200, "OK", "application/json", body.size(), keep_alive, minor);
        return SendAll(fd_, {head, body}, state_.stop_fd) && keep_alive;
      }
    }
  }

  std::string_view RenderBody(FaultMode mode, const RouteResult& route) {
    std::lock_guard lock(state_.mutex);
    Simulation& simulation = state_.simulation;
    if (mode == FaultMode::kRestart &&
        ++state_.restart_count % std::max<std::uint64_t>(1, state_.fault_options.every) == 0) {
      simulation.Restart();
    }
    if (state_.wall_clock) {
      simulation.AdvanceTo(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
    } else {
      simulation.Advance();
    }
    // The view stays valid after unlocking: the writer belongs to this connection.
    return writer_.Write(simulation, {.max_ips = route.max_ips,
                                      .hostile_names = mode == FaultMode::kHostileNames,
                                      .ip_grouping = route.ip_grouping});
  }

  // Holds the request unanswered until the client gives up or the server stops; what the
  // client sends meanwhile is read and dropped.
  void Hang() {
    char chunk[4096];
    for (;;) {
      if (WaitFor(fd_, POLLIN, state_.stop_fd, kForever) != WaitResult::kReady) return;
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) return;
    }
  }

  // A valid response at slow_bytes_per_second. The body is padded with trailing whitespace
  // (insignificant in JSON, RFC 8259 section 2) to last at least slow_min_duration.
  bool Trickle(std::string_view body, bool keep_alive, int minor) {
    const FaultOptions& options = state_.fault_options;
    const std::uint64_t rate = std::max<std::uint64_t>(1, options.slow_bytes_per_second);
    const auto min_bytes = static_cast<std::size_t>(
        rate * static_cast<std::uint64_t>(options.slow_min_duration.count()) / 1000);
    std::string padded(body);
    if (padded.size() < min_bytes) padded.resize(min_bytes, ' ');
    const std::string response =
        StatusHead(200, "OK", "application/json", padded.size(), keep_alive, minor) + padded;
    // Ten pieces a second, or one byte at a time below 10 B/s.
    const std::size_t piece = std::max<std::uint64_t>(1, rate / 10);
    const std::chrono::milliseconds pause{std::max<std::uint64_t>(1, 1000 * piece / rate)};
    for (std::size_t sent = 0; sent < response.size(); sent += piece) {
      if (sent > 0 && !PauseUnlessStopped(state_.stop_fd, pause)) return false;
      const std::string_view part = std::string_view(response).substr(sent, piece);
      if (!SendAll(fd_, {part}, state_.stop_fd)) return false;
    }
    return true;
  }

  // The snapshot with an unknown "padding" member (ignored by consumers, rule 2) that makes
  // the body strictly larger than huge_bytes, streamed from a small constant buffer.
  bool SendHuge(std::string_view body, bool keep_alive, int minor) {
    static const std::string kFill(64 * 1024, 'x');
    const std::string_view prefix = body.substr(0, body.size() - 1);  // without the final '}'
    constexpr std::string_view kOpen = ",\"padding\":\"";
    constexpr std::string_view kClose = "\"}";
    const std::uint64_t frame = prefix.size() + kOpen.size() + kClose.size();
    const std::uint64_t target = state_.fault_options.huge_bytes + 1;
    std::uint64_t fill = target > frame ? target - frame : 0;
    const std::string head =
        StatusHead(200, "OK", "application/json", frame + fill, keep_alive, minor);
    if (!SendAll(fd_, {head, prefix, kOpen}, state_.stop_fd)) return false;
    while (fill > 0) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(fill, kFill.size()));
      if (!SendAll(fd_, {std::string_view(kFill).substr(0, n)}, state_.stop_fd)) return false;
      fill -= n;
    }
    return SendAll(fd_, {kClose}, state_.stop_fd);
  }

  int fd_;
  SharedState& state_;
  std::string input_;
  SnapshotWriter writer_;
};

}  // namespace

void ServeConnection(int fd, SharedState& state) noexcept {
  try {
    Connection(fd, state).Serve();
  } catch (...) {
    // std::bad_alloc while rendering: drop this connection, keep the server up.
  }
}

}  // namespace proxy_sim
