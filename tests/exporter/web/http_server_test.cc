#include "exporter/web/http_server.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exporter/collector/collector.h"
#include "gunzip.h"

using namespace std::chrono_literals;
using exporter::web::HttpServer;

TEST_CASE("Scrape deadline follows Prometheus' timeout header minus a margin") {
  CHECK(HttpServer::ScrapeDeadline("", 2000ms) == 2000ms);
  CHECK(HttpServer::ScrapeDeadline("10", 2000ms) == 2000ms);
  CHECK(HttpServer::ScrapeDeadline("1.5", 2000ms) == 1250ms);
  CHECK(HttpServer::ScrapeDeadline("0.2", 2000ms) == 100ms);  // short: half of it
  CHECK(HttpServer::ScrapeDeadline("0.01", 2000ms) == 50ms);  // never below 50 ms
  CHECK(HttpServer::ScrapeDeadline("abc", 2000ms) == 2000ms);
  CHECK(HttpServer::ScrapeDeadline("-3", 2000ms) == 2000ms);
  CHECK(HttpServer::ScrapeDeadline("nan", 2000ms) == 2000ms);
  CHECK(HttpServer::ScrapeDeadline("1e400", 2000ms) == 2000ms);
}

namespace {

// How long a raw exchange may go without a byte before the test gives up on it: a liveness
// bound, never a performance assertion.
constexpr std::chrono::milliseconds kSilenceLimit{10000};

// The server on 127.0.0.1 (port 0, read back), with a collector that never reaches a proxy:
// /metrics serves smartproxy_up 0 and the exporter's own metrics.
class TestServer {
 public:
  TestServer()
      : collector_(
            [](const proxy_client::FetchRequest&) -> exporter::collector::FetchOutcome {
              return proxy_client::FetchError{proxy_client::FetchErrorKind::kConnect, "none"};
            },
            exporter::collector::CollectorOptions{}),
        server_(Options(), collector_) {}
  ~TestServer() { server_.Shutdown(1s); }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  int port() const { return server_.ListeningPorts().at(0); }

 private:
  static exporter::web::HttpServerOptions Options() {
    exporter::web::HttpServerOptions options;
    options.listen_addresses = {"127.0.0.1:0"};
    return options;
  }

  exporter::collector::Collector collector_;
  HttpServer server_;
};

// One response as it came over the wire.
struct RawResponse {
  std::string status_line;                                   // without CRLF
  std::vector<std::pair<std::string, std::string>> headers;  // in the order sent
  std::string body;                                          // Content-Length bytes

