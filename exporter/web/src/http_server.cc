#include "exporter/web/http_server.h"

#include <civetweb.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "exporter/config/config.h"
#include "exporter/log/log.h"
#include "exporter/strings/ascii.h"
#include "exporter/web/content_negotiation.h"
#include "exporter/web/gzip.h"
#include "exporter/web/landing_page.h"

namespace exporter::web {
namespace {

using collector::Collector;
using collector::ScrapeText;
using conversion::TextBuffer;
using log::LogDebug;
using log::LogError;

// Prometheus sends its scrape timeout; answering after it is wasted work, so the fetch gets
// the timeout less this margin for conversion, serialisation and the network.
constexpr std::chrono::milliseconds kScrapeTimeoutMargin{250};
constexpr std::chrono::milliseconds kMinimumDeadline{50};
constexpr int kMaxRequestHeaders = 64;  // civetweb 1.15's MG_MAX_HEADERS

void LibraryInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mg_init_library(0); });
}

// civetweb's listening_ports syntax for a Go-style listen address. ":9100" listens on every
// IPv4 and IPv6 address, as Go's net.Listen does; civetweb does not resolve names, so
// "localhost" means the IPv4 loopback.
std::string CivetListeningPorts(const std::string& listen_address) {
  const auto parsed = config::ParseListenAddress(listen_address);
  if (!parsed) throw ListenError("invalid listen address " + listen_address);
  const std::string port = std::to_string(parsed->port);
  if (parsed->host.empty()) {
    return (mg_check_feature(MG_FEATURES_IPV6) != 0) ? "+" + port : port;
  }
  if (parsed->host == "localhost") return "127.0.0.1:" + port;
  if (parsed->host.find(':') != std::string::npos) return "[" + parsed->host + "]:" + port;
  return parsed->host + ":" + port;
}

// civetweb's listening_ports for every address: its comma-separated list, each entry with
// civetweb's "s" suffix when TLS is on.
std::string CivetListeningPorts(const std::vector<std::string>& listen_addresses, bool tls) {
  if (listen_addresses.empty()) throw ListenError("no listen address");
  std::string ports;
  for (const std::string& address : listen_addresses) {
    if (!ports.empty()) ports += ',';
    ports += CivetListeningPorts(address) + (tls ? "s" : "");
  }
  return ports;
}

std::string JoinedAddresses(const std::vector<std::string>& listen_addresses) {
  std::string joined;
  for (const std::string& address : listen_addresses) {
    if (!joined.empty()) joined += ", ";
    joined += address;
  }
  return joined;
}

using Headers = std::vector<std::pair<std::string_view, std::string_view>>;

// Body parts below this size are copied into one buffer with the status line and headers and
// go out in one send: with TCP_NODELAY on, every send is a TCP segment of its own that wakes
// the client, and civetweb's mg_response_header_* would send each line separately. Larger parts
// (the shared snapshot text and its deflated copy, megabytes at 300k series) are sent as they
// are: copying them on every scrape would cost more than the sends it saves.
constexpr std::size_t kCoalescedPartMaxBytes = 64 * 1024;

// The Date header's value, as civetweb 1.15's gmt_time_string writes it in the C locale (RFC
// 9110 5.6.7, IMF-fixdate): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string HttpDate(std::time_t now) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm utc{};
  if (gmtime_r(&now, &utc) == nullptr) return "Thu, 01 Jan 1970 00:00:00 GMT";  // as civetweb
  char text[64];
  const int length = std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                                   kDays[static_cast<std::size_t>(utc.tm_wday)], utc.tm_mday,
                                   kMonths[static_cast<std::size_t>(utc.tm_mon)],
                                   utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
  return std::string(text, static_cast<std::size_t>(std::max(length, 0)));
}

