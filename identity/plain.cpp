// SASL PLAIN against stored SCRAM credentials (contracts in plain.h).
#include "identity/plain.h"

namespace kedge::identity {

std::variant<PlainMessage, AuthErrc> parse_plain(std::string_view message) {
  if (message.size() > kMaxPlainMessageBytes) return AuthErrc::message_too_long;
  const std::size_t first_nul = message.find('\0');
  if (first_nul == std::string_view::npos) return AuthErrc::malformed_message;
  const std::size_t second_nul = message.find('\0', first_nul + 1);
  if (second_nul == std::string_view::npos) return AuthErrc::malformed_message;
  PlainMessage parsed;
  parsed.authzid = message.substr(0, first_nul);
  parsed.authcid = message.substr(first_nul + 1, second_nul - first_nul - 1);
  parsed.password = message.substr(second_nul + 1);
  if (parsed.password.find('\0') != std::string_view::npos) return AuthErrc::malformed_message;
  if (parsed.authcid.empty() || parsed.password.empty() || parsed.authzid.size() > kMaxPlainFieldBytes ||
      parsed.authcid.size() > kMaxPlainFieldBytes || parsed.password.size() > kMaxPlainFieldBytes) {
    return AuthErrc::malformed_message;
  }
  if (!is_valid_user_name(parsed.authcid)) return AuthErrc::invalid_username_encoding;
  if (!parsed.authzid.empty() && parsed.authzid != parsed.authcid) return AuthErrc::authzid_mismatch;
  return parsed;
}

FinalStep verify_plain(const PlainMessage& message, const UserStore& users) {
  // The user's SHA-256 credential if any, else SHA-512; for an unknown name, the decoy of the hash most
  // likely to be used for a real one. Both paths then run one PBKDF2 and one comparison.
  const ScramCredential* stored = users.find(message.authcid, scram::Hash::sha256);
  scram::Hash hash = scram::Hash::sha256;
  if (stored == nullptr) {
    if (const ScramCredential* sha512 = users.find(message.authcid, scram::Hash::sha512)) {
      stored = sha512;
      hash = scram::Hash::sha512;
    }
  }
  // The decoy is derived for every name (a few HMACs), so a known name skips no work an unknown one does.
  const scram::Hash decoy_hash =
      users.any_user_has(scram::Hash::sha256) || !users.any_user_has(scram::Hash::sha512) ? scram::Hash::sha256
                                                                                         : scram::Hash::sha512;
  std::optional<ScramCredential> decoy = users.decoy_credential(message.authcid, decoy_hash);
  if (!decoy) return Refused{AuthErrc::no_resources, {}};
  if (stored == nullptr) hash = decoy_hash;
  const ScramCredential& credential = stored != nullptr ? *stored : *decoy;
  const std::optional<scram::Keys> keys =
      scram::keys_from_password(hash, message.password, credential.salt, credential.iterations);
  if (!keys) return Refused{AuthErrc::no_resources, {}};
  const bool matches = scram::equal_secrets(keys->stored_key, credential.stored_key);
  if (stored == nullptr) return Refused{AuthErrc::unknown_user, {}};
  if (!matches) return Refused{AuthErrc::wrong_password, {}};
  Authenticated authenticated;
  authenticated.principal = std::string(message.authcid);
  return authenticated;
}

FinalStep authenticate_plain(std::string_view message, const UserStore& users) {
  const auto parsed = parse_plain(message);
  if (const AuthErrc* refusal = std::get_if<AuthErrc>(&parsed)) return Refused{*refusal, {}};
  return verify_plain(std::get<PlainMessage>(parsed), users);
}

}  // namespace kedge::identity
