#include "proxy_sim/faults.h"

#include <array>
#include <utility>

namespace proxy_sim {
namespace {

constexpr std::array<std::pair<FaultMode, std::string_view>, 9> kNames = {{
    {FaultMode::kNone, "none"},
    {FaultMode::kSlow, "slow"},
    {FaultMode::kHang, "hang"},
    {FaultMode::kGarbage, "garbage"},
    {FaultMode::kTruncate, "truncate"},
    {FaultMode::kHttp500, "http500"},
    {FaultMode::kHuge, "huge"},
    {FaultMode::kRestart, "restart"},
    {FaultMode::kHostileNames, "hostile-names"},
}};

}  // namespace

std::string_view FaultModeName(FaultMode mode) {
  for (const auto& [value, name] : kNames) {
    if (value == mode) return name;
  }
  return "unknown";
}

std::optional<FaultMode> ParseFaultMode(std::string_view name) {
  for (const auto& [value, text] : kNames) {
    if (text == name) return value;
  }
  return std::nullopt;
}

}  // namespace proxy_sim
