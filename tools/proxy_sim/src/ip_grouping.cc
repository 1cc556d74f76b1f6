#include "proxy_sim/ip_grouping.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstddef>
#include <cstring>

namespace proxy_sim {
namespace {

void ClearHostBits(unsigned char* bytes, std::size_t size, unsigned prefix) {
  for (std::size_t i = 0; i < size; ++i) {
    const unsigned first_bit = static_cast<unsigned>(i) * 8;
    if (prefix >= first_bit + 8) continue;
    const unsigned keep = prefix > first_bit ? prefix - first_bit : 0;
    bytes[i] = static_cast<unsigned char>(bytes[i] & (0xFF00u >> keep));
  }
}

std::string Format(int family, const void* address, unsigned prefix) {
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(family, address, text, sizeof text) == nullptr) return {};
  return std::string(text) + '/' + std::to_string(prefix);
}

}  // namespace

std::optional<std::string> IpNetworkOf(std::string_view ip, const IpGrouping& grouping) {
  // inet_pton needs a terminated string; anything longer than an address is not one.
  char text[INET6_ADDRSTRLEN + 1];
  if (ip.size() >= sizeof text || ip.find('\0') != std::string_view::npos) return std::nullopt;
  std::memcpy(text, ip.data(), ip.size());
  text[ip.size()] = '\0';
  const unsigned v4_prefix = grouping.ipv4_prefix > 32 ? 32 : grouping.ipv4_prefix;
  const unsigned v6_prefix = grouping.ipv6_prefix > 128 ? 128 : grouping.ipv6_prefix;
  in_addr v4{};
  if (inet_pton(AF_INET, text, &v4) == 1) {
    ClearHostBits(reinterpret_cast<unsigned char*>(&v4), sizeof v4, v4_prefix);
    return Format(AF_INET, &v4, v4_prefix);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text, &v6) != 1) return std::nullopt;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::memcpy(&v4, v6.s6_addr + 12, sizeof v4);
    ClearHostBits(reinterpret_cast<unsigned char*>(&v4), sizeof v4, v4_prefix);
    return Format(AF_INET, &v4, v4_prefix);
  }
  ClearHostBits(v6.s6_addr, sizeof v6.s6_addr, v6_prefix);
  return Format(AF_INET6, &v6, v6_prefix);
}

}  // namespace proxy_sim
