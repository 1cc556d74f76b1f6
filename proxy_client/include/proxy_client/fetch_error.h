#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace proxy_client {

// Every way a snapshot fetch can fail. The names double as the exporter's `reason` label.
enum class FetchErrorKind {
  kConnect,     // socket missing, not a socket, permission denied, connection refused or reset
  kTimeout,     // the caller's deadline passed before a full response arrived
  kHttpStatus,  // the proxy answered with a status other than 200
  kTooLarge,    // the body exceeded the configured maximum
  kParse,       // the body is not a valid v1 snapshot (or arrived truncated)
  kVersion,     // schemaVersion is not a supported major version
};

struct FetchErrorKindInfo {
  FetchErrorKind kind;
  std::string_view name;
};

// The one list of kinds and their names, in enum order: whoever counts or names errors by kind
// iterates over this.
inline constexpr std::array<FetchErrorKindInfo, 6> kFetchErrorKinds = {{
    {FetchErrorKind::kConnect, "connect"},
    {FetchErrorKind::kTimeout, "timeout"},
    {FetchErrorKind::kHttpStatus, "http_status"},
    {FetchErrorKind::kTooLarge, "too_large"},
    {FetchErrorKind::kParse, "parse"},
    {FetchErrorKind::kVersion, "version"},
}};

constexpr std::size_t FetchErrorKindIndex(FetchErrorKind kind) {
  return static_cast<std::size_t>(kind);
}

constexpr bool FetchErrorKindsInEnumOrder() {
  for (std::size_t i = 0; i < kFetchErrorKinds.size(); ++i) {
    if (FetchErrorKindIndex(kFetchErrorKinds[i].kind) != i) return false;
  }
  return true;
}
static_assert(FetchErrorKindsInEnumOrder(), "kFetchErrorKinds is indexed by FetchErrorKind");

// "connect", "timeout", "http_status", "too_large", "parse", "version".
constexpr std::string_view FetchErrorKindName(FetchErrorKind kind) {
  return kFetchErrorKinds[FetchErrorKindIndex(kind)].name;
}

struct FetchError {
  FetchErrorKind kind;
  std::string message;  // for a human: what failed, where, and what to check
};

}  // namespace proxy_client
