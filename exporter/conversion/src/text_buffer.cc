#include "exporter/conversion/text_buffer.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace exporter::conversion {

void TextBuffer::Reserve(std::size_t capacity) {
  if (!pages_.Reserve(capacity, size_)) throw std::bad_alloc();
}

void TextBuffer::Grow(std::size_t bytes) {
  // Doubling keeps appends amortised O(1); callers that know the size reserve it up front.
  if (size_ + bytes > pages_.capacity()) {
    Reserve(std::max({size_ + bytes, 2 * pages_.capacity(), std::size_t{4096}}));
  }
  // The pages come as the text reaches them (PageBuffer::MakeWritable).
  pages_.MakeWritable(size_ + bytes);
}

void TextBuffer::Append(std::string_view text) {
  char* out = Extend(text.size());
  if (!text.empty()) std::memcpy(out, text.data(), text.size());
  Commit(out + text.size());
}

}  // namespace exporter::conversion
