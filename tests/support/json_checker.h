#pragma once

// A small, strict RFC 8259 parser shared by the tests: it checks that output (proxy-sim's
// snapshots, the exporter's JSON and logfmt log lines) is valid JSON in valid UTF-8 without
// depending on proxy_client. A lone surrogate escape reads as U+FFFD, as
// docs/snapshot-protocol.md rule 5 asks of consumers.

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace test_support {

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string text;               // kNumber: the literal; kString: the decoded UTF-8
  std::vector<JsonValue> items;   // kArray elements, kObject values
  std::vector<std::string> keys;  // kObject keys, parallel to items

  bool Has(std::string_view key) const {
    for (const auto& k : keys) {
      if (k == key) return true;
    }
    return false;
  }
  const JsonValue& operator[](std::string_view key) const {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) return items[i];
    }
    throw std::out_of_range("no member " + std::string(key));
  }
};

class JsonChecker {
 public:
  // Returns the document, or nullopt with error() saying where it failed.
  std::optional<JsonValue> Parse(std::string_view text) {
    text_ = text;
    pos_ = 0;
    error_.clear();
    JsonValue value;
    SkipWhitespace();
    if (!ParseValue(value, 0)) return std::nullopt;
    SkipWhitespace();
    if (pos_ != text_.size()) {
      Fail("trailing characters");
      return std::nullopt;
    }
    return value;
  }
  // Reads the one JSON string literal (RFC 8259 section 7) starting at text[pos] == '"' and
  // returns its decoded UTF-8, moving pos just past the closing quote. Whatever follows it is
  // not looked at. Returns nullopt with error() saying why (pos unchanged) if there is no
  // string literal at pos or it is invalid: raw control characters, bad escapes, bad UTF-8.
  std::optional<std::string> ReadString(std::string_view text, std::size_t& pos) {
    text_ = text;
    pos_ = pos;
    error_.clear();
    if (pos_ >= text_.size() || text_[pos_] != '"') {
      Fail("expected a string");
      return std::nullopt;
    }
    std::string out;
    if (!ParseString(out)) return std::nullopt;
    pos = pos_;
    return out;
  }
  const std::string& error() const { return error_; }