// Whether civetweb 1.15 keeps the connection open after this response (should_keep_alive in
// civetweb.c), so that the Connection header says what civetweb will do. Its must_close is
// never set for the responses written here, and the server sets enable_keep_alive to yes;
// what is left is the client's wish: its Connection header if it sent one, else HTTP/1.1.
bool CivetwebKeepsAlive(const mg_connection* conn) {
  const char* connection = mg_get_header(conn, "Connection");
  if (connection == nullptr) {
    const char* version = mg_get_request_info(conn)->http_version;
    return version != nullptr && std::string_view(version) == "1.1";
  }
  // header_has_option: comma-separated tokens without surrounding spaces and tabs, empty
  // ones skipped, each cut at '='. civetweb compares only the token's length of "keep-alive"
  // (mg_strncasecmp), so any prefix of it ("keep", even "" from "=x") counts as keep-alive.
  constexpr std::string_view kKeepAlive = "keep-alive";
  std::string_view tokens = connection;
  while (!tokens.empty()) {
    const std::size_t comma = tokens.find(',');
    std::string_view token = strings::TrimOws(tokens.substr(0, comma));
    tokens = comma == std::string_view::npos ? std::string_view() : tokens.substr(comma + 1);
    if (token.empty()) continue;
    token = token.substr(0, token.find('='));
    if (token.size() <= kKeepAlive.size() &&
        strings::EqualsIgnoreCase(kKeepAlive.substr(0, token.size()), token)) {
      return true;
    }
  }
  return false;
}

// The status line and headers of a response with a body of `body_size` bytes, byte for byte
// what civetweb 1.15's mg_response_header_start/add/send would send: Content-Type,
// Content-Length, `headers` (the web config's and any the response needs), then Date and
// Connection unless `headers` has them, then the empty line.
std::string ResponseHead(const mg_connection* conn, int status, std::string_view content_type,
                         std::size_t body_size, const Headers& headers) {
  const char* version = mg_get_request_info(conn)->http_version;
  std::string head;
  head.reserve(256);
  head.append("HTTP/").append(version != nullptr ? version : "1.0").append(" ");
  head.append(std::to_string(status)).append(" ");
  head.append(mg_get_response_code_text(conn, status)).append("\r\n");
  auto add = [&](std::string_view name, std::string_view value) {
    head.append(name).append(": ").append(value).append("\r\n");
  };
  add("Content-Type", content_type);
  add("Content-Length", std::to_string(body_size));
  bool has_date = false;
  bool has_connection = false;
  for (const auto& [name, value] : headers) {
    add(name, value);
    has_date = has_date || strings::EqualsIgnoreCase(name, "Date");
    has_connection = has_connection || strings::EqualsIgnoreCase(name, "Connection");
  }
  if (!has_date) add("Date", HttpDate(std::time(nullptr)));
  if (!has_connection) add("Connection", CivetwebKeepsAlive(conn) ? "keep-alive" : "close");
  head.append("\r\n");
  return head;
}

// One response on its way out, starting with its head: small parts are gathered and sent
// together, large ones as they are, uncopied (kCoalescedPartMaxBytes). Once the client is gone
// nothing more is sent.
class ResponseWriter {
 public:
  ResponseWriter(mg_connection* conn, std::string head) : conn_(conn), pending_(std::move(head)) {}

  // Queues `part` or sends it (after what is queued); false once the client is gone.
  bool Add(std::string_view part) {
    if (part.size() < kCoalescedPartMaxBytes) {
      pending_.append(part);
      return !gone_;
    }
    return Flush() && Send(part);
  }

  // Sends what is queued; false once the client is gone.
  bool Flush() {
    const bool sent = Send(pending_);
    pending_.clear();
    return sent;
  }

 private:
  // mg_write returns what it sent before its send timeout (request_timeout) or an error cut it
  // short: the rest of a partly sent piece is lost, so nothing may follow it, or the client
  // would get a body with a gap in it instead of a cut one that it can tell from Content-Length.
  bool Send(std::string_view bytes) {
    if (!gone_ && !bytes.empty()) {
      gone_ = mg_write(conn_, bytes.data(), bytes.size()) != static_cast<int>(bytes.size());
    }
    return !gone_;
  }

  mg_connection* conn_;
  std::string pending_;
  bool gone_ = false;
};

// Sends a response whose body is the concatenation of `body_parts` (only its head for HEAD).
void SendResponseParts(mg_connection* conn, int status, std::string_view content_type,
                       const std::vector<std::string_view>& body_parts, bool head,
                       const Headers& headers) {
  std::size_t body_size = 0;
  std::size_t coalesced_size = 0;
  for (const auto part : body_parts) {
    body_size += part.size();
    if (part.size() < kCoalescedPartMaxBytes) coalesced_size += part.size();
  }
  std::string response_head = ResponseHead(conn, status, content_type, body_size, headers);
  if (!head) response_head.reserve(response_head.size() + coalesced_size);
  ResponseWriter out(conn, std::move(response_head));
  if (!head) {
    for (const auto part : body_parts) {
      if (!out.Add(part)) return;
    }
  }
  out.Flush();
}

