// Hostile HTTP clients against the exporter binary: slowloris (idle and trickling connections),
// oversized headers, request bodies, every method, and garbage. Raw sockets send what libcurl
// cannot. What civetweb answers itself (before the exporter's handler runs) is asserted as the
// build the exporter links answers it: civetweb 1.15 with scripts/civetweb-1.15-exporter.patch.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "http_get.h"
#include "processes.h"

using namespace std::chrono_literals;
using namespace test_support;

namespace {

// How long a raw exchange may go without a byte before the test gives up on it: a liveness
// bound, never a performance assertion.
constexpr std::chrono::milliseconds kSilenceLimit{10000};

enum class PeerState {
  kOpen,      // nothing from the server, no FIN, no reset (recv says EAGAIN)
  kAnswered,  // the server sent bytes and has not closed yet
  kClosed,    // FIN or reset from the server
};

// What a raw exchange got back: the bytes, whether the server closed, and the first response
// parsed when there is one.
struct RawResponse {
  std::string bytes;
  bool closed_by_server = false;
  int status = 0;                              // 0: no response at all
  std::map<std::string, std::string> headers;  // lower-case names, first occurrence
  std::string body;                            // everything after the first header block

  // The header's value, empty when absent. `name` in lower case.
  std::string Header(const std::string& name) const {
    const auto found = headers.find(name);
    return found == headers.end() ? std::string() : found->second;
  }
};

// One TCP connection to 127.0.0.1:port, closed on destruction. Never raises SIGPIPE.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE_MESSAGE(connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0,
                    "connect: " << std::strerror(errno));
  }
  RawConnection(RawConnection&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  RawConnection& operator=(RawConnection&&) = delete;
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  ~RawConnection() {
    if (fd_ >= 0) close(fd_);
  }

  // Sends all of `bytes`; false when the server has closed or reset the connection.
  bool Send(std::string_view bytes) const {
    while (!bytes.empty()) {
      const ssize_t sent = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent < 0 && errno == EINTR) continue;
      if (sent <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
  }

  // Half-close: the server reads EOF after what was sent, so an incomplete request is judged
  // at once instead of after request_timeout.
  void FinishSending() const { shutdown(fd_, SHUT_WR); }

  // Everything the server sends until it closes (FIN or reset), or until kSilenceLimit passes
  // without a byte (then closed_by_server stays false).
  RawResponse ReadToEnd() const {
    RawResponse response;
    char buffer[16384];
    for (;;) {
      pollfd entry{fd_, POLLIN, 0};
      const int ready = poll(&entry, 1, static_cast<int>(kSilenceLimit.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) break;
      const ssize_t got = recv(fd_, buffer, sizeof buffer, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        response.closed_by_server = true;
        break;
      }
      response.bytes.append(buffer, static_cast<std::size_t>(got));
    }
    ParseFirstResponse(response);
    return response;
  }

  // The state right now, without waiting. Bytes waiting to be read are consumed.
  PeerState Check() const {
    char buffer[4096];
    bool answered = false;
    for (;;) {
      const ssize_t got = recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
      if (got > 0) {
        answered = true;
        continue;
      }
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return answered ? PeerState::kAnswered : PeerState::kOpen;
      }
      return PeerState::kClosed;  // 0: FIN; ECONNRESET and the like: reset
    }
  }

 private:
  static void ParseFirstResponse(RawResponse& response) {
    const std::string& bytes = response.bytes;
    const auto end = bytes.find("\r\n\r\n");
    if (bytes.rfind("HTTP/", 0) != 0 || end == std::string::npos) return;
    const auto first_line_end = bytes.find("\r\n");
    const auto space = bytes.find(' ');
    if (space == std::string::npos || space + 4 > first_line_end) return;
    response.status = std::stoi(bytes.substr(space + 1, 3));
    std::size_t line_start = first_line_end + 2;
    while (line_start < end) {
      const auto line_end = bytes.find("\r\n", line_start);
      const std::string line = bytes.substr(line_start, line_end - line_start);
      line_start = line_end + 2;
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const auto value_start = line.find_first_not_of(' ', colon + 1);
      response.headers.emplace(name,
                               value_start == std::string::npos ? "" : line.substr(value_start));
    }
    response.body = bytes.substr(end + 4);
  }

  int fd_;
};

// Sends `request` on a fresh connection, half-closes, and reads until the server closes.
RawResponse Exchange(int port, std::string_view request) {
  RawConnection connection(port);
  connection.Send(request);  // the server may close before it has read everything
  connection.FinishSending();
  return connection.ReadToEnd();
}

std::size_t CountIn(const std::vector<RawConnection>& connections, PeerState state) {
  std::size_t count = 0;
  for (const auto& connection : connections) count += connection.Check() == state ? 1 : 0;
  return count;
}

// A normal scrape over a fresh libcurl connection succeeds.
bool ScrapeWorks(const ExporterProcess& exporter) {
  HttpRequest request;
  request.url = exporter.Url();
  const HttpResponse response = HttpFetch(request);
  if (response.status != 200) {
    MESSAGE("scrape: status " << response.status << " " << response.error);
    return false;
  }
  return response.body.find("smartproxy_up") != std::string::npos;
}

// Slowloris, the trickling kind: sends the next byte of a request header that never ends
// ("GET /metrics HTTP/1.1\r\nX-Slow: aaaa...") to every connection, one byte per connection
// every `interval`, from its own thread, until destroyed. A connection the server has closed
// gets nothing more. The connections must outlive it.
class Trickler {
 public:
  Trickler(const std::vector<RawConnection>& connections, std::chrono::milliseconds interval)
      : thread_([this, &connections, interval](std::stop_token stop) {
          constexpr std::string_view kPrefix = "GET /metrics HTTP/1.1\r\nX-Slow: ";
          std::vector<std::size_t> sent(connections.size(), 0);
          std::vector<bool> alive(connections.size(), true);
          std::mutex mutex;
          std::condition_variable_any wake;
          while (!stop.stop_requested()) {
            for (std::size_t i = 0; i < connections.size(); ++i) {
              if (!alive[i]) continue;
              const char byte = sent[i] < kPrefix.size() ? kPrefix[sent[i]] : 'a';
              alive[i] = connections[i].Send(std::string_view(&byte, 1));
              if (alive[i]) ++sent[i];
            }
            fewest_sent_ = *std::min_element(sent.begin(), sent.end());
            std::unique_lock lock(mutex);
            wake.wait_for(lock, stop, interval, [] { return false; });
          }
        }) {}

  // The fewest bytes any one connection has taken so far.
  std::size_t FewestSent() const { return fewest_sent_; }

 private:
  std::atomic<std::size_t> fewest_sent_{0};
  std::jthread thread_;  // last: stopped and joined before the counter goes
};

std::vector<RawConnection> OpenConnections(int port, std::size_t count) {
  std::vector<RawConnection> connections;
  connections.reserve(count);
  for (std::size_t i = 0; i < count; ++i) connections.emplace_back(port);
  return connections;
}

std::string RepeatedHeaders(int count) {
  std::string headers;
  for (int i = 0; i < count; ++i) headers += "X-Header-" + std::to_string(i) + ": v\r\n";
  return headers;
}

}  // namespace

