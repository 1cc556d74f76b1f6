// Memory with slow readers (docs/architecture.md, "Memory"): ten clients that read their
// /metrics responses slowly, each from a fetch of its own, at 100k client IPs with every IP
// exported (300k series, a 24 MB text). An identity response holds its snapshot text only
// while fewer than two large texts are held; the others are sent from the compressed copy.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "exposition.h"
#include "http_get.h"
#include "processes.h"
#include "temp_dir.h"

using namespace std::chrono_literals;
using namespace test_support;

namespace {

constexpr int kSlowReaders = 10;

// The bound is about the exporter's own memory: a sanitizer build (the exporter these tests run
// is built like them) multiplies it, so the test is skipped there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
constexpr std::size_t kMiB = 1024 * 1024;

// VmHWM of `pid` in bytes.
std::size_t PeakRss(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoul(line.substr(6)) * 1024;
  }
  FAIL("no VmHWM for " << pid);
  return 0;
}

// A client that sends GET /metrics (identity), reads the head of the response and then stops
// reading, with a small receive buffer, so that the server's writes block on it.
class SlowReader {
 public:
  explicit SlowReader(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    const int receive_buffer = 64 * 1024;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    REQUIRE(send(fd_, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size()));
  }
  ~SlowReader() { close(fd_); }
  SlowReader(const SlowReader&) = delete;
  SlowReader& operator=(const SlowReader&) = delete;

  // Reads until `bytes` have arrived (the response has started: its fetch is done).
  void ReadAtLeast(std::size_t bytes) { Read(bytes); }
  // Reads the rest, until the server closes; returns the body.
  std::string Finish() {
    Read(SIZE_MAX);
    const auto end_of_head = received_.find("\r\n\r\n");
    REQUIRE(end_of_head != std::string::npos);
    return received_.substr(end_of_head + 4);
  }

 private:
  void Read(std::size_t until) {
    char buffer[65536];
    while (received_.size() < until) {
      pollfd entry{fd_, POLLIN, 0};
      REQUIRE_MESSAGE(poll(&entry, 1, 30000) > 0, "no byte for 30 s");
      const ssize_t got = recv(fd_, buffer, sizeof buffer, 0);
      if (got < 0 && errno == EINTR) continue;
      REQUIRE(got >= 0);
      if (got == 0) return;
      received_.append(buffer, static_cast<std::size_t>(got));
    }
  }

  int fd_;
  std::string received_;
};

}  // namespace

TEST_CASE("Ten slow readers of a 24 MB text keep the exporter within its memory bound" *
          doctest::skip(kSanitized)) {
  TempDir dir;
  ProxySimProcess sim(dir, {"--ips", "100000", "--routes", "8", "--seed", "1"});
  WriteFile(dir.File("config.yml"), "metrics:\n  ips:\n    top: 1000000\n");
  ExporterProcess exporter(
      dir, {"--proxy.socket", sim.socket(), "--config.file", dir.File("config.yml")});
  // Warm: one identity and one gzip scrape size the buffers and give the sizes of the bound.
  const HttpResponse identity = HttpGet(exporter.Url());
  REQUIRE(identity.status == 200);
  HttpRequest gzip_request;
  gzip_request.url = exporter.Url();
  gzip_request.headers = {"Accept-Encoding: gzip"};
  const HttpResponse gzip = HttpFetch(gzip_request);
  REQUIRE(gzip.status == 200);
  const std::size_t text = identity.body.size();
  const std::size_t compressed = gzip.body.size();
  REQUIRE(text > 20 * kMiB);
  const std::size_t warm = PeakRss(exporter.process().pid());

  // Each reader starts once the previous one's response has begun, so every reader has a
  // fetch, and a text, of its own.
  std::vector<std::unique_ptr<SlowReader>> readers;
  for (int i = 0; i < kSlowReaders; ++i) {
    readers.push_back(std::make_unique<SlowReader>(exporter.port()));
    readers.back()->ReadAtLeast(4096);
  }
  const std::size_t peak = PeakRss(exporter.process().pid());
  // The bound: what one scrape needed (warm), two held texts and the one being rendered, and a
  // compressed copy per reader. Without it every reader holds a text: warm + 9 texts more.
  const std::size_t bound = warm + 3 * text + kSlowReaders * compressed + 16 * kMiB;
  MESSAGE("text " << text / kMiB << " MiB, compressed " << compressed / kMiB << " MiB, warm "
                  << warm / kMiB << " MiB, peak with " << kSlowReaders << " slow readers "
                  << peak / kMiB << " MiB, bound " << bound / kMiB << " MiB");
  CHECK(peak <= bound);

  // Every reader still gets its whole, valid response. All are read to the end first: checking
  // one 24 MB text takes long enough that the readers after it would stall past the exporter's
  // send timeout (web.request_timeout), which is the next test's case.
  std::vector<std::string> bodies;
  for (auto& reader : readers) bodies.push_back(reader->Finish());
  for (const std::string& body : bodies) {
    const auto samples = ParseExposition(body);
    CHECK(SampleValue(samples, "smartproxy_up") == 1);
    CHECK(CountOf(samples, "smartproxy_ip_connections_active") == 100001);
  }
}

TEST_CASE("A reader that stalls past the send timeout gets a cut response, never one with a gap" *
          doctest::skip(kSanitized)) {
  TempDir dir;
  ProxySimProcess sim(dir, {"--ips", "100000", "--routes", "8", "--seed", "1"});
  WriteFile(dir.File("config.yml"),
            "web:\n  request_timeout: 1s\nmetrics:\n  ips:\n    top: 1000000\n");
  ExporterProcess exporter(
      dir, {"--proxy.socket", sim.socket(), "--config.file", dir.File("config.yml")});
  // Two held texts and one sent from its compressed copy: both ways of sending are cut.
  std::vector<std::unique_ptr<SlowReader>> readers;
  for (int i = 0; i < 3; ++i) {
    readers.push_back(std::make_unique<SlowReader>(exporter.port()));
    readers.back()->ReadAtLeast(4096);
  }
  std::this_thread::sleep_for(2500ms);  // every send blocked longer than the 1 s timeout
  for (auto& reader : readers) {
    const std::string body = reader->Finish();
    // What arrived is a prefix of the text: it never resumes after the lost bytes, so the
    // exporter's own metrics at the end (written after the snapshot's series) are not there.
    CHECK(body.size() < 20 * kMiB);
    CHECK(body.find("process_max_fds") == std::string::npos);
    CHECK(body.rfind("# HELP smartproxy_up ", 0) == 0);
  }
  // The exporter serves on.
  CHECK(HttpGet(exporter.Url()).status == 200);
}
