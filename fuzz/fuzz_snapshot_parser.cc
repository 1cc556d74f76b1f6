// Snapshot bytes → SnapshotParser: any input yields a Snapshot or a ParseError, never a crash,
// and the copying and in-place entry points agree.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proxy_client/snapshot_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // One parser for the whole run, as in production, so buffer reuse across inputs is exercised.
  static proxy_client::SnapshotParser parser;
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  const bool parsed = parser.Parse(json).has_value();

  std::string body(json);
  const bool parsed_in_place = parser.ParseInPlace(&body).has_value();
  if (parsed != parsed_in_place || body.size() != size) std::abort();
  return 0;
}
