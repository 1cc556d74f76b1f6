#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "exporter/collector/collector.h"
#include "exporter/config/config.h"
#include "exporter/web/web_security.h"

// The exporter's HTTP server (civetweb, used directly so the exporter owns every endpoint):
//   GET <telemetry_path>  metrics of one fresh snapshot    GET /          landing page
//   GET /-/healthy        200 while serving                 GET /-/ready   200 once listening
// HEAD wherever GET is served; any other method 405; unknown paths 404.
namespace exporter::web {

struct HttpServerOptions {
  // [host]:port each, all served; ":port" listens on every address. At least one.
  std::vector<std::string> listen_addresses{std::string(config::kDefaultListenAddress)};
  // Inherited listening sockets to serve instead (--web.systemd-socket, TakeSystemdSockets);
  // when set, listen_addresses is not used.
  std::vector<int> listen_fds;
  std::string telemetry_path{config::kDefaultTelemetryPath};
  // Concurrent metrics requests; beyond it 503 at once; 0: no limit.
  unsigned max_requests = config::kDefaultMaxRequests;
  std::chrono::milliseconds request_timeout =
      config::kDefaultRequestTimeout;  // to receive a request's headers
  // civetweb serves each connection on its own thread, so this is also the number of idle or
  // trickling clients that can be connected before a scrape has to wait for one of them to
  // time out (request_timeout). 0: max_requests + 24.
  unsigned worker_threads = 0;
  std::string proxy_socket;  // shown on the landing page
  // TLS, basic auth and response headers from --web.config.file; null: plain HTTP, no auth.
  // TLS on or off is fixed at start; everything else follows UpdateSecurity.
  std::shared_ptr<const WebSecurity> security;
  // With basic auth on, /-/healthy and /-/ready answer without credentials (for the kubelet's
  // probes) only when the operator says so.
  bool health_endpoints_without_auth = false;
};

// civetweb could not start (port in use, bad address). what() carries civetweb's reason.
class ListenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Starts serving on construction; stops on destruction, waiting for requests in progress.
// The collector must outlive the server.
class HttpServer {
 public:
  HttpServer(HttpServerOptions options,
             const collector::Collector& collector);  // throws ListenError
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Graceful stop: new requests get 503, requests in progress may finish for up to `grace`,
  // then the listener and every connection close. Idempotent; the destructor calls it with no
  // grace. (civetweb drops whatever a handler writes once mg_stop has begun, so waiting for
  // the handlers has to happen before it.)
  void Shutdown(std::chrono::milliseconds grace);

  // Swaps in a reloaded web config for new connections and requests. Refused (false, nothing
  // changed) when it would turn TLS on or off: the listener's scheme is fixed at start.
  bool UpdateSecurity(std::shared_ptr<const WebSecurity> security);

  // The TCP ports actually bound (useful with port 0), in the order of listen_addresses; an
  // address on every interface may appear twice (IPv4 and IPv6).
  std::vector<int> ListeningPorts() const;

  // The scrape deadline for a request that carried `X-Prometheus-Scrape-Timeout-Seconds`
  // (`header`, may be empty or garbage): the smaller of `timeout` and the header minus a margin.
  static std::chrono::milliseconds ScrapeDeadline(std::string_view header,
                                                  std::chrono::milliseconds timeout);

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace exporter::web
