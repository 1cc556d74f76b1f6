#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// Names for simulated routes and client IPs. Private to proxy_sim_core.
namespace proxy_sim::internal {

// Distinct route names such as "api" or "route-12".
std::vector<std::string> MakeRouteNames(std::size_t count);
// Distinct backend addresses such as "api-1.internal:8443" or "backend-12.internal:8080".
std::vector<std::string> MakeBackendNames(std::size_t count);
// Distinct domains such as "www.example.com" or "site-12.example.com".
std::vector<std::string> MakeDomainNames(std::size_t count);
// Distinct client addresses; every third one IPv6 in varying text forms.
std::vector<std::string> MakeIpNames(std::size_t count, std::uint64_t seed);
// Same sizes, each name distinct, hostile content first (see Simulation::route_names).
std::vector<std::string> MakeHostileRouteNames(std::size_t count);
// Replaces the IPs at odd indices 1, 3, 5, ... with hostile names while they last.
std::vector<std::string> MakeHostileIpNames(const std::vector<std::string>& ips);

// splitmix64: a cheap, well-mixed deterministic hash.
inline std::uint64_t Mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
inline std::uint64_t Mix(std::uint64_t a, std::uint64_t b) { return Mix(Mix(a) ^ b); }
inline std::uint64_t Mix(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  return Mix(Mix(a, b) ^ c);
}

}  // namespace proxy_sim::internal
