#include "proxy_sim/command_line.h"

#include <charconv>
#include <chrono>

namespace proxy_sim {
namespace {

bool ParseUnsigned(std::string_view text, std::uint64_t& value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string UsageText() {
  return R"(Usage: proxy-sim --socket PATH [options]

A simulated SmartProxy serving snapshot protocol v1.1 (docs/snapshot-protocol.md) over HTTP/1.1
on a Unix socket: GET /v1/snapshot[?ips=N][&ipv4Prefix=P4&ipv6Prefix=P6].

Options:
  --socket PATH              Unix socket to listen on (a stale socket file is replaced;
                             any other file at PATH is an error)
  --routes N                 number of routes (default 8)
  --ips N                    number of client IPs, IPv4 and IPv6 mixed (default 100)
  --generation G             the SmartProxy API generation whose snapshot shape is served
                             (default 27):
                               19.6  IProxyStats: openConnectionBytes (no bytes totals),
                                     requests.perMinute only, no throughput or percentiles
                               21.1  IMetrics: the protocol 1.0 groups and adapter
                               27    IMetrics 27.x: also backends, protocols, udp and
                                     requests.byDomain (protocol 1.1)
  --backends N               number of backends, generation 27 (default 6)
  --domains N                number of domains in requests.byDomain, generation 27 (default 8)
  --seed S                   seed of the deterministic traffic model (default 1)
  --start-time MS            proxy.startTime in ms since the epoch (default: now)
  --wall-clock               timestamps follow the real clock and traffic the real elapsed time
                             (default: every snapshot advances simulated time by 1 s)
  --fault=MODE               none, slow, hang, garbage, truncate, http500, huge, restart,
                             hostile-names (default none)
  --fault-after N            the fault applies only after N snapshots were served (default 0)
  --fault-every K            restart: reset totals and instance every K snapshots (default 10)
  --huge-bytes B             huge: the body is larger than B bytes (default 83886080 = 80 MiB)
  --slow-bytes-per-sec R     slow: trickle rate (default 1024); the body is padded with
                             whitespace to last at least 4 s
  --help                     show this text

Signals:
  SIGUSR1                    toggles the configured fault off and on again (starts on)
  SIGTERM, SIGINT            stop, remove the socket, exit 0

Prints "proxy-sim listening on PATH" on stdout once ready.
Exit status: 0 after a signal, 1 if the socket cannot be served, 2 for a usage error.
)";
}

CommandLine ParseCommandLine(const std::vector<std::string_view>& args) {
  CommandLine result;
  ServerOptions& options = result.server;
  options.simulation.start_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count();
  const auto fail = [&](std::string message) {
    result.error = std::move(message);
    return result;
  };

  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view name = args[i];
    std::optional<std::string_view> inline_value;
    if (const std::size_t eq = name.find('='); name.substr(0, 2) == "--" && eq != name.npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "--help" || name == "-h") {
      result.help = true;
      return result;
    }
    if (name == "--wall-clock") {
      if (inline_value) return fail("--wall-clock takes no value");
      options.wall_clock = true;
      continue;
    }
    std::string_view value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return fail(std::string(name) + " needs a value");
    }

    std::uint64_t number = 0;
    const auto need_number = [&]() { return ParseUnsigned(value, number); };
    const std::string bad_number =
        std::string(name) + ": expected a non-negative integer, got '" + std::string(value) + "'";
    if (name == "--socket") {
      if (value.empty()) return fail("--socket: empty path");
      options.socket_path = value;
    } else if (name == "--routes") {
      if (!need_number() || number > 1'000'000) return fail(bad_number + " (at most 1000000)");
      options.simulation.routes = number;
    } else if (name == "--ips") {
      if (!need_number() || number > 10'000'000) return fail(bad_number + " (at most 10000000)");
      options.simulation.ips = number;
    } else if (name == "--backends") {
      if (!need_number() || number > 100'000) return fail(bad_number + " (at most 100000)");
      options.simulation.backends = number;
    } else if (name == "--domains") {
      if (!need_number() || number > 100'000) return fail(bad_number + " (at most 100000)");
      options.simulation.domains = number;
    } else if (name == "--generation") {
      const auto generation = ParseGeneration(value);
      if (!generation) {
        return fail("--generation: expected 19.6, 21.1 or 27, got '" + std::string(value) + "'");
      }
      options.simulation.generation = *generation;
    } else if (name == "--seed") {
      if (!need_number()) return fail(bad_number);
      options.simulation.seed = number;
    } else if (name == "--start-time") {
      if (!need_number() || number > (1ULL << 53)) return fail(bad_number);
      options.simulation.start_time_ms = static_cast<std::int64_t>(number);
    } else if (name == "--fault") {
      const auto mode = ParseFaultMode(value);
      if (!mode) return fail("--fault: unknown mode '" + std::string(value) + "'");
      options.fault.mode = *mode;
    } else if (name == "--fault-after") {
      if (!need_number()) return fail(bad_number);
      options.fault.after = number;
    } else if (name == "--fault-every") {
      if (!need_number() || number == 0) return fail(bad_number + " (at least 1)");
      options.fault.every = number;
    } else if (name == "--huge-bytes") {
      if (!need_number()) return fail(bad_number);
      options.fault.huge_bytes = number;
    } else if (name == "--slow-bytes-per-sec") {
      if (!need_number() || number == 0) return fail(bad_number + " (at least 1)");
      options.fault.slow_bytes_per_second = number;
    } else {
      return fail("unknown option " + std::string(name));
    }
  }
  if (options.socket_path.empty()) return fail("--socket PATH is required");
  return result;
}

}  // namespace proxy_sim