void SendResponse(mg_connection* conn, int status, std::string_view content_type,
                  std::string_view body, bool head, const Headers& headers) {
  SendResponseParts(conn, status, content_type, {body}, head, headers);
}

void SendText(mg_connection* conn, int status, std::string_view text, bool head,
              const Headers& headers) {
  SendResponse(conn, status, "text/plain; charset=utf-8", text, head, headers);
}

Headers ConfiguredHeaders(const WebSecurity& security) {
  Headers headers;
  for (const auto& [name, value] : security.headers) headers.emplace_back(name, value);
  return headers;
}

// An identity response holds its snapshot text while it is sent: with slow clients, one text
// per client (24 MB at 300k series). At most this many distinct large texts are held so; an
// identity response beyond it is sent from the text's compressed copy (about 1/7 of the
// text), decompressed as it goes, and does not hold the text (docs/architecture.md, memory).
constexpr std::size_t kMaxHeldTexts = 2;
// Smaller texts are always sent as they are: holding them costs nothing worth bounding.
constexpr std::size_t kHeldTextMinBytes = 1 << 20;
// The pieces an identity response is decompressed into.
constexpr std::size_t kInflatePieceBytes = 256 * 1024;

// Replaces civetweb's SNI callback, which switches each connection to the SSL_CTX of the
// matching domain and so would drop the certificate set by OnClientHello. There is one domain.
int KeepContextOnServerName(SSL*, int*, void*) { return SSL_TLSEXT_ERR_NOACK; }

}  // namespace

struct HttpServer::State {
  HttpServerOptions options;
  const Collector& collector;
  mg_context* context = nullptr;
  std::atomic<unsigned> metrics_in_flight{0};
  std::mutex requests_mutex;
  std::condition_variable requests_done;
  unsigned requests_in_progress = 0;  // guarded by requests_mutex
  bool draining = false;              // guarded by requests_mutex
  std::mutex start_error_mutex;
  std::string start_error;
  mutable std::mutex security_mutex;
  std::shared_ptr<const WebSecurity> security;  // guarded by security_mutex; never null

  // The deflated snapshot text of the latest fetch that a gzip scrape served, per text format:
  // compressed once, by the first gzip scrape of that fetch in that format, and spliced into
  // every gzip response of it. Held by the responses that send it, not by the cache: once the
  // last is sent, its memory is free before the next fetch is parsed and rendered (3.4 MB at
  // 300k series). Scrapes sharing a fetch overlap and share it; one that asks after all the
  // others have been sent compresses the text again (the same bytes).
  struct SnapshotDeflate {
    std::once_flag once;
    std::optional<DeflateSegment> segment;  // nullopt: compression failed, serve identity
  };
  struct DeflateCache {
    std::weak_ptr<const TextBuffer> text;
    std::weak_ptr<SnapshotDeflate> deflated;
  };
  std::mutex deflate_mutex;
  std::array<DeflateCache, conversion::kTextFormatCount> deflate_cache;  // guarded by deflate_mutex

  std::shared_ptr<const SnapshotDeflate> DeflatedSnapshot(
      const std::shared_ptr<const TextBuffer>& text, conversion::TextFormat format) {
    std::shared_ptr<SnapshotDeflate> entry;
    {
      std::lock_guard lock(deflate_mutex);
      DeflateCache& cache = deflate_cache[static_cast<std::size_t>(format)];
      entry = cache.deflated.lock();
      // Same owner: the same text, even if its buffer is later recycled for another fetch.
      const bool same = entry && !cache.text.owner_before(text) && !text.owner_before(cache.text);
      if (!same) {
        entry = std::make_shared<SnapshotDeflate>();
        cache.deflated = entry;
        cache.text = text;
      }
    }
    std::call_once(entry->once, [&] { entry->segment = DeflateSegmentOf(text->view()); });
    return entry;
  }

