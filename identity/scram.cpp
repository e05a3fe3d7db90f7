#include "identity/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <climits>

#include "common/base64.h"

namespace kedge::scram {
namespace {

const EVP_MD* md_of(Hash hash) { return hash == Hash::sha256 ? EVP_sha256() : EVP_sha512(); }

const unsigned char* bytes_of(std::string_view text) { return reinterpret_cast<const unsigned char*>(text.data()); }

using base64::kAlphabet;
using base64::sextet;

}  // namespace

std::string_view mechanism_name(Hash hash) { return hash == Hash::sha256 ? "SCRAM-SHA-256" : "SCRAM-SHA-512"; }

std::optional<Hash> hash_of_mechanism(std::string_view name) {
  for (const Hash hash : kHashes) {
    if (mechanism_name(hash) == name) return hash;
  }
  return std::nullopt;
}

std::size_t digest_size(Hash hash) { return hash == Hash::sha256 ? 32 : 64; }

std::optional<std::string> hmac(Hash hash, std::string_view key, std::string_view data) {
  if (key.size() > INT_MAX) return std::nullopt;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(md_of(hash), key.data(), static_cast<int>(key.size()), bytes_of(data), data.size(), out, &length) ==
          nullptr ||
      length != digest_size(hash)) {
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::optional<std::string> digest(Hash hash, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), out, &length, md_of(hash), nullptr) != 1 || length != digest_size(hash)) {
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::optional<std::string> salted_password(Hash hash, std::string_view password, std::string_view salt,
                                           std::uint32_t iterations) {
  if (iterations == 0 || iterations > INT_MAX || password.size() > INT_MAX || salt.size() > INT_MAX) {
    return std::nullopt;
  }
  std::string out(digest_size(hash), '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), bytes_of(salt),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), md_of(hash),
                        static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data())) != 1) {
    return std::nullopt;
  }
  return out;
}

Keys::~Keys() { OPENSSL_cleanse(client_key.data(), client_key.size()); }

std::optional<Keys> keys_from_salted_password(Hash hash, std::string_view salted) {
  Keys keys;
  auto client_key = hmac(hash, salted, "Client Key");
  auto server_key = hmac(hash, salted, "Server Key");
  if (!client_key || !server_key) return std::nullopt;
  auto stored_key = digest(hash, *client_key);
  if (!stored_key) return std::nullopt;
  keys.client_key = std::move(*client_key);
  keys.stored_key = std::move(*stored_key);
  keys.server_key = std::move(*server_key);
  return keys;
}

std::optional<Keys> keys_from_password(Hash hash, std::string_view password, std::string_view salt,
                                       std::uint32_t iterations) {
  std::optional<std::string> salted = salted_password(hash, password, salt, iterations);
  if (!salted) return std::nullopt;
  std::optional<Keys> keys = keys_from_salted_password(hash, *salted);
  OPENSSL_cleanse(salted->data(), salted->size());
  return keys;
}

std::optional<std::string> xor_bytes(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return std::nullopt;
  std::string out(a.size(), '\0');
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = static_cast<char>(a[i] ^ b[i]);
  return out;
}

bool equal_secrets(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                            static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (rest == 2) v |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t data_chars = last ? 4 - padding : 4;
    std::uint32_t v = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      int s = 0;
      if (j < data_chars) {
        s = sextet(text[i + j]);
        if (s < 0) return std::nullopt;  // includes a '=' before the padding
      }
      v = (v << 6) | static_cast<std::uint32_t>(s);
    }
    out += static_cast<char>((v >> 16) & 0xff);
    if (data_chars >= 3) out += static_cast<char>((v >> 8) & 0xff);
    if (data_chars == 4) out += static_cast<char>(v & 0xff);
    // §3.5: the bits of the last data character that no output byte uses must be zero.
    if (data_chars == 2 && (v & 0xffff) != 0) return std::nullopt;
    if (data_chars == 3 && (v & 0xff) != 0) return std::nullopt;
  }
  return out;
}

std::string escape_saslname(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (const char c : name) {
    if (c == ',') {
      out += "=2C";
    } else if (c == '=') {
      out += "=3D";
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> unescape_saslname(std::string_view saslname) {
  std::string out;
  out.reserve(saslname.size());
  for (std::size_t i = 0; i < saslname.size(); ++i) {
    const char c = saslname[i];
    if (c == ',' || c == '\0') return std::nullopt;
    if (c != '=') {
      out += c;
      continue;
    }
    const std::string_view escape = saslname.substr(i, 3);
    if (escape == "=2C") {
      out += ',';
    } else if (escape == "=3D") {
      out += '=';
    } else {
      return std::nullopt;  // §5.1: any other '=' sequence makes the name invalid
    }
    i += 2;
  }
  if (out.empty() || !is_utf8(out)) return std::nullopt;
  return out;
}

bool is_printable_nonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (const char c : nonce) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e || c == ',') return false;
  }
  return true;
}

std::string random_nonce() {
  std::array<unsigned char, 24> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return {};
  return base64_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

bool is_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
      code = lead & 0x1f;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      code = lead & 0x0f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      code = lead & 0x07;
    } else {
      return false;  // continuation byte, overlong lead 0xc0/0xc1, or beyond U+10FFFF
    }
    if (i + length > text.size()) return false;
    for (std::size_t j = 1; j < length; ++j) {
      const auto next = static_cast<unsigned char>(text[i + j]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    if ((length == 3 && code < 0x800) || (length == 4 && (code < 0x10000 || code > 0x10ffff)) ||
        (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    i += length;
  }
  return true;
}

}  // namespace kedge::scram