TEST_CASE("200 idle and trickling connections leave scrapes working and stay open") {
  TempDir dir;
  ProxySimProcess sim(dir, {"--ips", "10"});
  // Long enough that no attacker is timed out during the test: the scrape must not be waiting
  // for them to go away.
  WriteFile(dir.File("config.yml"), "web:\n  request_timeout: 60s\n");
  ExporterProcess exporter(dir, {"--proxy.socket", sim.socket(), "--config.file",
                                 dir.File("config.yml")});  // default --web.max-connections 256

  const std::vector<RawConnection> idle = OpenConnections(exporter.port(), 100);
  const std::vector<RawConnection> trickling = OpenConnections(exporter.port(), 100);
  const Trickler trickler(trickling, 200ms);
  // A few bytes into the header on every trickling connection, so each holds a worker thread.
  REQUIRE(PollUntil([&] { return trickler.FewestSent() >= 3; }, 30s));

  HttpRequest request;
  request.url = exporter.Url();
  const HttpResponse response = HttpFetch(request);
  CHECK_MESSAGE(response.status == 200, response.error);
  CHECK(response.body.find("smartproxy_up 1") != std::string::npos);

  // Every attacker is still connected and unanswered: the scrape got a worker of its own.
  CHECK(CountIn(idle, PeerState::kOpen) == idle.size());
  CHECK(CountIn(trickling, PeerState::kOpen) == trickling.size());
  CHECK(exporter.process().Running());
}

