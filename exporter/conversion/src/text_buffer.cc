#include "exporter/conversion/text_buffer.h"

#include <algorithm>
#include <cstring>

namespace exporter::conversion {

void TextBuffer::Reserve(std::size_t capacity) {
  if (capacity <= capacity_) return;
  auto grown = std::make_unique_for_overwrite<char[]>(capacity);
  if (size_ > 0) std::memcpy(grown.get(), data_.get(), size_);
  data_ = std::move(grown);
  capacity_ = capacity;
}

void TextBuffer::Grow(std::size_t bytes) {
  // Doubling keeps appends amortised O(1); callers that know the size reserve it up front.
  Reserve(std::max({size_ + bytes, 2 * capacity_, std::size_t{4096}}));
}

void TextBuffer::Append(std::string_view text) {
  char* out = Extend(text.size());
  if (!text.empty()) std::memcpy(out, text.data(), text.size());
  Commit(out + text.size());
}

}  // namespace exporter::conversion