  // The scrape's body as one gzip member, in pieces to send as they are: the gzip header, the
  // scrape's own head and tail deflated now, the snapshot's deflated bytes shared (never
  // copied), the trailer. False when compression failed.
  struct GzipPieces {
    std::optional<DeflateSegment> head, tail;
    std::shared_ptr<const SnapshotDeflate> snapshot;
    std::string trailer;
    std::vector<std::string_view> parts;
  };
  bool GzipBody(const ScrapeText& text, GzipPieces* out) {
    out->head = DeflateSegmentOf(text.head);
    out->tail = DeflateSegmentOf(text.tail);
    if (!out->head || !out->tail) return false;
    const DeflateSegment* snapshot = nullptr;
    if (text.snapshot) {
      out->snapshot = DeflatedSnapshot(text.snapshot, text.format);
      if (!out->snapshot->segment) return false;
      snapshot = &*out->snapshot->segment;
    }
    out->trailer = GzipTrailer({&*out->head, snapshot, &*out->tail});
    out->parts = {GzipHeader(), out->head->bytes,
                  snapshot != nullptr ? std::string_view(snapshot->bytes) : std::string_view(),
                  out->tail->bytes, out->trailer};
    return true;
  }

  // The large snapshot texts held by identity responses in progress, with their counts.
  std::mutex held_mutex;
  std::map<const TextBuffer*, unsigned> held_texts;  // guarded by held_mutex

  // Holds `text` for one identity response if it is already held or fewer than kMaxHeldTexts
  // are; a text held here cannot return to the collector's pool, so the address stays its own.
  bool HoldText(const TextBuffer* text) {
    std::lock_guard lock(held_mutex);
    const auto held = held_texts.find(text);
    if (held != held_texts.end()) {
      ++held->second;
      return true;
    }
    if (held_texts.size() >= kMaxHeldTexts) return false;
    held_texts.emplace(text, 1);
    return true;
  }
  void ReleaseText(const TextBuffer* text) {
    std::lock_guard lock(held_mutex);
    const auto held = held_texts.find(text);
    if (held != held_texts.end() && --held->second == 0) held_texts.erase(held);
  }

  // An identity response sent from the compressed copy of its snapshot text; the text is let
  // go before the first byte is sent. False (nothing sent) when compression failed.
  bool SendFromCompressedCopy(mg_connection* conn, bool head, ScrapeText* text,
                              std::string_view content_type, const Headers& headers) {
    const std::shared_ptr<const SnapshotDeflate> copy =
        DeflatedSnapshot(text->snapshot, text->format);
    if (!copy->segment) return false;
    text->snapshot.reset();
    const DeflateSegment& segment = *copy->segment;
    ResponseWriter out(
        conn,
        ResponseHead(conn, 200, content_type,
                     text->head.size() + static_cast<std::size_t>(segment.size) + text->tail.size(),
                     headers));
    if (head || !out.Add(text->head)) {
      out.Flush();
      return true;
    }
    if (!InflateSegment(segment, kInflatePieceBytes,
                        [&](std::string_view piece) { return out.Add(piece); })) {
      return true;  // client gone (the segment is our own and inflates)
    }
    out.Add(text->tail);
    out.Flush();
    return true;
  }

  std::shared_ptr<const WebSecurity> CurrentSecurity() const {
    std::lock_guard lock(security_mutex);
    return security;
  }

  State(HttpServerOptions server_options, const Collector& metrics_collector)
      : options(std::move(server_options)),
        collector(metrics_collector),
        security(options.security ? options.security : std::make_shared<WebSecurity>()) {}

