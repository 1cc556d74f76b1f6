#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string_view>

// The hash for every table keyed by names that come from the proxy (IPs, routes): untrusted.
namespace proxy_client {

// A per-process random seed for HashName: names come from an untrusted proxy, and with a fixed
// hash (std::hash is one) a proxy could send 100k names that all collide, turning the
// duplicate check quadratic and the scrape into a hang.
inline std::uint64_t HashSeed() {
  static const std::uint64_t seed = [] {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
  }();
  return seed;
}

// Thread-safe. A seeded hash for map names (IPs, routes: mostly under 40 bytes), 8 bytes a step.
inline std::size_t HashName(std::string_view name) {
  constexpr std::uint64_t kMultiplier = 0xbf58476d1ce4e5b9ULL;
  std::uint64_t hash = HashSeed() ^ (name.size() * 0x9E3779B97F4A7C15ULL);
  const char* data = name.data();
  std::size_t left = name.size();
  while (left >= 8) {
    std::uint64_t word;
    std::memcpy(&word, data, 8);
    hash = (hash ^ word) * kMultiplier;
    hash ^= hash >> 31;
    data += 8;
    left -= 8;
  }
  if (left > 0) {
    std::uint64_t word = 0;
    if (name.size() >= 8) {
      // The last eight bytes, overlapping the ones already mixed: one load, no byte loop.
      std::memcpy(&word, name.data() + name.size() - 8, 8);
    } else {
      std::memcpy(&word, data, left);
    }
    hash = (hash ^ word) * kMultiplier;
    hash ^= hash >> 31;
  }
  hash *= 0x94d049bb133111ebULL;
  return static_cast<std::size_t>(hash ^ (hash >> 32));
}

}  // namespace proxy_client
