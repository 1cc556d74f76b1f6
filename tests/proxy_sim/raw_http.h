#pragma once

// Raw HTTP/1.1 over a Unix socket, for testing proxy-sim byte by byte. Header-only.

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace proxy_sim_test {

// An open connection to a Unix socket; closed on destruction.
class RawConnection {
 public:
  explicit RawConnection(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads more bytes into buffer() until `deadline`; false on EOF, error or timeout.
  bool ReadMore(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[64 * 1024];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  // True once the peer closed (a read returned 0) before `deadline`.
  bool WaitForClose(std::chrono::steady_clock::time_point deadline) {
    while (!eof_) {
      if (!ReadMore(deadline) && !eof_) return false;
    }
    return true;
  }

  std::string& buffer() { return buffer_; }
  bool eof() const { return eof_; }

 private:
  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// Reads one response framed by Content-Length; nullopt on timeout, EOF or malformed framing.
inline std::optional<RawResponse> ReadResponse(RawConnection& connection,
                                               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string& buffer = connection.buffer();
  std::size_t head_end;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (!connection.ReadMore(deadline)) return std::nullopt;
  }
  RawResponse response;
  const std::string head = buffer.substr(0, head_end);
  if (head.compare(0, 9, "HTTP/1.1 ") != 0) return std::nullopt;
  response.status = std::stoi(head.substr(9, 3));
  std::size_t line_start = head.find("\r\n");
  while (line_start != std::string::npos) {
    line_start += 2;
    const std::size_t line_end = head.find("\r\n", line_start);
    const std::string line = head.substr(line_start, line_end - line_start);
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      response.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    line_start = line_end;
  }
  const auto length_header = response.headers.find("content-length");
  if (length_header == response.headers.end()) return std::nullopt;
  const std::size_t length = std::stoull(length_header->second);
  const std::size_t body_start = head_end + 4;
  while (buffer.size() - body_start < length) {
    if (!connection.ReadMore(deadline)) return std::nullopt;
  }
  response.body = buffer.substr(body_start, length);
  buffer.erase(0, body_start + length);
  return response;
}

inline std::string GetRequest(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n" +
         std::string(extra_headers) + "\r\n";
}

}  // namespace proxy_sim_test