  void ServeMetrics(mg_connection* conn, bool head, Headers& headers) {
    // node_exporter's --web.max-requests: refuse at once rather than queue scrapes that would
    // all miss their deadline.
    const unsigned in_flight = ++metrics_in_flight;
    struct Release {
      std::atomic<unsigned>& counter;
      ~Release() { --counter; }
    } release{metrics_in_flight};
    if (options.max_requests > 0 && in_flight > options.max_requests) {
      SendText(conn, 503,
               "Too many concurrent scrapes (limit " + std::to_string(options.max_requests) +
                   ", --web.max-requests)\n",
               head, headers);
      return;
    }
    const char* timeout_header = mg_get_header(conn, "X-Prometheus-Scrape-Timeout-Seconds");
    const auto deadline = ScrapeDeadline(timeout_header != nullptr ? timeout_header : "",
                                         std::chrono::milliseconds::max());
    const char* accept = mg_get_header(conn, "Accept");
    const ExpositionFormat format = NegotiateExpositionFormat(accept != nullptr ? accept : "");
    ScrapeText text = collector.Scrape(deadline, format.format);

    // The body differs by Accept and Accept-Encoding: caches must not serve one client's to
    // another.
    headers.emplace_back("Vary", "Accept, Accept-Encoding");
    const char* accept_encoding = mg_get_header(conn, "Accept-Encoding");
    if (accept_encoding != nullptr && AcceptsGzip(accept_encoding)) {
      GzipPieces gzip;
      if (GzipBody(text, &gzip)) {
        text.snapshot.reset();  // a gzip response holds the compressed copy only
        headers.emplace_back("Content-Encoding", "gzip");
        SendResponseParts(conn, 200, format.content_type, gzip.parts, head, headers);
        return;
      }
    }
    const TextBuffer* held = nullptr;
    if (text.snapshot && text.snapshot->size() >= kHeldTextMinBytes) {
      if (HoldText(text.snapshot.get())) {
        held = text.snapshot.get();
      } else if (SendFromCompressedCopy(conn, head, &text, format.content_type, headers)) {
        return;
      }
    }
    struct Held {
      State& state;
      const TextBuffer* text;
      ~Held() {
        if (text != nullptr) state.ReleaseText(text);
      }
    } release_held{*this, held};
    // The parts go out as they are: the shared snapshot text is never copied per scrape.
    SendResponseParts(conn, 200, format.content_type, {text.head, text.snapshot_view(), text.tail},
                      head, headers);
  }

  void Handle(mg_connection* conn) {
    const std::shared_ptr<const WebSecurity> current = CurrentSecurity();
    Headers headers = ConfiguredHeaders(*current);
    const mg_request_info* request = mg_get_request_info(conn);
    const std::string_view method = request->request_method;
    const std::string_view path = request->local_uri != nullptr ? request->local_uri : "";
    const bool head = method == "HEAD";
    const bool health = path == "/-/healthy" || path == "/-/ready";
    // civetweb keeps the first 64 headers and drops the rest without a word, so a
    // Content-Length placed 65th would go unseen and its body be read as a second request.
    // No scraper sends that many: refuse, and close.
    // mg_send_http_error is the one public way to make civetweb close the connection after
    // the answer; a "Connection: close" header alone would not stop it reading on.
    if (request->num_headers >= kMaxRequestHeaders) {
      mg_send_http_error(conn, 431, "%s", "Too many request headers\n");
      return;
    }
    const bool has_body =
        request->content_length > 0 || mg_get_header(conn, "Transfer-Encoding") != nullptr;
    // The method is checked before the body, so `POST /metrics` with a body gets 405 (RFC 9110
    // 15.5.6, with Allow), not 413; the body stays unread and the connection closes, since
    // civetweb would otherwise read the whole body to find the next request.
    if (method != "GET" && !head && has_body) {
      mg_disable_connection_keep_alive(conn);
      headers.emplace_back("Allow", "GET, HEAD");
      headers.emplace_back("Connection", "close");
      SendText(conn, 405, "Method Not Allowed\n", false, headers);
      return;
    }
    // No endpoint takes a body: refuse it unread, and close.
    if (has_body) {
      mg_send_http_error(conn, 413, "%s", "Request bodies are not accepted\n");
      return;
    }
    // exporter-toolkit limits every request, before authentication, health endpoints included.
    if (current->rate_limiter != nullptr && !current->rate_limiter->Allow()) {
      SendText(conn, 429, "Too Many Requests\n", head, headers);
      return;
    }
    if (current->RequiresAuth() && !(health && options.health_endpoints_without_auth) &&
        !current->auth->Check(mg_get_header(conn, "Authorization"))) {
      headers.emplace_back("WWW-Authenticate",
                           "Basic realm=\"smartproxy_exporter\", charset=\"UTF-8\"");
      SendText(conn, 401, "Unauthorized\n", head, headers);
      return;
    }
    if (method != "GET" && !head) {
      headers.emplace_back("Allow", "GET, HEAD");
      SendText(conn, 405, "Method Not Allowed\n", false, headers);
      return;
    }
    if (path == options.telemetry_path) {
      ServeMetrics(conn, head, headers);
    } else if (path == "/") {
      SendResponse(conn, 200, "text/html; charset=utf-8",
                   LandingPage(options.telemetry_path, options.proxy_socket, collector.Status()),
                   head, headers);
    } else if (path == "/-/healthy") {
      SendText(conn, 200, "Healthy\n", head, headers);
    } else if (path == "/-/ready") {
      // Ready means listening with a valid config; it must not follow the proxy, since a
      // sidecar's readiness gates the whole pod.
      SendText(conn, 200, "Ready\n", head, headers);
    } else {
      SendText(conn, 404, "Not Found\n", head, headers);
    }
  }

