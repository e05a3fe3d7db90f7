#pragma once
// The users file: the accounts kedge itself authenticates when it terminates SASL (PLAIN, SCRAM-SHA-256,
// SCRAM-SHA-512). It stores only salted SCRAM credentials (RFC 5802 §3, RFC 7677), never a password and
// never anything a client could log in with: StoredKey = H(ClientKey) does not give ClientKey, and
// ServerKey only lets its holder pose as the server. (RFC 5802 §9: whoever holds StoredKey AND sees one
// successful exchange can recover ClientKey, so the file stays mode 0600 and off the network.)
//
// Format (version 1), written by `kedge users add|remove`, readable and diffable by hand:
//
//   {
//     "version": 1,
//     "unknown_user_secret": "<base64, 32 bytes>",
//     "users": {
//       "alice": {
//         "SCRAM-SHA-256": {"salt": "<base64>", "iterations": 4096,
//                           "stored_key": "<base64, 32 bytes>", "server_key": "<base64, 32 bytes>"},
//         "SCRAM-SHA-512": {"salt": "<base64>", "iterations": 4096,
//                           "stored_key": "<base64, 64 bytes>", "server_key": "<base64, 64 bytes>"}
//       }
//     }
//   }
//
//   version              1; any other value is refused (a later format is not guessed at).
//   unknown_user_secret  the key of the decoy salts answered for names that are not in the file (below).
//                        Kept in the file, not per process, so every kedge sharing the file and every restart
//                        answer the same decoy salt for the same name, as they do for a real user.
//   users                user name -> mechanism -> credential; at least one mechanism per user. Names are
//                        1..255 bytes of UTF-8 without control characters (RFC 4616 §2 bounds authcid at 255).
//   salt                 16..128 bytes (NIST SP 800-132 §5.1: at least 128 bits); `kedge users add` makes 32.
//   iterations           4096..16384 (scram::kMinIterations, kMaxIterations).
//   stored_key, server_key  exactly |H| bytes.
// Base64 is RFC 4648 with padding and canonical (scram::base64_decode). Loading is strict: unknown keys,
// duplicate keys, wrong JSON types and out-of-range values are errors naming their JSON path.
//
// Unknown users (RFC 5802 §9): a SCRAM server that refused an unknown name at client-first, or answered it
// with a random salt, would tell an attacker which names exist. decoy_credential() derives, for any name, a
// salt from HMAC(unknown_user_secret, mechanism, name) (stable, like a real user's) with the salt length and
// iteration count most users of that mechanism have, plus keys no password matches; the conversation then
// fails at client-final exactly as a wrong password does.
//
// Threading: a UserStore is an immutable value once loaded; share it between worker loops as
// std::shared_ptr<const UserStore> and swap the pointer on reload. Loading and saving throw FileError
// (load time and the CLI only); lookups never throw.
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "identity/scram.h"
#include "common/strict_json.h"

namespace kedge::identity {

inline constexpr std::size_t kMaxUserNameBytes = 255;
inline constexpr std::size_t kMinSaltBytes = 16;
inline constexpr std::size_t kMaxSaltBytes = 128;
inline constexpr std::size_t kNewSaltBytes = 32;
inline constexpr std::size_t kUnknownUserSecretBytes = 32;
// A users file larger than this is refused before parsing (about 8000 users with both mechanisms).
inline constexpr std::size_t kMaxUsersFileBytes = 8 * 1024 * 1024;

struct ScramCredential {
  std::string salt;  // raw bytes
  std::uint32_t iterations = scram::kMinIterations;
  std::string stored_key;  // H(ClientKey), raw
  std::string server_key;  // HMAC(SaltedPassword, "Server Key"), raw
  bool operator==(const ScramCredential&) const = default;
};

// One user's credentials, indexed by scram::Hash.
struct UserCredentials {
  std::array<std::optional<ScramCredential>, 2> by_hash;
  const std::optional<ScramCredential>& operator[](scram::Hash hash) const { return by_hash[index(hash)]; }
  std::optional<ScramCredential>& operator[](scram::Hash hash) { return by_hash[index(hash)]; }
  bool empty() const { return !by_hash[0] && !by_hash[1]; }
  bool operator==(const UserCredentials&) const = default;
  static constexpr std::size_t index(scram::Hash hash) { return hash == scram::Hash::sha256 ? 0 : 1; }
};

// A valid user name: 1..255 bytes, UTF-8, no control characters (U+0000..U+001F, U+007F).
bool is_valid_user_name(std::string_view name);

// A new credential for `password` with a fresh random salt (kNewSaltBytes). nullopt when RAND_bytes or a
// digest failed, or `iterations` is outside kMinIterations..kMaxIterations.
std::optional<ScramCredential> make_scram_credential(scram::Hash hash, std::string_view password,
                                                     std::uint32_t iterations);

class UserStore {
 public:
  // An empty store with a fresh unknown_user_secret (RAND_bytes). Throws FileError if RAND_bytes fails.
  static UserStore create();
  // Parses the users-file text; `origin` names it in errors. Throws FileError.
  static UserStore parse(std::string_view text, std::string_view origin);
  // Reads and parses `file` (at most kMaxUsersFileBytes). Throws FileError.
  static UserStore load(const std::filesystem::path& file);

  // The file text (stable key order, two-space indent, trailing newline).
  std::string serialize() const;
  // Writes atomically: a temporary file in the same folder with mode 0600, fsync, rename over `file`, fsync
  // of the folder. A crash leaves either the old or the new file, never a mix. Throws FileError. Not a lock:
  // two writers at once each write a whole file, and the later rename wins.
  void save(const std::filesystem::path& file) const;

  // The user's credential for `hash`, or nullptr (unknown user, or the user lacks that mechanism).
  const ScramCredential* find(std::string_view name, scram::Hash hash) const;
  // What the SCRAM server answers for a name without a credential for `hash` (see the header comment).
  // Deterministic in (unknown_user_secret, hash, name). nullopt only if a digest failed.
  std::optional<ScramCredential> decoy_credential(std::string_view name, scram::Hash hash) const;

  // Whether any user has a credential for `hash` (PLAIN picks its decoy's hash with it, plain.h).
  bool any_user_has(scram::Hash hash) const { return decoy_shapes_[UserCredentials::index(hash)].users > 0; }

  const std::map<std::string, UserCredentials, std::less<>>& users() const { return users_; }
  // Adds or replaces `name` (must be valid and `credentials` non-empty; returns false otherwise).
  bool set_user(const std::string& name, UserCredentials credentials);
  // False when there is no such user.
  bool remove_user(std::string_view name);

  bool operator==(const UserStore& other) const {
    return unknown_user_secret_ == other.unknown_user_secret_ && users_ == other.users_;
  }

 private:
  UserStore() = default;
  void recompute_decoy_shapes();

  std::string unknown_user_secret_;
  std::map<std::string, UserCredentials, std::less<>> users_;
  // Per hash: the (iterations, salt length) most users have (ties: the larger), else (4096, kNewSaltBytes).
  struct DecoyShape {
    std::uint32_t iterations = scram::kMinIterations;
    std::size_t salt_bytes = kNewSaltBytes;
    std::size_t users = 0;  // how many users have a credential for this hash
  };
  std::array<DecoyShape, 2> decoy_shapes_{};
};

}  // namespace kedge::identity
