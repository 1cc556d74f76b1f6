#include "proxy_client/snapshot_client.h"

#include <curl/curl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "page_memory/page_buffer.h"
#include "proxy_client/snapshot_parser.h"

namespace proxy_client {
namespace {

constexpr std::size_t kMaxReasonLength = 200;

void GlobalInitOnce() {
  // curl_global_init is not thread-safe in curl 7.88; every client goes through here first.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Proxy-supplied text made safe for a log line: printable ASCII only, bounded length.
std::string Sanitize(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (out.size() >= kMaxReasonLength) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(c);
    out += (byte >= 0x20 && byte < 0x7f) ? c : '?';
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '?')) out.pop_back();
  return out;
}

std::string ProcessIdentity() {
  std::string out =
      "this process runs as uid=" + std::to_string(getuid()) + " gid=" + std::to_string(getgid());
  gid_t groups[64];
  const int count = getgroups(64, groups);
  if (count > 0) {
    out += " groups=";
    for (int i = 0; i < count; ++i) {
      if (i > 0) out += ',';
      out += std::to_string(groups[i]);
    }
  }
  return out;
}

std::string FileTypeName(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a socket";
}

// A connect failure explained from what the file system says about the path and what the
// kernel said about the connect (curl's CURLINFO_OS_ERRNO).
FetchError DescribeConnectFailure(const std::string& path, long os_errno) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) {
    const int stat_errno = errno;
    if (stat_errno == ENOENT) {
      return {FetchErrorKind::kConnect,
              "proxy socket " + path +
                  " does not exist (is the proxy running with its snapshot adapter?)"};
    }
    if (stat_errno == EACCES) {
      return {FetchErrorKind::kConnect, "permission denied reaching " + path +
                                            " (a directory on the path is not searchable; " +
                                            ProcessIdentity() + ")"};
    }
    return {FetchErrorKind::kConnect,
            "cannot reach proxy socket " + path + ": " + std::strerror(stat_errno)};
  }
  if (!S_ISSOCK(info.st_mode)) {
    return {FetchErrorKind::kConnect,
            path + " is not a socket (it is " + FileTypeName(info.st_mode) + ")"};
  }
  if (os_errno == EACCES || os_errno == EPERM) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return {FetchErrorKind::kConnect, "permission denied connecting to " + path +
                                          " (socket owner uid=" + std::to_string(info.st_uid) +
                                          " gid=" + std::to_string(info.st_gid) + " mode " + mode +
                                          "; " + ProcessIdentity() + ")"};
  }
  if (os_errno == ECONNREFUSED) {
    return {FetchErrorKind::kConnect,
            "connection refused on " + path + ": nobody is listening (a stale socket?)"};
  }
  return {FetchErrorKind::kConnect,
          "cannot connect to " + path + ": " +
              (os_errno != 0 ? std::strerror(static_cast<int>(os_errno)) : "unknown error")};
}

}  // namespace

struct SnapshotClient::Impl {
  CURL* curl = nullptr;
  // The body as received, followed by room for the parser's padding. Its pages go to the pool
  // after each parse (page_memory/page_pool.h); the mapping stays for the next body.
  page_memory::PageBuffer body;
  std::size_t body_bytes = 0;
  std::size_t max_body_bytes = 0;
  bool too_large = false;
  bool out_of_memory = false;
  std::size_t last_good_body_bytes = 0;
  SnapshotParser parser;
  char error_buffer[CURL_ERROR_SIZE] = {};

  static size_t OnBody(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Impl*>(user);
    const std::size_t bytes = size * count;
    // CURLOPT_MAXFILESIZE only refuses a transfer whose length is announced up front (curl
    // 7.88); a streamed or lying body is cut off here, while it arrives.
    if (self->body_bytes + bytes > self->max_body_bytes) {
      self->too_large = true;
      return 0;  // makes curl abort with CURLE_WRITE_ERROR
    }
    const std::size_t needed = self->body_bytes + bytes + kParsePaddingBytes;
    if (needed > self->body.room()) {
      if (needed > self->body.capacity() &&
          !self->body.Reserve(std::max(needed, 2 * self->body.capacity()), self->body_bytes)) {
        self->out_of_memory = true;
        return 0;
      }
      self->body.MakeWritable(needed);
    }
    std::memcpy(self->body.data() + self->body_bytes, data, bytes);
    self->body_bytes += bytes;
    return bytes;
  }
  std::string_view Body() const { return {body.data(), body_bytes}; }
};

SnapshotClient::SnapshotClient(SnapshotClientOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  GlobalInitOnce();
  impl_->max_body_bytes = options_.max_body_bytes;
  CURL* curl = curl_easy_init();
  impl_->curl = curl;
  if (curl == nullptr) return;  // Fetch reports it
  curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, options_.socket_path.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // timeouts must not raise SIGALRM in a server
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Impl::OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, impl_.get());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, impl_->error_buffer);
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options_.max_body_bytes));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "smartproxy_exporter");
}