TEST_CASE("Idle and trickling connections are closed after the default 5 s request timeout") {
  TempDir dir;
  ExporterProcess exporter(dir, {"--proxy.socket", dir.File("none.sock")});
  const std::vector<RawConnection> idle = OpenConnections(exporter.port(), 100);
  const std::vector<RawConnection> trickling = OpenConnections(exporter.port(), 100);
  const Trickler trickler(trickling, 200ms);

  // request_timeout bounds the whole header, not each read: a client that keeps trickling is
  // closed too. (Liveness bound only; civetweb answers a timed-out partial header with 400.)
  CHECK(PollUntil([&] { return CountIn(trickling, PeerState::kClosed) == trickling.size(); }, 60s));
  CHECK(PollUntil([&] { return CountIn(idle, PeerState::kClosed) == idle.size(); }, 60s));
  // Each had taken more than 10 bytes, one per 200 ms: closed while it was still trickling,
  // not at once.
  CHECK(trickler.FewestSent() > 10);
  CHECK(ScrapeWorks(exporter));
}

TEST_CASE(
    "Beyond --web.max-connections idle clients delay a scrape until request_timeout frees a "
    "worker") {
  // The documented bound: with every worker thread held by an idle client, a scrape waits in
  // civetweb's queue until request_timeout closes enough of them.
  TempDir dir;
  ProxySimProcess sim(dir, {"--ips", "10"});
  WriteFile(dir.File("config.yml"), "web:\n  request_timeout: 2s\n");
  ExporterProcess exporter(dir,
                           {"--proxy.socket", sim.socket(), "--config.file", dir.File("config.yml"),
                            "--web.max-connections=20", "--web.max-requests=4"});
  // 20 take every worker, 10 wait in civetweb's accept queue ahead of the scrape.
  const std::vector<RawConnection> idle = OpenConnections(exporter.port(), 30);

  HttpRequest request;
  request.url = exporter.Url();
  request.timeout = 30s;  // liveness bound: several request_timeouts
  const auto started = std::chrono::steady_clock::now();
  const HttpResponse response = HttpFetch(request);
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK_MESSAGE(response.status == 200, response.error);
  CHECK(response.body.find("smartproxy_up 1") != std::string::npos);
  // The scrape could only be served by a worker an idle client gave up. (Polled: the FIN of
  // that client and the scrape's response travel on different connections.)
  CHECK(PollUntil([&] { return CountIn(idle, PeerState::kClosed) >= 1; }, 10s));
  MESSAGE("scrape behind 30 idle clients and 20 workers took "
          << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms, "
          << CountIn(idle, PeerState::kClosed) << " of 30 idle clients closed by the server");
}

