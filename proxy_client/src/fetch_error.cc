#include "proxy_client/fetch_error.h"

namespace proxy_client {

std::string_view FetchErrorKindName(FetchErrorKind kind) {
  switch (kind) {
    case FetchErrorKind::kConnect:
      return "connect";
    case FetchErrorKind::kTimeout:
      return "timeout";
    case FetchErrorKind::kHttpStatus:
      return "http_status";
    case FetchErrorKind::kTooLarge:
      return "too_large";
    case FetchErrorKind::kParse:
      return "parse";
    case FetchErrorKind::kVersion:
      return "version";
  }
  return "unknown";
}

}  // namespace proxy_client
