#pragma once

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

struct FetchError {
  FetchErrorKind kind;
  std::string message;  // for a human: what failed, where, and what to check
};

// "connect", "timeout", "http_status", "too_large", "parse", "version".
std::string_view FetchErrorKindName(FetchErrorKind kind);

}  // namespace proxy_client