SnapshotClient::~SnapshotClient() {
  if (impl_->curl != nullptr) curl_easy_cleanup(impl_->curl);
}

Expected<FetchResult, FetchError> SnapshotClient::Fetch(const FetchRequest& request) {
  Impl& impl = *impl_;
  if (impl.curl == nullptr) {
    return FetchError{FetchErrorKind::kConnect, "libcurl could not create a handle"};
  }
  if (request.deadline.count() <= 0) {
    return FetchError{FetchErrorKind::kTimeout, "no time left to fetch a snapshot"};
  }
  std::string url = "http://localhost/v1/snapshot";
  char separator = '?';
  if (request.ips.has_value()) {
    url += separator + std::string("ips=") + std::to_string(*request.ips);
    separator = '&';
  }
  if (request.ip_grouping.has_value()) {
    url += separator + std::string("ipv4Prefix=") +
           std::to_string(request.ip_grouping->ipv4_prefix) +
           "&ipv6Prefix=" + std::to_string(request.ip_grouping->ipv6_prefix);
  }
  curl_easy_setopt(impl.curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(impl.curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.deadline.count()));
  curl_easy_setopt(impl.curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.deadline.count()));
  impl.body_bytes = 0;
  impl.too_large = false;
  impl.out_of_memory = false;
  // Room for a body like the last one, so that receiving it does not grow the buffer.
  impl.body.Reserve(impl.last_good_body_bytes + impl.last_good_body_bytes / 8 + kParsePaddingBytes,
                    0);
  // Keep the buffer's mapping for the next scrape but lend its pages, and never keep the mapping
  // of one huge or hostile body: whatever this fetch returns, unmap a buffer far beyond the usual.
  struct ReleaseBuffer {
    Impl& impl;
    ~ReleaseBuffer() {
      if (impl.body.capacity() > 4 * impl.last_good_body_bytes + (1u << 20)) {
        impl.body.Discard();
      } else {
        impl.body.ReleasePages();
      }
    }
  } release_buffer{impl};
  impl.error_buffer[0] = '\0';

  const CURLcode code = curl_easy_perform(impl.curl);
  const std::string& path = options_.socket_path;
  const std::string detail =
      impl.error_buffer[0] != '\0' ? impl.error_buffer : curl_easy_strerror(code);
  if (code != CURLE_OK) {
    long os_errno = 0;
    curl_easy_getinfo(impl.curl, CURLINFO_OS_ERRNO, &os_errno);
    switch (code) {
      case CURLE_WRITE_ERROR:
      case CURLE_FILESIZE_EXCEEDED:
        if (impl.out_of_memory) {
          return FetchError{FetchErrorKind::kTooLarge,
                            "out of memory while receiving a snapshot body after " +
                                std::to_string(impl.body_bytes) + " bytes"};
        }
        if (impl.too_large || code == CURLE_FILESIZE_EXCEEDED) {
          return FetchError{FetchErrorKind::kTooLarge, "snapshot body exceeds the maximum of " +
                                                           std::to_string(options_.max_body_bytes) +
                                                           " bytes (proxy.max_body_size)"};
        }
        break;
      case CURLE_OPERATION_TIMEDOUT:
        return FetchError{FetchErrorKind::kTimeout,
                          "no complete snapshot from " + path + " within " +
                              std::to_string(request.deadline.count()) + "ms (received " +
                              std::to_string(impl.body_bytes) + " bytes)"};
      case CURLE_COULDNT_CONNECT:
        return DescribeConnectFailure(path, os_errno);
      case CURLE_PARTIAL_FILE:
        return FetchError{FetchErrorKind::kParse,
                          "snapshot body truncated: the proxy closed the connection after " +
                              std::to_string(impl.body_bytes) + " bytes"};
      case CURLE_GOT_NOTHING:
      case CURLE_RECV_ERROR:
      case CURLE_SEND_ERROR:
        return FetchError{FetchErrorKind::kConnect,
                          "connection to " + path + " failed before a response: " + detail};
      default:
        break;
    }
    return FetchError{FetchErrorKind::kParse, "invalid HTTP response from " + path + ": " + detail};
  }

  long status = 0;
  curl_easy_getinfo(impl.curl, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    std::string message = "proxy answered HTTP " + std::to_string(status);
    const std::string reason = Sanitize(impl.Body());
    if (!reason.empty()) message += ": " + reason;
    return FetchError{FetchErrorKind::kHttpStatus, std::move(message)};
  }

  auto parsed = impl.parser.ParseConsuming(&impl.body, impl.body_bytes);
  if (!parsed) {
    const ParseError& error = parsed.error();
    return FetchError{error.unsupported_version ? FetchErrorKind::kVersion : FetchErrorKind::kParse,
                      error.message};
  }
  impl.last_good_body_bytes = impl.body_bytes;
  return FetchResult{std::move(parsed).value(), impl.body_bytes};
}

}  // namespace proxy_client
