#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace proxy_client {

// A value or an error, as std::expected (C++23) will be. Errors are values at the library
// boundary: nothing on the fetch path throws.
template <typename T, typename E>
class Expected {
 public:
  Expected(T value) : storage_(std::in_place_index<0>, std::move(value)) {}  // NOLINT implicit
  Expected(E error) : storage_(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit

  bool has_value() const { return storage_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value() && "value() on an Expected holding an error");
    return std::get<0>(storage_);
  }
  const T& value() const& {
    assert(has_value() && "value() on an Expected holding an error");
    return std::get<0>(storage_);
  }
  T&& value() && {
    assert(has_value() && "value() on an Expected holding an error");
    return std::get<0>(std::move(storage_));
  }
  const E& error() const {
    assert(!has_value() && "error() on an Expected holding a value");
    return std::get<1>(storage_);
  }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, E> storage_;
};

}  // namespace proxy_client
