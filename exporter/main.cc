// smartproxy_exporter: wiring and signals only; every decision lives in the exporter library.
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "exporter/build_info.h"
#include "exporter/collector.h"
#include "exporter/config.h"
#include "exporter/http_server.h"
#include "exporter/log.h"
#include "exporter/web_security.h"

namespace {

constexpr int kExitConfig = 2;
constexpr int kExitFailure = 1;
// SIGTERM must end the process within 5 s (Kubernetes' grace period is longer, but a sidecar
// that lingers delays every rollout).
constexpr std::chrono::milliseconds kShutdownLimit{4500};

exporter::CollectorOptions CollectorOptionsOf(const exporter::Config& config) {
  return exporter::CollectorOptions{config.metrics, config.proxy.timeout};
}

exporter::SnapshotFetcher FetcherOf(const exporter::Config& config) {
  return exporter::MakeSocketFetcher(
      proxy_client::SnapshotClientOptions{config.proxy.socket, config.proxy.max_body_bytes});
}

exporter::HttpServerOptions ServerOptionsOf(
    const exporter::Config& config, std::shared_ptr<const exporter::WebSecurity> security) {
  exporter::HttpServerOptions options;
  options.listen_address = config.web.listen_address;
  options.telemetry_path = config.web.telemetry_path;
  options.max_requests = config.web.max_requests;
  options.request_timeout = config.web.request_timeout;
  options.worker_threads = config.web.max_connections;
  options.proxy_socket = config.proxy.socket;
  options.security = std::move(security);
  options.health_endpoints_without_auth = config.web.health_endpoints_without_auth;
  return options;
}

void Reload(const exporter::CommandLine& command_line, exporter::Config& current,
            exporter::Collector& collector, exporter::HttpServer& server) {
  exporter::Config next;
  std::shared_ptr<const exporter::WebSecurity> security;
  try {
    next = exporter::ResolveConfig(command_line);
    security = exporter::LoadWebSecurity(next.web.config_file);
  } catch (const exporter::ConfigError& e) {
    exporter::LogError("reload failed, keeping the previous configuration", {{"err", e.what()}});
    return;
  }
  if (!server.UpdateSecurity(security)) {
    exporter::LogError(
        "reload failed, keeping the previous configuration",
        {{"err", "the web config turns TLS " + std::string(security->tls ? "on" : "off") +
                     "; the listener's scheme changes only with a restart"}});
    return;
  }
  exporter::ConfigureLogging(next.log.level, next.log.format);
  collector.Reconfigure(FetcherOf(next), CollectorOptionsOf(next));
  if (next.web.listen_address != current.web.listen_address ||
      next.web.telemetry_path != current.web.telemetry_path ||
      next.web.max_requests != current.web.max_requests ||
      next.web.max_connections != current.web.max_connections ||
      next.web.request_timeout != current.web.request_timeout ||
      next.web.health_endpoints_without_auth != current.web.health_endpoints_without_auth) {
    exporter::LogWarn("web settings changed; they take effect after a restart");
  }
  const std::string web_config_file = next.web.config_file;
  next.web = current.web;
  next.web.config_file = web_config_file;
  current = next;
  exporter::LogInfo("configuration reloaded",
                    {{"proxy_socket", current.proxy.socket},
                     {"web_config_file", current.web.config_file},
                     {"tls", security->tls ? "on" : "off"},
                     {"basic_auth", security->RequiresAuth() ? "on" : "off"}});
}

}  // namespace

int main(int argc, char** argv) {
  // glibc gives each thread that allocates its own arena; with one civetweb worker per
  // connection, memory freed after a large scrape would stay in many arenas. Two suffice for a
  // server whose requests mostly wait on one shared fetch.
  mallopt(M_ARENA_MAX, 1);
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

  exporter::CommandLine command_line;
  try {
    command_line = exporter::ParseCommandLine(argc, argv);
  } catch (const exporter::ConfigError& e) {
    std::fprintf(stderr, "smartproxy_exporter: %s\n", e.what());
    return kExitConfig;
  }
  if (command_line.show_help) {
    std::fputs(exporter::CommandLineHelp().c_str(), stdout);
    return 0;
  }
  if (command_line.show_version) {
    std::printf("smartproxy_exporter, version %s (revision: %s)\n",
                std::string(exporter::BuildVersion()).c_str(),
                std::string(exporter::BuildRevision()).c_str());
    return 0;
  }
  exporter::Config config;
  std::shared_ptr<const exporter::WebSecurity> security;
  try {
    config = exporter::ResolveConfig(command_line);
    security = exporter::LoadWebSecurity(config.web.config_file);
  } catch (const exporter::ConfigError& e) {
    std::fprintf(stderr, "smartproxy_exporter: invalid configuration: %s\n", e.what());
    return kExitConfig;
  }
  if (command_line.check_config) {
    std::printf("configuration is valid\n");
    return 0;
  }
  exporter::ConfigureLogging(config.log.level, config.log.format);
  exporter::LogInfo("starting smartproxy_exporter",
                    {{"version", std::string(exporter::BuildVersion())},
                     {"revision", std::string(exporter::BuildRevision())}});

  exporter::Collector collector(FetcherOf(config), CollectorOptionsOf(config));
  std::unique_ptr<exporter::HttpServer> server;
  try {
    server = std::make_unique<exporter::HttpServer>(ServerOptionsOf(config, security), collector);
  } catch (const exporter::ListenError& e) {
    exporter::LogError("cannot start the web server", {{"err", e.what()}});
    return kExitFailure;
  }
  std::string ports;
  for (const int port : server->ListeningPorts()) {
    if (!ports.empty()) ports += ',';
    ports += std::to_string(port);
  }
  exporter::LogInfo("listening", {{"address", config.web.listen_address},
                                  {"port", ports},
                                  {"telemetry_path", config.web.telemetry_path},
                                  {"proxy_socket", config.proxy.socket},
                                  {"tls", security->tls ? "on" : "off"},
                                  {"basic_auth", security->RequiresAuth() ? "on" : "off"}});

  while (true) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGHUP) {
      Reload(command_line, config, collector, *server);
      continue;
    }
    exporter::LogInfo("shutting down", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
    // Stopping waits for scrapes in progress; each ends by its deadline. The watchdog bounds
    // the wait for anything else (an idle connection civetweb is still reading).
    std::thread([] {
      std::this_thread::sleep_for(kShutdownLimit);
      exporter::LogWarn("shutdown took too long; exiting now");
      _exit(0);
    }).detach();
    server->Shutdown(kShutdownLimit - std::chrono::milliseconds(500));
    server.reset();
    exporter::LogInfo("stopped");
    return 0;
  }
}
