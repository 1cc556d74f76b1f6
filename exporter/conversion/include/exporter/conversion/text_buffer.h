#pragma once

#include <cstddef>
#include <string_view>

#include "page_memory/page_buffer.h"

// A growable byte buffer for exposition text. Unlike std::string, growing it does not fill the
// new room first: a 24 MB text is written once, not zeroed and then written, and room reserved
// but never written stays out of the resident set. Its memory is a page_memory::PageBuffer.
namespace exporter::conversion {

class TextBuffer {
 public:
  TextBuffer() = default;
  explicit TextBuffer(std::size_t capacity) { Reserve(capacity); }
  TextBuffer(TextBuffer&&) noexcept = default;
  TextBuffer& operator=(TextBuffer&&) noexcept = default;

  std::string_view view() const { return {pages_.data(), size_}; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return pages_.capacity(); }
  void Clear() { size_ = 0; }
  // Clear, and give the pages back where refaulting them is cheap (PageBuffer), so that a kept
  // buffer does not stay resident while the next snapshot is fetched and parsed.
  void ClearAndRelease() {
    size_ = 0;
    pages_.ReleaseHugePages();
  }
  // Room for `capacity` bytes in all; never shrinks. Throws std::bad_alloc when refused.
  void Reserve(std::size_t capacity);

  // Room for `bytes` more bytes: returns where they go. Finish with Commit(end of what was
  // written), before any other call.
  char* Extend(std::size_t bytes) {
    if (pages_.capacity() - size_ < bytes) Grow(bytes);
    return pages_.data() + size_;
  }
  void Commit(const char* end) { size_ = static_cast<std::size_t>(end - pages_.data()); }

  void Append(std::string_view text);

 private:
  void Grow(std::size_t bytes);

  page_memory::PageBuffer pages_;
  std::size_t size_ = 0;
};

}  // namespace exporter::conversion
