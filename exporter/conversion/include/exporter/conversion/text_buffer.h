#pragma once

#include <cstddef>
#include <string_view>
#include <utility>

#include "page_memory/page_buffer.h"

// A growable byte buffer for exposition text. Unlike std::string, growing it does not fill the
// new room first: a 24 MB text is written once, not zeroed and then written, and room reserved
// but never written stays out of the resident set. Its memory is a page_memory::PageBuffer.
namespace exporter::conversion {

class TextBuffer {
 public:
  TextBuffer() = default;
  explicit TextBuffer(std::size_t capacity) { Reserve(capacity); }
  // A moved-from buffer is empty.
  TextBuffer(TextBuffer&& other) noexcept
      : pages_(std::move(other.pages_)), size_(std::exchange(other.size_, 0)) {}
  TextBuffer& operator=(TextBuffer&& other) noexcept {
    pages_ = std::move(other.pages_);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }

  std::string_view view() const { return {pages_.data(), size_}; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return pages_.capacity(); }
  void Clear() { size_ = 0; }
  // Clear, and lend the pages to the buffers of the next fetch and parse (PageBuffer's pool),
  // so that a kept text and the next snapshot's body and document are not resident at once.
  // The next write takes pages back.
  void ClearAndRelease() {
    size_ = 0;
    pages_.ReleasePages();
  }
  // Room for `capacity` bytes in all; never shrinks. Throws std::bad_alloc when refused.
  void Reserve(std::size_t capacity);

  // Room for `bytes` more bytes: returns where they go. Finish with Commit(end of what was
  // written), before any other call.
  char* Extend(std::size_t bytes) {
    if (pages_.room() - size_ < bytes) Grow(bytes);
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
