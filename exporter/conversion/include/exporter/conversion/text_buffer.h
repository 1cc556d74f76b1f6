#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

// A growable byte buffer for exposition text. Unlike std::string, growing it does not fill the
// new room first: a 24 MB text is written once, not zeroed and then written, and room reserved
// but never written stays out of the resident set.
namespace exporter::conversion {

class TextBuffer {
 public:
  TextBuffer() = default;
  explicit TextBuffer(std::size_t capacity) { Reserve(capacity); }
  TextBuffer(TextBuffer&&) noexcept = default;
  TextBuffer& operator=(TextBuffer&&) noexcept = default;

  std::string_view view() const { return {data_.get(), size_}; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  void Clear() { size_ = 0; }
  // Room for `capacity` bytes in all; never shrinks.
  void Reserve(std::size_t capacity);

  // Room for `bytes` more bytes: returns where they go. Finish with Commit(end of what was
  // written), before any other call.
  char* Extend(std::size_t bytes) {
    if (capacity_ - size_ < bytes) Grow(bytes);
    return data_.get() + size_;
  }
  void Commit(const char* end) { size_ = static_cast<std::size_t>(end - data_.get()); }

  void Append(std::string_view text);

 private:
  void Grow(std::size_t bytes);

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace exporter::conversion