 private:
  bool Fail(const std::string& what) {
    if (error_.empty()) error_ = what + " at byte " + std::to_string(pos_);
    return false;
  }
  void SkipWhitespace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return Fail("bad literal");
    pos_ += word.size();
    return true;
  }
  bool ParseValue(JsonValue& value, int depth) {
    if (depth > 64) return Fail("too deep");
    if (pos_ >= text_.size()) return Fail("unexpected end");
    const char c = text_[pos_];
    if (c == '{') return ParseObject(value, depth);
    if (c == '[') return ParseArray(value, depth);
    if (c == '"') {
      value.kind = JsonValue::Kind::kString;
      return ParseString(value.text);
    }
    if (c == 't') {
      value.kind = JsonValue::Kind::kBool;
      value.boolean = true;
      return Literal("true");
    }
    if (c == 'f') {
      value.kind = JsonValue::Kind::kBool;
      return Literal("false");
    }
    if (c == 'n') return Literal("null");
    return ParseNumber(value);
  }
  bool ParseObject(JsonValue& value, int depth) {
    value.kind = JsonValue::Kind::kObject;
    ++pos_;
    SkipWhitespace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      SkipWhitespace();
      if (pos_ >= text_.size() || text_[pos_] != '"') return Fail("expected a key");
      std::string key;
      if (!ParseString(key)) return false;
      SkipWhitespace();
      if (pos_ >= text_.size() || text_[pos_] != ':') return Fail("expected ':'");
      ++pos_;
      SkipWhitespace();
      JsonValue member;
      if (!ParseValue(member, depth + 1)) return false;
      value.keys.push_back(std::move(key));
      value.items.push_back(std::move(member));
      SkipWhitespace();
      if (pos_ >= text_.size()) return Fail("unexpected end in object");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return Fail("expected ',' or '}'");
    }
  }
  bool ParseArray(JsonValue& value, int depth) {
    value.kind = JsonValue::Kind::kArray;
    ++pos_;
    SkipWhitespace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      SkipWhitespace();
      JsonValue item;
      if (!ParseValue(item, depth + 1)) return false;
      value.items.push_back(std::move(item));
      SkipWhitespace();
      if (pos_ >= text_.size()) return Fail("unexpected end in array");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return Fail("expected ',' or ']'");
    }
  }
  bool ParseNumber(JsonValue& value) {
    const std::size_t start = pos_;
    const auto digits = [&]() {
      const std::size_t from = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ > from;
    };
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '0') {
      ++pos_;
    } else if (!digits()) {
      return Fail("bad number");
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (!digits()) return Fail("bad fraction");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digits()) return Fail("bad exponent");
    }
    value.kind = JsonValue::Kind::kNumber;
    value.text = std::string(text_.substr(start, pos_ - start));
    value.number = std::strtod(value.text.c_str(), nullptr);
    if (!std::isfinite(value.number)) return Fail("number out of range");
    return true;
  }
  static void AppendUtf8(std::string& out, std::uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }
  bool Hex4(std::uint32_t& code) {
    if (pos_ + 4 > text_.size()) return Fail("short \\u escape");
    code = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[pos_++];
      code <<= 4;
      if (h >= '0' && h <= '9') {
        code |= static_cast<std::uint32_t>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        code |= static_cast<std::uint32_t>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        code |= static_cast<std::uint32_t>(h - 'A' + 10);
      } else {
        return Fail("bad hex digit");
      }
    }
    return true;
  }
  // Validates one UTF-8 sequence starting at pos_ (RFC 3629: no overlongs, no surrogates).
  bool CopyUtf8(std::string& out) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text_[i]); };
    const unsigned char b0 = byte(pos_);
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      length = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      length = 3;
      if (b0 == 0xE0) low = 0xA0;
      if (b0 == 0xED) high = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      length = 4;
      if (b0 == 0xF0) low = 0x90;
      if (b0 == 0xF4) high = 0x8F;
    } else {
      return Fail("invalid UTF-8 lead byte");
    }
    if (pos_ + length > text_.size()) return Fail("truncated UTF-8");
    if (byte(pos_ + 1) < low || byte(pos_ + 1) > high) return Fail("invalid UTF-8");
    for (std::size_t i = 2; i < length; ++i) {
      if (byte(pos_ + i) < 0x80 || byte(pos_ + i) > 0xBF) return Fail("invalid UTF-8");
    }
    out.append(text_.substr(pos_, length));
    pos_ += length;
    return true;
  }
  bool ParseString(std::string& out) {
    ++pos_;  // opening quote
    for (;;) {
      if (pos_ >= text_.size()) return Fail("unterminated string");
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return Fail("raw control character in string");
      if (c >= 0x80) {
        if (!CopyUtf8(out)) return false;
        continue;
      }
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      if (++pos_ >= text_.size()) return Fail("unterminated escape");
      const char e = text_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t code = 0;
          if (!Hex4(code)) return false;
          if (code >= 0xD800 && code <= 0xDBFF && text_.substr(pos_, 2) == "\\u") {
            const std::size_t save = pos_;
            pos_ += 2;
            std::uint32_t low = 0;
            if (!Hex4(low)) return false;
            if (low >= 0xDC00 && low <= 0xDFFF) {
              AppendUtf8(out, 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00));
              break;
            }
            pos_ = save;
          }
          if (code >= 0xD800 && code <= 0xDFFF) {
            ++lone_surrogates;
            code = 0xFFFD;
          }
          AppendUtf8(out, code);
          break;
        }
        default:
          return Fail("bad escape");
      }
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::string error_;

 public:
  int lone_surrogates = 0;  // escaped lone surrogates seen (each read as U+FFFD)
};

// Reads the JSON string literal at text[pos] (see JsonChecker::ReadString); nullopt if invalid.
inline std::optional<std::string> ReadJsonString(std::string_view text, std::size_t& pos) {
  return JsonChecker().ReadString(text, pos);
}

}  // namespace test_support

// The proxy_sim tests know these by their old home.
namespace proxy_sim_test {
using test_support::JsonChecker;
using test_support::JsonValue;
}  // namespace proxy_sim_test