  // The value of the first header named `name` (case as sent); empty when absent.
  std::string Header(std::string_view name) const {
    for (const auto& [header_name, value] : headers) {
      if (header_name == name) return value;
    }
    return "";
  }
  std::vector<std::string> HeaderNames() const {
    std::vector<std::string> names;
    for (const auto& header : headers) names.push_back(header.first);
    return names;
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
  ~RawConnection() { close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void Send(std::string_view bytes) const {
    while (!bytes.empty()) {
      const ssize_t sent = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent < 0 && errno == EINTR) continue;
      REQUIRE_MESSAGE(sent > 0, "send: " << std::strerror(errno));
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
  }

  // The next response: its head, then as many body bytes as its Content-Length says (none
  // when it answers a HEAD request). Fails the test when it does not arrive whole.
  RawResponse ReadResponse(bool answers_head = false) {
    std::size_t end_of_head = 0;
    while ((end_of_head = received_.find("\r\n\r\n")) == std::string::npos) {
      REQUIRE_MESSAGE(Receive(), "no complete response head; got: " << received_);
    }
    RawResponse response;
    std::string_view head(received_.data(), end_of_head + 2);
    auto next_line = [&] {
      const std::size_t end = head.find("\r\n");
      const std::string line(head.substr(0, end));
      head.remove_prefix(end + 2);
      return line;
    };
    response.status_line = next_line();
    while (!head.empty()) {
      const std::string line = next_line();
      const std::size_t colon = line.find(": ");
      REQUIRE_MESSAGE(colon != std::string::npos, "header line without ': ': " << line);
      response.headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
    }
    received_.erase(0, end_of_head + 4);
    const std::string length = response.Header("Content-Length");
    REQUIRE_MESSAGE(!length.empty(), "no Content-Length");
    const std::size_t body_size = answers_head ? 0 : std::stoul(length);
    while (received_.size() < body_size) {
      REQUIRE_MESSAGE(Receive(), "body cut short");
    }
    response.body = received_.substr(0, body_size);
    received_.erase(0, body_size);
    return response;
  }

  // True when the server closes the connection (FIN or reset) with nothing more sent, before
  // kSilenceLimit passes.
  bool ClosedByServer() {
    const bool closed = !Receive();
    return closed && received_.empty() && !timed_out_;
  }

  // Bytes received beyond the responses read so far.
  const std::string& unread() const { return received_; }

 private:
  // Appends what arrives to received_; false on close, reset or kSilenceLimit of silence.
  bool Receive() {
    char buffer[16384];
    for (;;) {
      pollfd entry{fd_, POLLIN, 0};
      const int ready = poll(&entry, 1, static_cast<int>(kSilenceLimit.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) timed_out_ = true;
      if (ready <= 0) return false;
      const ssize_t got = recv(fd_, buffer, sizeof buffer, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;
      received_.append(buffer, static_cast<std::size_t>(got));
      return true;
    }
  }

  int fd_;
  std::string received_;
  bool timed_out_ = false;
};

// RFC 9110 5.6.7's IMF-fixdate of `time`, written by strftime in the C locale (the test's own
// oracle, independent of the server's formatting).
std::string ImfFixdate(std::time_t time) {
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[64];
  const std::size_t length = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return std::string(text, length);
}

}  // namespace

TEST_CASE("Responses carry a status line, Content-Length, Date and keep-alive on HTTP/1.1") {
  TestServer server;
  RawConnection connection(server.port());
  const std::time_t before = std::time(nullptr);
  connection.Send("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n");
  const RawResponse healthy = connection.ReadResponse();
  connection.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /nowhere HTTP/1.1\r\n\r\n");
  const RawResponse metrics = connection.ReadResponse();
  const RawResponse missing = connection.ReadResponse();
  const std::time_t after = std::time(nullptr);

  CHECK(healthy.status_line == "HTTP/1.1 200 OK");
  CHECK(healthy.body == "Healthy\n");
  CHECK(healthy.HeaderNames() ==
        std::vector<std::string>{"Content-Type", "Content-Length", "Date", "Connection"});
  CHECK(healthy.Header("Content-Type") == "text/plain; charset=utf-8");
  CHECK(healthy.Header("Content-Length") == "8");
  CHECK(healthy.Header("Connection") == "keep-alive");
  const std::string date = healthy.Header("Date");
  bool date_of_now = false;
  for (std::time_t t = before; t <= after; ++t) date_of_now = date_of_now || date == ImfFixdate(t);
  CHECK_MESSAGE(date_of_now, "Date: " << date);

  CHECK(metrics.status_line == "HTTP/1.1 200 OK");
  CHECK(metrics.HeaderNames() ==
        std::vector<std::string>{"Content-Type", "Content-Length", "Vary", "Date", "Connection"});
  CHECK(metrics.Header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(metrics.Header("Content-Length") == std::to_string(metrics.body.size()));
  CHECK(metrics.body.find("\nsmartproxy_up 0\n") != std::string::npos);
  CHECK(metrics.body.ends_with("\n"));
  CHECK(metrics.Header("Connection") == "keep-alive");

  CHECK(missing.status_line == "HTTP/1.1 404 Not Found");
  CHECK(missing.body == "Not Found\n");
  CHECK(missing.Header("Connection") == "keep-alive");
  CHECK(connection.unread().empty());
}

TEST_CASE("Connection: close is answered and done when the request does not keep alive") {
  TestServer server;
  RawConnection connection(server.port());
  std::string request;
  SUBCASE("HTTP/1.0 without a Connection header") { request = "GET /-/ready HTTP/1.0\r\n\r\n"; }
  SUBCASE("HTTP/1.1 with Connection: close") {
    request = "GET /-/ready HTTP/1.1\r\nConnection: close\r\n\r\n";
  }
  SUBCASE("HTTP/1.1 with a Connection header without keep-alive") {
    request = "GET /-/ready HTTP/1.1\r\nConnection: Upgrade, TE\r\n\r\n";
  }
  connection.Send(request);
  const RawResponse response = connection.ReadResponse();
  CHECK(response.status_line.substr(9) == "200 OK");
  CHECK(response.body == "Ready\n");
  CHECK(response.Header("Connection") == "close");
  CHECK(connection.ClosedByServer());
}

TEST_CASE("An HTTP/1.0 request that asks for keep-alive gets it and a second answer") {
  TestServer server;
  RawConnection connection(server.port());
  std::string connection_header;
  SUBCASE("keep-alive") { connection_header = "keep-alive"; }
  SUBCASE("among other options, in another case") { connection_header = "TE, Keep-Alive"; }
  connection.Send("GET /-/ready HTTP/1.0\r\nConnection: " + connection_header + "\r\n\r\n");
  const RawResponse first = connection.ReadResponse();
  CHECK(first.status_line == "HTTP/1.0 200 OK");
  CHECK(first.Header("Connection") == "keep-alive");
  connection.Send("GET /-/healthy HTTP/1.0\r\n\r\n");
  const RawResponse second = connection.ReadResponse();
  CHECK(second.body == "Healthy\n");
  CHECK(second.Header("Connection") == "close");
  CHECK(connection.ClosedByServer());
}

TEST_CASE("HEAD gets the head of the GET response and no body") {
  TestServer server;
  RawConnection connection(server.port());
  std::string path;
  SUBCASE("metrics") { path = "/metrics"; }
  SUBCASE("landing page") { path = "/"; }
  SUBCASE("health") { path = "/-/healthy"; }
  connection.Send("HEAD " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
  const RawResponse head = connection.ReadResponse(/*answers_head=*/true);
  // The next bytes are the next response's: nothing followed the head.
  connection.Send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
  const RawResponse get = connection.ReadResponse();
  CHECK(head.status_line == "HTTP/1.1 200 OK");
  CHECK(head.HeaderNames() == get.HeaderNames());
  CHECK(head.Header("Content-Type") == get.Header("Content-Type"));
  CHECK(std::stoul(head.Header("Content-Length")) > 0);
  CHECK(head.Header("Connection") == "keep-alive");
  CHECK(get.status_line == "HTTP/1.1 200 OK");
  CHECK(get.Header("Content-Length") == std::to_string(get.body.size()));
}

TEST_CASE("A gzip scrape over a raw connection decompresses to the exposition text") {
  TestServer server;
  RawConnection connection(server.port());
  connection.Send("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
  const RawResponse gzip = connection.ReadResponse();
  CHECK(gzip.status_line == "HTTP/1.1 200 OK");
  CHECK(gzip.HeaderNames() == std::vector<std::string>{"Content-Type", "Content-Length", "Vary",
                                                       "Content-Encoding", "Date", "Connection"});
  CHECK(gzip.Header("Content-Encoding") == "gzip");
  CHECK(gzip.Header("Content-Length") == std::to_string(gzip.body.size()));
  const auto text = test_support::Gunzip(gzip.body);
  REQUIRE(text.has_value());
  CHECK(text->find("\nsmartproxy_up 0\n") != std::string::npos);
  CHECK(text->ends_with("\n"));
  CHECK(gzip.Header("Connection") == "keep-alive");
}
