// smartproxy_exporter: wiring and signals only; every decision lives in the exporter's libraries.
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "exporter/collector/build_info.h"
#include "exporter/collector/collector.h"
#include "exporter/config/config.h"
#include "exporter/log/log.h"
#include "exporter/web/http_server.h"
#include "exporter/web/systemd_sockets.h"
#include "exporter/web/web_security.h"
#include "page_memory/page_pool.h"

namespace {

constexpr int kExitConfig = 2;
constexpr int kExitFailure = 1;
// SIGTERM must end the process within 5 s (Kubernetes' grace period is longer, but a sidecar
// that lingers delays every rollout).
constexpr std::chrono::milliseconds kShutdownLimit{4500};
// How often pooled pages are checked for age (page_memory/page_pool.h) when idle.
constexpr std::chrono::seconds kPoolCheck{30};

exporter::collector::CollectorOptions CollectorOptionsOf(const exporter::config::Config& config) {
  return exporter::collector::CollectorOptions{config.metrics, config.proxy.timeout,
                                               !config.web.disable_exporter_metrics};
}

exporter::collector::SnapshotFetcher FetcherOf(const exporter::config::Config& config) {
  return exporter::collector::MakeSocketFetcher(
      proxy_client::SnapshotClientOptions{config.proxy.socket, config.proxy.max_body_bytes});
}

exporter::web::HttpServerOptions ServerOptionsOf(
    const exporter::config::Config& config,
    std::shared_ptr<const exporter::web::WebSecurity> security) {
  exporter::web::HttpServerOptions options;
  options.listen_addresses = config.web.listen_addresses;
  options.telemetry_path = config.web.telemetry_path;
  options.max_requests = config.web.max_requests;
  options.request_timeout = config.web.request_timeout;
  options.worker_threads = config.web.max_connections;
  options.proxy_socket = config.proxy.socket;
  options.security = std::move(security);
  options.health_endpoints_without_auth = config.web.health_endpoints_without_auth;
  return options;
}

void Reload(const exporter::config::CommandLine& command_line, exporter::config::Config& current,
            exporter::collector::Collector& collector, exporter::web::HttpServer& server) {
  exporter::config::Config next;
  std::shared_ptr<const exporter::web::WebSecurity> security;
  try {
    next = exporter::config::ResolveConfig(command_line);
    security = exporter::web::LoadWebSecurity(next.web.config_file);
  } catch (const exporter::config::ConfigError& e) {
    exporter::log::LogError("reload failed, keeping the previous configuration",
                            {{"err", e.what()}});
    return;
  }
  if (!server.UpdateSecurity(security)) {
    exporter::log::LogError(
        "reload failed, keeping the previous configuration",
        {{"err", "the web config turns TLS " + std::string(security->tls ? "on" : "off") +
                     "; the listener's scheme changes only with a restart"}});
    return;
  }
  exporter::log::ConfigureLogging(next.log.level, next.log.format);
  collector.Reconfigure(FetcherOf(next), CollectorOptionsOf(next));
  if (next.web.listen_addresses != current.web.listen_addresses ||
      next.web.telemetry_path != current.web.telemetry_path ||
      next.web.max_requests != current.web.max_requests ||
      next.web.max_connections != current.web.max_connections ||
      next.web.request_timeout != current.web.request_timeout ||
      next.web.health_endpoints_without_auth != current.web.health_endpoints_without_auth) {
    exporter::log::LogWarn("web settings changed; they take effect after a restart");
  }
  const std::string web_config_file = next.web.config_file;
  next.web = current.web;
  next.web.config_file = web_config_file;
  current = next;
  exporter::log::LogInfo("configuration reloaded",
                         {{"proxy_socket", current.proxy.socket},
                          {"web_config_file", current.web.config_file},
                          {"tls", security->tls ? "on" : "off"},
                          {"basic_auth", security->RequiresAuth() ? "on" : "off"}});
}

}  // namespace

