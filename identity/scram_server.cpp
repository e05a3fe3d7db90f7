// The SCRAM server conversation (grammar, checks and policy in scram_server.h).
#include "identity/scram_server.h"

#include <openssl/crypto.h>

#include <span>
#include <vector>

#include "common/ascii.h"

namespace kedge::identity {
namespace {

// The comma-separated items of a message. Empty items are kept (and refused by the callers).
std::vector<std::string_view> split_commas(std::string_view message) {
  std::vector<std::string_view> items;
  for (;;) {
    const std::size_t comma = message.find(',');
    items.push_back(message.substr(0, comma));
    if (comma == std::string_view::npos) return items;
    message.remove_prefix(comma + 1);
  }
}

bool has_prefix(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// One extension item, key "=" value (key 1*ALPHA, value non-empty); what it means for the conversation.
enum class Extension : std::uint8_t { ignored, malformed, mandatory, delegation_token };
Extension classify_extension(std::string_view item) {
  const std::size_t equals = item.find('=');
  if (equals == 0 || equals == std::string_view::npos || equals + 1 == item.size()) return Extension::malformed;
  const std::string_view key = item.substr(0, equals);
  for (const char c : key) {
    if (!is_alpha(c)) return Extension::malformed;
  }
  if (key == "m") return Extension::mandatory;
  // Kafka's ScramExtensions.tokenAuthenticated(): Boolean.parseBoolean, case-insensitive.
  if (key == "tokenauth" && ascii::iequals(item.substr(equals + 1), "true")) return Extension::delegation_token;
  for (const char c : item.substr(equals + 1)) {
    if (c == '\0') return Extension::malformed;  // value-char excludes NUL
  }
  return Extension::ignored;
}

// The first refusal among `items` read as extensions, if any.
std::optional<AuthErrc> check_extensions(std::span<const std::string_view> items) {
  for (const std::string_view item : items) {
    switch (classify_extension(item)) {
      case Extension::ignored: break;
      case Extension::malformed: return AuthErrc::malformed_message;
      case Extension::mandatory: return AuthErrc::mandatory_extension;
      case Extension::delegation_token: return AuthErrc::delegation_token_unsupported;
    }
  }
  return std::nullopt;
}

}  // namespace

ScramServer::ScramServer(scram::Hash hash, NoncePolicy policy, std::string server_nonce)
    : hash_(hash), policy_(policy), server_nonce_(std::move(server_nonce)) {}

Refused ScramServer::refuse(AuthErrc reason) {
  stage_ = Stage::done;
  Refused refused;
  refused.reason = reason;
  refused.server_final = "e=" + std::string(scram_error_value(reason));
  return refused;
}

FirstStep ScramServer::on_client_first(std::string_view message, const UserStore& users) {
  if (stage_ != Stage::expect_first) return refuse(AuthErrc::out_of_order);
  if (message.size() > kMaxMessageBytes) return refuse(AuthErrc::message_too_long);

  // gs2-header: flag "," [authzid] ","
  const std::size_t flag_end = message.find(',');
  if (flag_end == std::string_view::npos) return refuse(AuthErrc::malformed_message);
  const std::string_view flag = message.substr(0, flag_end);
  if (has_prefix(flag, "p=")) return refuse(AuthErrc::channel_binding_unsupported);
  if (flag != "n" && flag != "y") return refuse(AuthErrc::malformed_message);
  const std::size_t authzid_end = message.find(',', flag_end + 1);
  if (authzid_end == std::string_view::npos) return refuse(AuthErrc::malformed_message);
  const std::string_view authzid_field = message.substr(flag_end + 1, authzid_end - flag_end - 1);
  std::optional<std::string> authzid;
  if (!authzid_field.empty()) {
    if (!has_prefix(authzid_field, "a=")) return refuse(AuthErrc::malformed_message);
    authzid = scram::unescape_saslname(authzid_field.substr(2));
    if (!authzid) return refuse(AuthErrc::invalid_username_encoding);
  }
  const std::string_view gs2_header = message.substr(0, authzid_end + 1);
  const std::string_view bare = message.substr(authzid_end + 1);

  const std::vector<std::string_view> items = split_commas(bare);
  if (!items.empty() && has_prefix(items[0], "m=")) return refuse(AuthErrc::mandatory_extension);
  if (items.size() < 2 || !has_prefix(items[0], "n=") || !has_prefix(items[1], "r=")) {
    return refuse(AuthErrc::malformed_message);
  }
  if (const auto refusal = check_extensions(std::span(items).subspan(2))) return refuse(*refusal);
  std::optional<std::string> user = scram::unescape_saslname(items[0].substr(2));
  if (!user || !is_valid_user_name(*user)) return refuse(AuthErrc::invalid_username_encoding);
  if (authzid && *authzid != *user) return refuse(AuthErrc::authzid_mismatch);
  const std::string_view client_nonce = items[1].substr(2);
  if (!scram::is_printable_nonce(client_nonce) || client_nonce.size() > kMaxClientNonceBytes) {
    return refuse(AuthErrc::malformed_message);
  }

  if (server_nonce_.empty()) server_nonce_ = scram::random_nonce();
  if (!scram::is_printable_nonce(server_nonce_)) return refuse(AuthErrc::no_resources);

  // The decoy is derived for every name, known or not, so both paths do the same work before answering.
  std::optional<ScramCredential> decoy = users.decoy_credential(*user, hash_);
  if (!decoy) return refuse(AuthErrc::no_resources);
  const ScramCredential* stored = users.find(*user, hash_);
  known_user_ = stored != nullptr;
  credential_ = known_user_ ? *stored : std::move(*decoy);

  user_ = std::move(*user);
  gs2_header_ = std::string(gs2_header);
  client_first_bare_ = std::string(bare);
  client_nonce_ = std::string(client_nonce);
  combined_nonce_ = client_nonce_ + server_nonce_;
  server_first_ = "r=" + combined_nonce_ + ",s=" + scram::base64_encode(credential_.salt) +
                  ",i=" + std::to_string(credential_.iterations);
  stage_ = Stage::expect_final;
  return Challenge{server_first_};
}

FinalStep ScramServer::on_client_final(std::string_view message) {
  if (stage_ != Stage::expect_final) return refuse(AuthErrc::out_of_order);
  if (message.size() > kMaxMessageBytes) return refuse(AuthErrc::message_too_long);

  const std::vector<std::string_view> items = split_commas(message);
  if (items.size() < 3 || !has_prefix(items[0], "c=") || !has_prefix(items[1], "r=") ||
      !has_prefix(items.back(), "p=")) {
    return refuse(AuthErrc::malformed_message);
  }
  if (const auto refusal = check_extensions(std::span(items).subspan(2, items.size() - 3))) return refuse(*refusal);
  const std::string_view without_proof = message.substr(0, message.size() - items.back().size() - 1);

  const std::optional<std::string> channel_binding = scram::base64_decode(items[0].substr(2));
  if (!channel_binding) return refuse(AuthErrc::malformed_message);
  if (*channel_binding != gs2_header_) return refuse(AuthErrc::channel_binding_mismatch);

  const std::string_view nonce = items[1].substr(2);
  bool repeated_client_nonce = false;
  if (nonce != combined_nonce_) {
    repeated_client_nonce = policy_ == NoncePolicy::accept_repeated_client_nonce &&
                            nonce.size() == client_nonce_.size() + combined_nonce_.size() &&
                            has_prefix(nonce, client_nonce_) && nonce.substr(client_nonce_.size()) == combined_nonce_;
    if (!repeated_client_nonce) return refuse(AuthErrc::nonce_mismatch);
  }

  const std::optional<std::string> proof = scram::base64_decode(items.back().substr(2));
  if (!proof || proof->size() != scram::digest_size(hash_)) return refuse(AuthErrc::malformed_message);

  // The same steps for a known user and a decoy, on same-sized values; the verdict comes last.
  std::string auth_message = client_first_bare_;
  auth_message += ',';
  auth_message += server_first_;
  auth_message += ',';
  auth_message += without_proof;
  const std::optional<std::string> client_signature = scram::hmac(hash_, credential_.stored_key, auth_message);
  std::optional<std::string> client_key = client_signature ? scram::xor_bytes(*proof, *client_signature) : std::nullopt;
  const std::optional<std::string> computed_stored_key = client_key ? scram::digest(hash_, *client_key) : std::nullopt;
  const std::optional<std::string> server_signature = scram::hmac(hash_, credential_.server_key, auth_message);
  if (client_key) OPENSSL_cleanse(client_key->data(), client_key->size());
  if (!computed_stored_key || !server_signature) return refuse(AuthErrc::no_resources);
  const bool proof_matches = scram::equal_secrets(*computed_stored_key, credential_.stored_key);
  if (!known_user_) return refuse(AuthErrc::unknown_user);
  if (!proof_matches) return refuse(AuthErrc::wrong_password);

  stage_ = Stage::done;
  Authenticated authenticated;
  authenticated.principal = user_;
  authenticated.server_final = "v=" + scram::base64_encode(*server_signature);
  authenticated.repeated_client_nonce = repeated_client_nonce;
  return authenticated;
}

}  // namespace kedge::identity
