#pragma once
// SASL PLAIN (RFC 4616) on the server side, checked against the users file's SCRAM credentials: kedge
// stores no password, so a PLAIN password is verified by deriving what SCRAM would have stored,
//   SaltedPassword = Hi(password, salt, i); StoredKey' = H(HMAC(SaltedPassword, "Client Key")),
// and comparing StoredKey' with the stored StoredKey in constant time (CRYPTO_memcmp).
//
// Grammar (RFC 4616 §2), one message, no reply on success:
//   message = [authzid] UTF8NUL authcid UTF8NUL passwd
//   authzid, authcid, passwd: 1..255 bytes without NUL (authzid may be absent)
// kedge additionally requires authzid to be absent or equal to authcid (no acting as another principal,
// as Kafka's PlainSaslServer), and authcid to be a valid user name (users_file.h).
//
// Cost, and what bounds it. Unlike the SCRAM server, PLAIN runs PBKDF2 per attempt: `iterations` HMACs of
// the stored credential's hash, with iterations <= scram::kMaxIterations (16384, enforced when the users file
// loads). The credential used is the user's SCRAM-SHA-256 one when it has one (the cheaper hash), else its
// SCRAM-SHA-512 one. One attempt costs well under a frame's worth of CPU per connection, but it is CPU on
// whichever thread calls it, so: one attempt per SaslAuthenticate (a client cannot batch guesses), the caller
// closes the connection after a failed authentication (as a Kafka broker does), the AttemptLimiter
// (attempt_limiter.h) delays then refuses addresses that keep failing before verify is reached, and a caller
// that must keep its loop latency flat can run verify_plain() on libuv's thread pool (it touches only its
// arguments and the immutable UserStore).
//
// Unknown users run the same PBKDF2 over the users file's decoy credential (same hash choice: SHA-256 when
// any user has a SHA-256 credential, iterations and salt length as most users), so the time to refuse does
// not tell whether the name exists; the message does not either (auth_result.h).
//
// Nothing throws. The password is never copied beyond PBKDF2's input and is not kept.
#include <string_view>
#include <variant>

#include "identity/auth_result.h"
#include "identity/users_file.h"

namespace kedge::identity {

inline constexpr std::size_t kMaxPlainFieldBytes = 255;
inline constexpr std::size_t kMaxPlainMessageBytes = 3 * kMaxPlainFieldBytes + 2;

// Views into the caller's message; valid while it is.
struct PlainMessage {
  std::string_view authzid;  // empty when absent
  std::string_view authcid;
  std::string_view password;
};

// Parses without checking credentials. Refusals: message_too_long, malformed_message (not exactly two NULs,
// an empty authcid or password, a field over 255 bytes), invalid_username_encoding (authcid not a valid user
// name), authzid_mismatch.
std::variant<PlainMessage, AuthErrc> parse_plain(std::string_view message);

// Checks `message.password` for `message.authcid` (see the cost note above). Authenticated carries the
// principal and an empty server_final; Refused carries unknown_user, wrong_password or no_resources and an
// empty server_final.
FinalStep verify_plain(const PlainMessage& message, const UserStore& users);

// parse_plain() then verify_plain().
FinalStep authenticate_plain(std::string_view message, const UserStore& users);

}  // namespace kedge::identity