TEST_CASE("Oversized request headers and request lines get a 4xx and the exporter keeps serving") {
  TempDir dir;
  ExporterProcess exporter(dir, {"--proxy.socket", dir.File("none.sock")});
  const std::string big(20 * 1024, 'a');  // max_request_size is 16 KiB

  SUBCASE("one 20 KiB header line") {
    const RawResponse response =
        Exchange(exporter.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n");
    // The patched civetweb answers 431 (asserted by the 413-or-431 test below); any 4xx here.
    CHECK(response.status >= 400);
    CHECK(response.status < 500);
    CHECK(response.Header("connection") == "close");
    CHECK(response.closed_by_server);
  }
  SUBCASE("a 20 KiB request line") {
    const RawResponse response =
        Exchange(exporter.port(), "GET /" + big + " HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(response.status >= 400);
    CHECK(response.status < 500);
    CHECK(response.closed_by_server);
  }
  SUBCASE("100 headers, over civetweb's limit of 64") {
    // civetweb 1.15 keeps the first 64 and silently drops the rest; the exporter's handler
    // answers 431 (asserted by the test below). Here only survival and an answer are required.
    const RawResponse response = Exchange(
        exporter.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n" + RepeatedHeaders(100) + "\r\n");
    CHECK(response.status != 0);
    CHECK(response.closed_by_server);
  }
  CHECK(exporter.process().Running());
  CHECK(ScrapeWorks(exporter));
}

// civetweb 1.15 as Debian ships it answers 400 here (read_message() reports a full buffer as -2,
// which get_message() does not map to 413); scripts/civetweb-1.15-exporter.patch maps it to 431.
TEST_CASE("Oversized request headers get 413 or 431 as the issue asks") {
  TempDir dir;
  ExporterProcess exporter(dir, {"--proxy.socket", dir.File("none.sock")});
  const std::string big(20 * 1024, 'a');
  const RawResponse header =
      Exchange(exporter.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n");
  CHECK((header.status == 413 || header.status == 431));
  const RawResponse line =
      Exchange(exporter.port(), "GET /" + big + " HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK((line.status == 413 || line.status == 414 || line.status == 431));
}

// civetweb 1.15 parse_http_headers() stops at MG_MAX_HEADERS (64) and drops every later header
// without an error, so a Content-Length placed 65th would go unseen and its body be read as the
// next request (one request in, two responses out). The handler refuses 64 or more headers.
TEST_CASE("More than 64 request headers get 431 instead of being silently truncated") {
  TempDir dir;
  ExporterProcess exporter(dir, {"--proxy.socket", dir.File("none.sock")});
  SUBCASE("100 headers") {
    const RawResponse response = Exchange(
        exporter.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n" + RepeatedHeaders(100) + "\r\n");
    CHECK(response.status == 431);
  }
  SUBCASE("a body announced by a 65th header is not served as a second request") {
    const std::string smuggled = "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
    const RawResponse response =
        Exchange(exporter.port(), "HEAD /metrics HTTP/1.1\r\n" + RepeatedHeaders(64) +
                                      "Content-Length: " + std::to_string(smuggled.size()) +
                                      "\r\n\r\n" + smuggled);
    CHECK(response.status >= 400);
    CHECK(response.bytes.find("404 Not Found") == std::string::npos);
  }
}

TEST_CASE("A GET with a body or a chunked body gets 413 with Connection: close") {
  TempDir dir;
  ExporterProcess exporter(dir, {"--proxy.socket", dir.File("none.sock")});
  SUBCASE("Content-Length: 10") {
    const RawResponse response =
        Exchange(exporter.port(),
                 "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789");
    CHECK(response.status == 413);
    CHECK(response.Header("connection") == "close");
    CHECK(response.closed_by_server);
  }
  SUBCASE("Transfer-Encoding: chunked") {
    const RawResponse response =
        Exchange(exporter.port(),
                 "GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "5\r\nhello\r\n0\r\n\r\n");
    CHECK(response.status == 413);
    CHECK(response.Header("connection") == "close");
    CHECK(response.closed_by_server);
  }
  CHECK(exporter.process().Running());
  CHECK(ScrapeWorks(exporter));
}

TEST_CASE("A POST with a body gets 405 with Allow, not 413, and the body is not read") {
  TempDir dir;
  ExporterProcess exporter(dir, {"--proxy.socket", dir.File("none.sock")});
  SUBCASE("Content-Length") {
    // A second request hidden in the body would be answered if the body were read as the
    // next request; the connection closes instead.
    const std::string body = "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
    for (const std::string method : {"POST", "PUT", "PATCH"}) {
      CAPTURE(method);
      const RawResponse response =
          Exchange(exporter.port(), method + " /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                        std::to_string(body.size()) + "\r\n\r\n" + body);
      CHECK(response.status == 405);
      CHECK(response.Header("allow") == "GET, HEAD");
      CHECK(response.Header("connection") == "close");
      CHECK(response.closed_by_server);
      CHECK(response.bytes.find("404 Not Found") == std::string::npos);
    }
  }
  SUBCASE("Transfer-Encoding: chunked") {
    const RawResponse response =
        Exchange(exporter.port(),
                 "POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "5\r\nhello\r\n0\r\n\r\n");
    CHECK(response.status == 405);
    CHECK(response.Header("allow") == "GET, HEAD");
    CHECK(response.closed_by_server);
  }
  CHECK(exporter.process().Running());
  CHECK(ScrapeWorks(exporter));
}

TEST_CASE("Every method but GET and HEAD is refused and the exporter keeps serving") {
  TempDir dir;
  ExporterProcess exporter(dir, {"--proxy.socket", dir.File("none.sock")});
  const auto request = [&](const std::string& method, const std::string& target) {
    return Exchange(exporter.port(), method + " " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
  };

  SUBCASE("methods civetweb knows reach the exporter: 405 with Allow") {
    // CONNECT in origin form ("CONNECT /metrics") is an ordinary request to civetweb.
    for (const std::string path : {"/metrics", "/"}) {
      for (const std::string method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT"}) {
        CAPTURE(path);
        CAPTURE(method);
        const RawResponse response = request(method, path);
        CHECK(response.status == 405);
        CHECK(response.Header("allow") == "GET, HEAD");
      }
    }
  }
  SUBCASE("methods civetweb's table lacks reach the exporter too: 405 with Allow") {
    // Debian's civetweb 1.15 answers these 400 itself; scripts/civetweb-1.15-exporter.patch lets
    // them through to the handler.
    for (const std::string path : {"/metrics", "/"}) {
      for (const std::string method : {"TRACE", "BREW"}) {
        CAPTURE(path);
        CAPTURE(method);
        const RawResponse response = request(method, path);
        CHECK(response.status == 405);
        CHECK(response.Header("allow") == "GET, HEAD");
        CHECK(response.body.find("smartproxy") == std::string::npos);
      }
    }
  }
  SUBCASE("CONNECT in authority form, as a proxy client sends it, gets 400 Invalid URI") {
    const RawResponse response = request("CONNECT", "127.0.0.1:" + std::to_string(exporter.port()));
    CHECK(response.status == 400);
    CHECK(response.body.find("Invalid URI") != std::string::npos);
    CHECK(response.closed_by_server);
  }
  SUBCASE("OPTIONS * is closed without an answer") {
    // civetweb 1.15 leaves local_uri null for "*" and closes ("TODO: Deal with '*'").
    const RawResponse response = request("OPTIONS", "*");
    CHECK(response.closed_by_server);
    CHECK(response.bytes.empty());
  }
  CHECK(exporter.process().Running());
  CHECK(ScrapeWorks(exporter));
}

TEST_CASE("Garbage requests leave the exporter serving") {
  TempDir dir;
  ExporterProcess exporter(dir, {"--proxy.socket", dir.File("none.sock")});

  SUBCASE("1 KiB of random bytes, 20 times") {
    std::mt19937 random(20240917);
    for (int round = 0; round < 20; ++round) {
      CAPTURE(round);
      std::string garbage(1024, '\0');
      for (char& c : garbage) c = static_cast<char>(random() & 0xFF);
      const RawResponse response = Exchange(exporter.port(), garbage);
      CHECK(response.closed_by_server);
      if (response.status != 0) CHECK(response.status == 400);
      CHECK(ScrapeWorks(exporter));
    }
  }
  SUBCASE("a bare CRLF CRLF") {
    CHECK(Exchange(exporter.port(), "\r\n\r\n").status == 400);
    CHECK(ScrapeWorks(exporter));
  }
  SUBCASE("an HTTP/0.9 request") {
    CHECK(Exchange(exporter.port(), "GET /metrics\r\n").status == 400);
    CHECK(ScrapeWorks(exporter));
  }
  SUBCASE("HTTP/2.0 in an HTTP/1 request line") {
    CHECK(Exchange(exporter.port(), "GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n").status == 505);
    CHECK(ScrapeWorks(exporter));
  }
  SUBCASE("a NUL byte in the path") {
    using namespace std::string_literals;
    CHECK(Exchange(exporter.port(), "GET /met\0rics HTTP/1.1\r\nHost: x\r\n\r\n"s).status == 400);
    CHECK(ScrapeWorks(exporter));
  }
  SUBCASE("an encoded NUL (%00) in the path") {
    // Refused with a 4xx (asserted by the test below); here only survival is required.
    CHECK(Exchange(exporter.port(), "GET /metrics%00.png HTTP/1.1\r\nHost: x\r\n\r\n").status != 0);
    CHECK(ScrapeWorks(exporter));
  }
  CHECK(exporter.process().Running());
}

// With civetweb decoding URLs, %00 became a NUL and "/metrics%00.png" compared equal to
// "/metrics" (found by this test). The exporter now compares paths as sent.
TEST_CASE("An encoded NUL in the path does not truncate it to a known endpoint") {
  TempDir dir;
  ExporterProcess exporter(dir, {"--proxy.socket", dir.File("none.sock")});
  for (const std::string path : {"/metrics%00.png", "/-/healthy%00x"}) {
    CAPTURE(path);
    const RawResponse response =
        Exchange(exporter.port(), "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(response.status >= 400);
  }
}