  // TLS: civetweb has created the listener's SSL_CTX; every connection gets the current web
  // config's certificate and settings when its ClientHello arrives (OnClientHello), so a reload
  // rotates certificates for new connections.
  static int OnInitSsl(void* ssl_ctx, void* user_data) {
    auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
    TlsContext::PrepareListenerContext(ctx);
    SSL_CTX_set_client_hello_cb(ctx, &State::OnClientHello, user_data);
    SSL_CTX_set_tlsext_servername_callback(ctx, &KeepContextOnServerName);
    return 1;  // civetweb must not load a certificate of its own
  }

  static int OnClientHello(SSL* ssl, int* alert, void* arg) {
    const auto* state = static_cast<const State*>(arg);
    const std::shared_ptr<const WebSecurity> current = state->CurrentSecurity();
    if (current->tls == nullptr || !current->tls->ApplyTo(ssl)) {
      *alert = SSL_AD_INTERNAL_ERROR;
      return SSL_CLIENT_HELLO_ERROR;
    }
    return SSL_CLIENT_HELLO_SUCCESS;
  }

  // civetweb 1.15 calls handlers from C without a try/catch: an exception that escaped here
  // would terminate the process. Everything is caught and answered with a 500.
  static int OnRequest(mg_connection* conn) {
    auto* state = static_cast<State*>(mg_get_user_data(mg_get_context(conn)));
    {
      std::lock_guard lock(state->requests_mutex);
      if (state->draining) {
        SendText(conn, 503, "Shutting down\n", false, {{"Connection", "close"}});
        return 1;
      }
      ++state->requests_in_progress;
    }
    struct Done {
      State& state;
      ~Done() {
        std::lock_guard lock(state.requests_mutex);
        if (--state.requests_in_progress == 0) state.requests_done.notify_all();
      }
    } done{*state};
    try {
      state->Handle(conn);
    } catch (const std::exception& e) {
      LogError("request failed", {{"err", e.what()}});
      mg_send_http_error(conn, 500, "%s", "Internal Server Error\n");
    } catch (...) {
      LogError("request failed", {{"err", "unknown exception"}});
      mg_send_http_error(conn, 500, "%s", "Internal Server Error\n");
    }
    return 1;
  }

  static int OnLogMessage(const mg_connection* conn, const char* message) {
    // Startup errors (port in use) come here before mg_start2 returns; keep the first.
    auto* state = static_cast<State*>(mg_get_user_data(mg_get_context(conn)));
    if (state != nullptr) {
      std::lock_guard lock(state->start_error_mutex);
      if (state->start_error.empty()) state->start_error = message;
    }
    LogDebug("civetweb", {{"detail", message}});
    return 1;
  }
};

std::chrono::milliseconds HttpServer::ScrapeDeadline(std::string_view header,
                                                     std::chrono::milliseconds timeout) {
  if (header.empty()) return timeout;
  const std::string text(header);
  char* end = nullptr;
  errno = 0;
  const double seconds = std::strtod(text.c_str(), &end);
  if (errno != 0 || end == text.c_str() || !std::isfinite(seconds) || seconds <= 0) return timeout;
  const double header_ms = seconds * 1000.0;
  if (header_ms >= static_cast<double>(timeout.count())) return timeout;
  // Short scrape timeouts keep at least half of themselves for the fetch.
  const double margin =
      std::min(static_cast<double>(kScrapeTimeoutMargin.count()), header_ms / 2.0);
  const auto deadline = std::chrono::milliseconds(static_cast<long long>(header_ms - margin));
  return std::max(std::min(deadline, timeout), kMinimumDeadline);
}

