#pragma once
// The two encodings under every JOSE object: base64url without padding (RFC 7515 §2, RFC 4648 §5) and
// JSON objects (RFC 8259), decoded strictly so that one token has exactly one meaning.
//
// Both are nothrow except for std::bad_alloc; callers on the authentication path catch that at their
// boundary (jwt.cpp, oauthbearer.cpp).
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace kedge::identity {

// RFC 7515 §2 "Base64url Encoding": the URL-safe alphabet (RFC 4648 §5), no '=' padding, no line breaks
// or whitespace. Strict: a length of 4n+1, any byte outside the alphabet, or non-zero unused bits in the
// last character (a non-canonical encoding: two texts for the same bytes) are refused with nullopt.
std::optional<std::string> base64url_decode(std::string_view text);
std::string base64url_encode(std::string_view bytes);

// Parses `text` as one JSON object. nullopt when it is not valid JSON (RFC 8259, UTF-8), is not an object,
// repeats a member name in any object (RFC 7515 §5.2 lets a parser reject these; we do, so a header cannot
// mean one thing to us and another to the issuer), or nests deeper than `max_depth`. Never throws for bad
// input: nlohmann_json's non-throwing parse. Callers must not dump() the result (it throws on strings that
// are not UTF-8 only when a value was built by hand; parsed values are valid UTF-8, but the rule is simple).
std::optional<nlohmann::json> parse_json_object(std::string_view text, int max_depth = 16);

}  // namespace kedge::identity
