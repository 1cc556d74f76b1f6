#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "page_memory/page_buffer.h"
#include "proxy_client/expected.h"
#include "proxy_client/snapshot.h"

namespace proxy_client {

struct ParseError {
  bool unsupported_version = false;  // schemaVersion parsed, but not one we speak
  // Names the JSON path and the problem, e.g.
  // connections.byRoute["api"]: expected a non-negative number, got "x"
  std::string message;
};

// Bytes past the end of the JSON that ParseInPlace(char*, size) reads (never their contents):
// simdjson's padding.
inline constexpr std::size_t kParsePaddingBytes = 64;

// Parses protocol v1 JSON into a Snapshot. Reuses its buffers across calls, so keep one per
// thread; not thread-safe. Never throws; any input yields a Snapshot or a ParseError.
class SnapshotParser {
 public:
  SnapshotParser();
  ~SnapshotParser();
  SnapshotParser(const SnapshotParser&) = delete;
  SnapshotParser& operator=(const SnapshotParser&) = delete;

  Expected<Snapshot, ParseError> Parse(std::string_view json);
  // The same without copying the body: `*json` may have escapes rewritten (lone surrogates to
  // U+FFFD) and its capacity grown by simdjson's padding; its size stays.
  Expected<Snapshot, ParseError> ParseInPlace(std::string* json);
  // The same for `size` bytes at `json` followed by kParsePaddingBytes readable bytes.
  Expected<Snapshot, ParseError> ParseInPlace(char* json, std::size_t size);
  // As ParseInPlace(body->data(), size), for a body not needed afterwards: once the document
  // is built from it, and before the snapshot is, its pages go to the pool for the snapshot to
  // take (PageBuffer::ReleasePages), so that body, document and snapshot are never all
  // resident at once. The body's contents are lost; MakeWritable before writing it again.
  Expected<Snapshot, ParseError> ParseConsuming(page_memory::PageBuffer* body, std::size_t size);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-shot convenience over SnapshotParser.
Expected<Snapshot, ParseError> ParseSnapshot(std::string_view json);

}  // namespace proxy_client
