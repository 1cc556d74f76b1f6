#pragma once

#include <cstddef>

namespace proxy_client::detail {

// Rewrites every escaped lone UTF-16 surrogate (`\ud800` without its pair) in JSON text to
// `\ufffd`, in place (both are six bytes). Node's JSON.stringify emits lone surrogates as such
// escapes (well-formed JSON.stringify, ES2019); simdjson rejects them, and one odd route name
// must not cost the whole snapshot. Escaped pairs and escaped backslashes are left alone.
// Returns how many escapes were rewritten.
std::size_t ReplaceLoneSurrogateEscapes(char* json, std::size_t size);

}  // namespace proxy_client::detail