int main(int argc, char** argv) {
  // glibc gives each thread that allocates its own arena; with one civetweb worker per
  // connection, memory freed after a large scrape would stay in many arenas. One arena is
  // enough for a server whose requests mostly wait on one shared fetch: the allocation-heavy
  // work (parsing, rendering) runs on one thread per fetch.
  mallopt(M_ARENA_MAX, 1);
  // A scrape of 100k IPs allocates and frees a few MB of small blocks (client IP strings,
  // scratch). By default glibc trims freed heap or maps mid-sized blocks anew every time, and
  // faulting them back in costs ~0.47 ms of kernel time per MB (bench/scrape/README.md,
  // memory): keep blocks below 32 MB (glibc's largest threshold) on the heap, and up to 64 MB
  // of free heap for the next scrape. The blocks of 1 MiB or more (the snapshot's maps, the
  // folded series) and the large buffers (body, document, text) are mapped and given back on
  // their own, in huge pages (page_memory/large_block.h, page_buffer.h), so this holds the
  // small ones only.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  // A client that hangs up mid-response must not kill the process.
  signal(SIGPIPE, SIG_IGN);
  // Signals are taken by sigwait in this thread only; every thread started later inherits the
  // mask, so none of them is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  exporter::config::CommandLine command_line;
  try {
    command_line = exporter::config::ParseCommandLine(argc, argv);
  } catch (const exporter::config::ConfigError& e) {
    std::fprintf(stderr, "smartproxy_exporter: %s\n", e.what());
    return kExitConfig;
  }
  if (command_line.show_help) {
    std::fputs(exporter::config::CommandLineHelp().c_str(), stdout);
    return 0;
  }
  if (command_line.show_version) {
    std::printf("smartproxy_exporter, version %s (revision: %s)\n",
                std::string(exporter::collector::BuildVersion()).c_str(),
                std::string(exporter::collector::BuildRevision()).c_str());
    return 0;
  }
  exporter::config::Config config;
  std::shared_ptr<const exporter::web::WebSecurity> security;
  try {
    config = exporter::config::ResolveConfig(command_line);
    security = exporter::web::LoadWebSecurity(config.web.config_file);
  } catch (const exporter::config::ConfigError& e) {
    std::fprintf(stderr, "smartproxy_exporter: invalid configuration: %s\n", e.what());
    return kExitConfig;
  }
  if (command_line.check_config) {
    std::printf("configuration is valid\n");
    return 0;
  }
  exporter::log::ConfigureLogging(config.log.level, config.log.format);
  exporter::log::LogInfo("starting smartproxy_exporter",
                         {{"version", std::string(exporter::collector::BuildVersion())},
                          {"revision", std::string(exporter::collector::BuildRevision())}});

  exporter::collector::Collector collector(FetcherOf(config), CollectorOptionsOf(config));
  exporter::web::HttpServerOptions server_options = ServerOptionsOf(config, security);
  if (config.web.systemd_socket) {
    exporter::web::SystemdSockets sockets = exporter::web::TakeSystemdSockets();
    if (sockets.fds.empty()) {
      exporter::log::LogError("cannot use the systemd sockets", {{"err", sockets.error}});
      return kExitFailure;
    }
    server_options.listen_fds = std::move(sockets.fds);
  }
  std::unique_ptr<exporter::web::HttpServer> server;
  try {
    server = std::make_unique<exporter::web::HttpServer>(std::move(server_options), collector);
  } catch (const exporter::web::ListenError& e) {
    exporter::log::LogError("cannot start the web server", {{"err", e.what()}});
    return kExitFailure;
  }
  std::string ports;
  for (const int port : server->ListeningPorts()) {
    if (!ports.empty()) ports += ',';
    ports += std::to_string(port);
  }
  std::string addresses = config.web.systemd_socket ? "systemd-socket" : "";
  for (const std::string& address : config.web.listen_addresses) {
    if (config.web.systemd_socket) break;
    if (!addresses.empty()) addresses += ',';
    addresses += address;
  }
  exporter::log::LogInfo("listening", {{"address", addresses},
                                       {"port", ports},
                                       {"telemetry_path", config.web.telemetry_path},
                                       {"proxy_socket", config.proxy.socket},
                                       {"tls", security->tls ? "on" : "off"},
                                       {"basic_auth", security->RequiresAuth() ? "on" : "off"}});

  while (true) {
    // Between signals, every kPoolCheck: the pages a scrape's buffers lent to the pool go back
    // to the kernel once unused for kPoolHoldTime, also when no scrape comes to do it.
    const timespec pool_check{kPoolCheck.count(), 0};
    const int signal_number = sigtimedwait(&signals, nullptr, &pool_check);
    if (signal_number < 0) {
      page_memory::ReturnPagesPooledBefore(std::chrono::steady_clock::now() -
                                           page_memory::kPoolHoldTime);
      continue;
    }
    if (signal_number == SIGHUP) {
      Reload(command_line, config, collector, *server);
      continue;
    }
    exporter::log::LogInfo("shutting down",
                           {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
    // Stopping waits for scrapes in progress; each ends by its deadline. The watchdog bounds
    // the wait for anything else (an idle connection civetweb is still reading).
    std::thread([] {
      std::this_thread::sleep_for(kShutdownLimit);
      exporter::log::LogWarn("shutdown took too long; exiting now");
      _exit(0);
    }).detach();
    server->Shutdown(kShutdownLimit - std::chrono::milliseconds(500));
    server.reset();
    exporter::log::LogInfo("stopped");
    return 0;
  }
}
