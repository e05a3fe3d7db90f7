#pragma once
// SCRAM building blocks (RFC 5802, RFC 7677; Kafka KIP-84), written once for both sides of a SCRAM
// conversation: the server in identity/scram_server.h and the users file here, and the client that kedge
// runs toward brokers (upstream/sasl_client.cpp is meant to call these instead of its own copies).
//
// RFC 5802 §3, with H = SHA-256 or SHA-512 and HMAC over it:
//   SaltedPassword  := Hi(password, salt, i)         PBKDF2 (RFC 8018 §5.2) with HMAC-H, dkLen = |H|
//   ClientKey       := HMAC(SaltedPassword, "Client Key")
//   StoredKey       := H(ClientKey)
//   ServerKey       := HMAC(SaltedPassword, "Server Key")
//   ClientSignature := HMAC(StoredKey, AuthMessage)
//   ClientProof     := ClientKey XOR ClientSignature
//   ServerSignature := HMAC(ServerKey, AuthMessage)
//
// Byte strings are std::string holding raw bytes (the client's convention). Nothing throws; a failed
// OpenSSL call is an empty optional. No SASLprep (RFC 4013) is applied to passwords or names: Kafka's
// ScramFormatter uses the UTF-8 bytes as they are, so a credential made here matches one Kafka makes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kedge::scram {

enum class Hash : std::uint8_t { sha256, sha512 };
inline constexpr Hash kHashes[] = {Hash::sha256, Hash::sha512};

// "SCRAM-SHA-256" / "SCRAM-SHA-512": the SASL mechanism names (RFC 7677 §3, KIP-84), also the users-file keys.
std::string_view mechanism_name(Hash hash);
std::optional<Hash> hash_of_mechanism(std::string_view mechanism_name);
// |H| in bytes: 32 or 64.
std::size_t digest_size(Hash hash);

// Iteration bounds. 4096 is RFC 7677 §4's minimum for SCRAM-SHA-256 and Kafka's default; 16384 is Kafka's
// ScramMechanism maximum, so a credential above it would be refused by the Java client, and it bounds the
// PBKDF2 cost that a PLAIN check or a hostile server can make kedge spend.
inline constexpr std::uint32_t kMinIterations = 4096;
inline constexpr std::uint32_t kMaxIterations = 16384;

std::optional<std::string> hmac(Hash hash, std::string_view key, std::string_view data);
std::optional<std::string> digest(Hash hash, std::string_view data);
// Hi(password, salt, i); `iterations` must be >= 1 (callers bound it to kMaxIterations first).
std::optional<std::string> salted_password(Hash hash, std::string_view password, std::string_view salt,
                                           std::uint32_t iterations);

// The three keys RFC 5802 derives from SaltedPassword. The client needs ClientKey and ServerKey; the
// server (and the users file) keeps StoredKey and ServerKey only.
struct Keys {
  std::string client_key;
  std::string stored_key;
  std::string server_key;
  Keys() = default;
  Keys(const Keys&) = default;
  Keys& operator=(const Keys&) = default;
  ~Keys();  // cleanses client_key
};
std::optional<Keys> keys_from_salted_password(Hash hash, std::string_view salted_password);
// Hi() followed by the above; SaltedPassword is cleansed before returning.
std::optional<Keys> keys_from_password(Hash hash, std::string_view password, std::string_view salt,
                                       std::uint32_t iterations);

// a XOR b (ClientProof <-> ClientKey); nullopt when the sizes differ.
std::optional<std::string> xor_bytes(std::string_view a, std::string_view b);
// Constant-time equality of two secrets (CRYPTO_memcmp over the common length; unequal lengths are
// unequal, and the length of a secret is public here: always |H|).
bool equal_secrets(std::string_view a, std::string_view b);

// RFC 4648 §4 base64 with padding.
std::string base64_encode(std::string_view bytes);
// Strict RFC 4648 decoding: only the base64 alphabet, length a multiple of 4, padding only at the end,
// and the unused bits before the padding zero (§3.5), so every byte string has exactly one accepted text.
std::optional<std::string> base64_decode(std::string_view text);

// RFC 5802 §5.1 saslname: ',' -> "=2C", '=' -> "=3D".
std::string escape_saslname(std::string_view name);
// The inverse: nullopt for any other '=' sequence, a raw ',', an empty result, a NUL byte or bytes that
// are not UTF-8 (RFC 5802 §7 saslname; "invalid-username-encoding").
std::optional<std::string> unescape_saslname(std::string_view saslname);

// True for RFC 5802 §7 `printable` (%x21-2B / %x2D-7E: printable ASCII except ','), non-empty.
bool is_printable_nonce(std::string_view nonce);
// A fresh nonce: 24 bytes from RAND_bytes, base64 (32 printable characters without ','); empty when
// RAND_bytes failed.
std::string random_nonce();

// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
bool is_utf8(std::string_view text);

}  // namespace kedge::scram
