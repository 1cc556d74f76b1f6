#include "exporter/web/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>

#include "exporter/strings/ascii.h"

namespace exporter::web {
namespace {

// Strict standard base64 (RFC 4648 §4, padding required), as browsers and Prometheus send it.
std::optional<std::string> DecodeBase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  const auto value_of = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const int padding = (text[i + 3] == '=') + (text[i + 2] == '=' && text[i + 3] == '=');
    if (padding > 0 && !last) return std::nullopt;
    std::array<int, 4> v{};
    for (int k = 0; k < 4 - padding; ++k) {
      v[static_cast<std::size_t>(k)] = value_of(text[i + static_cast<std::size_t>(k)]);
      if (v[static_cast<std::size_t>(k)] < 0) return std::nullopt;
    }
    const unsigned bits = (static_cast<unsigned>(v[0]) << 18) |
                          (static_cast<unsigned>(v[1]) << 12) | (static_cast<unsigned>(v[2]) << 6) |
                          static_cast<unsigned>(v[3]);
    out.push_back(static_cast<char>((bits >> 16) & 0xff));
    if (padding < 2) out.push_back(static_cast<char>((bits >> 8) & 0xff));
    if (padding < 1) out.push_back(static_cast<char>(bits & 0xff));
  }
  return out;
}

std::string CacheKey(std::string_view user, std::string_view hash, std::string_view password) {
  // Lengths first, so that no two different triples hash the same bytes.
  std::string input;
  input.reserve(24 + user.size() + hash.size() + password.size());
  for (const std::string_view part : {user, hash, password}) {
    input += std::to_string(part.size());
    input += ':';
    input += part;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(input.data(), input.size(), digest.data(), &size, EVP_sha256(), nullptr);
  OPENSSL_cleanse(input.data(), input.size());
  return std::string(reinterpret_cast<const char*>(digest.data()), size);
}

// A hash of a random password with `cost` and the users' prefix, for unknown users.
std::string UnknownUserHash(std::string_view prefix, unsigned cost) {
  std::array<unsigned char, 32> random{};
  RAND_bytes(random.data(), static_cast<int>(random.size()));
  std::string password;
  for (const unsigned char byte : random) password += static_cast<char>('a' + byte % 26);
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
  const std::string prefix_text(prefix);
  if (crypt_gensalt_rn(prefix_text.c_str(), cost, nullptr, 0, setting.data(),
                       static_cast<int>(setting.size())) == nullptr) {
    return {};
  }
  const auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_rn(password.c_str(), setting.data(), data.get(), sizeof(crypt_data));
  return hash != nullptr && hash[0] == '$' ? std::string(hash) : std::string();
}

}  // namespace

BasicAuthenticator::BasicAuthenticator(std::vector<config::BasicAuthUser> users)
    : users_(std::move(users)) {
  if (users_.empty()) return;
  unsigned cost = 4;
  std::string prefix = "$2y$";
  for (const config::BasicAuthUser& user : users_) {
    const unsigned user_cost = config::BcryptCost(user.bcrypt_hash).value_or(4);
    if (user_cost >= cost) {
      cost = user_cost;
      prefix = user.bcrypt_hash.substr(0, 4);
    }
  }
  unknown_user_hash_ = UnknownUserHash(prefix, cost);
  if (unknown_user_hash_.empty()) {
    // libcrypt could not make one: fall back to a real user's hash, which costs the same and
    // which no password the client sends will match for a different user name.
    unknown_user_hash_ = users_.front().bcrypt_hash;
  }
}

bool BasicAuthenticator::Bcrypt(std::string_view password, const std::string& hash) const {
  const std::string password_text(password);
  const auto data = std::make_unique<crypt_data>();
  const char* result =
      crypt_rn(password_text.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  const bool match = result != nullptr && std::string_view(result).size() == hash.size() &&
                     CRYPTO_memcmp(result, hash.data(), hash.size()) == 0;
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return match;
}

bool BasicAuthenticator::CheckCredentials(std::string_view user, std::string_view password) const {
  const auto found = std::find_if(users_.begin(), users_.end(),
                                  [&](const config::BasicAuthUser& u) { return u.name == user; });
  if (found == users_.end()) {
    Bcrypt(password, unknown_user_hash_);  // for the time it takes, not the answer
    return false;
  }
  // crypt() reads a C string: "right\0anything" would pass as "right". Spend the time anyway.
  if (password.find('\0') != std::string_view::npos) {
    Bcrypt("", found->bcrypt_hash);
    return false;
  }
  const std::string key = CacheKey(user, found->bcrypt_hash, password);
  {
    std::lock_guard lock(cache_mutex_);
    if (cache_.contains(key)) {
      ++cache_hits_;
      return true;
    }
  }
  if (!Bcrypt(password, found->bcrypt_hash)) return false;
  std::lock_guard lock(cache_mutex_);
  // Bounded: a full cache starts over (the next scrape of each client pays bcrypt once more).
  if (cache_.size() >= kCacheCapacity) cache_.clear();
  cache_.insert(key);
  return true;
}

bool BasicAuthenticator::Check(const char* authorization_header) const {
  std::string_view header = authorization_header != nullptr ? authorization_header : "";
  constexpr std::string_view kScheme = "Basic ";
  // The scheme is case-insensitive (RFC 7235 §2.1).
  const bool basic = header.size() > kScheme.size() &&
                     strings::EqualsIgnoreCase(header.substr(0, kScheme.size()), kScheme);
  std::optional<std::string> decoded;
  if (basic) {
    header.remove_prefix(kScheme.size());
    while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
    while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
    decoded = DecodeBase64(header);
  }
  const std::size_t colon = decoded ? decoded->find(':') : std::string::npos;
  // No usable credentials: refused at once. No user name was given, so there is nothing for
  // timing to reveal, and spending bcrypt here would hand any client a cheap way to burn CPU.
  if (colon == std::string::npos) return false;
  const bool ok = CheckCredentials(std::string_view(*decoded).substr(0, colon),
                                   std::string_view(*decoded).substr(colon + 1));
  OPENSSL_cleanse(decoded->data(), decoded->size());
  return ok;
}

std::size_t BasicAuthenticator::CacheHits() const {
  std::lock_guard lock(cache_mutex_);
  return cache_hits_;
}

}  // namespace exporter::web