HttpServer::HttpServer(HttpServerOptions options, const Collector& collector)
    : state_(std::make_unique<State>(std::move(options), collector)) {
  LibraryInitOnce();
  const HttpServerOptions& o = state_->options;
  const unsigned threads = o.worker_threads != 0 ? o.worker_threads : o.max_requests + 24;
  const bool tls = state_->security->tls != nullptr;
  std::string ports;
  if (o.listen_fds.empty()) {
    ports = CivetListeningPorts(o.listen_addresses, tls);
  } else {
    // Our civetweb patch: "fd:N" adopts an inherited listening socket (scripts/build-civetweb.sh).
    for (const int fd : o.listen_fds) {
      if (!ports.empty()) ports += ',';
      ports += "fd:" + std::to_string(fd) + (tls ? "s" : "");
    }
  }
  const std::string num_threads = std::to_string(threads);
  const std::string request_timeout = std::to_string(o.request_timeout.count());
  const char* config[] = {
      "listening_ports", ports.c_str(), "num_threads", num_threads.c_str(), "request_timeout_ms",
      request_timeout.c_str(), "keep_alive_timeout_ms", "2000", "enable_keep_alive", "yes",
      // A response with a large part goes out in several sends
      // (ResponseWriter): without TCP_NODELAY, Nagle's algorithm holds the
      // last small segment for the client's delayed ACK, about 40 ms on
      // every such keep-alive scrape (measured in bench/scrape).
      "tcp_nodelay", "1",
      // Requests are small GETs: 16 KiB of headers is ample.
      "max_request_size", "16384", "listen_backlog", "256", "enable_directory_listing", "no",
      // Paths are compared as sent: decoding would turn "/metrics%00.png"
      // into "/metrics" (a C string cut at the NUL), and no endpoint needs
      // decoding.
      "decode_url", "no", nullptr};
  mg_callbacks callbacks{};
  // begin_request sees every request, before civetweb's own file serving (of which there is
  // none: no document_root), so the exporter owns every path.
  callbacks.begin_request = &State::OnRequest;
  callbacks.log_message = &State::OnLogMessage;
  if (tls) callbacks.init_ssl = &State::OnInitSsl;
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = state_.get();
  init.configuration_options = config;
  char error_text[256] = {};
  unsigned error_code = 0;
  mg_error_data error{};
  error.code = &error_code;
  error.text = error_text;
  error.text_buffer_size = sizeof error_text;
  state_->context = mg_start2(&init, &error);
  if (state_->context == nullptr) {
    std::string reason = error_text;
    if (reason.empty()) {
      std::lock_guard lock(state_->start_error_mutex);
      reason = state_->start_error;
    }
    throw ListenError("cannot listen on " +
                      (o.listen_fds.empty() ? JoinedAddresses(o.listen_addresses)
                                            : "the systemd sockets (" + ports + ")") +
                      ": " + (reason.empty() ? "civetweb failed to start" : reason));
  }
}

bool HttpServer::UpdateSecurity(std::shared_ptr<const WebSecurity> security) {
  if (!security) security = std::make_shared<WebSecurity>();
  std::lock_guard lock(state_->security_mutex);
  if ((security->tls != nullptr) != (state_->security->tls != nullptr)) return false;
  state_->security = std::move(security);
  return true;
}

void HttpServer::Shutdown(std::chrono::milliseconds grace) {
  {
    std::unique_lock lock(state_->requests_mutex);
    state_->draining = true;
    state_->requests_done.wait_for(lock, grace, [&] { return state_->requests_in_progress == 0; });
  }
  if (state_->context != nullptr) {
    mg_stop(state_->context);
    state_->context = nullptr;
  }
}

HttpServer::~HttpServer() { Shutdown(std::chrono::milliseconds(0)); }

std::vector<int> HttpServer::ListeningPorts() const {
  if (state_->context == nullptr) return {};
  // Each address is one or two listeners (IPv4 and IPv6 for ":port").
  constexpr int kMaxPorts = 64;
  mg_server_port ports[kMaxPorts] = {};
  const int count = mg_get_server_ports(state_->context, kMaxPorts, ports);
  std::vector<int> result;
  for (int i = 0; i < count; ++i) result.push_back(ports[i].port);
  return result;
}

}  // namespace exporter::web
