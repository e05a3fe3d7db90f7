#include "upstream/sasl_client.h"

#include <fmt/format.h>

#include <vector>

#include "common/ascii.h"

namespace kedge::sasl {

namespace {

// RFC 5802 §7 attribute-val-pairs of a server message: "k=v" separated by ','.
struct Attribute {
  char name;
  std::string_view value;
};
std::optional<std::vector<Attribute>> split_attributes(std::string_view message) {
  std::vector<Attribute> out;
  while (!message.empty()) {
    const std::size_t comma = message.find(',');
    const std::string_view item = message.substr(0, comma);
    if (item.size() < 2 || item[1] != '=') return std::nullopt;
    out.push_back({item[0], item.substr(2)});
    if (comma == std::string_view::npos) break;
    message.remove_prefix(comma + 1);
    if (message.empty()) return std::nullopt;  // trailing comma
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// ScramClient (RFC 5802 §3; the derivations are identity/scram.h's):
//   AuthMessage     := client-first-bare "," server-first "," client-final-without-proof
//   ClientProof     := ClientKey XOR HMAC(StoredKey, AuthMessage)
//   ServerSignature := HMAC(ServerKey, AuthMessage)

ScramClient::ScramClient(Hash hash, std::string username, std::string password, std::string client_nonce)
    : hash_(hash), username_(std::move(username)), password_(std::move(password)),
      client_nonce_(std::move(client_nonce)) {}

std::string ScramClient::client_first() const {
  return "n,,n=" + scram::escape_saslname(username_) + ",r=" + client_nonce_;
}

std::optional<std::string> ScramClient::client_final(std::string_view server_first, std::string& error) {
  const auto attributes = split_attributes(server_first);
  if (!attributes || attributes->size() < 3) {
    error = "malformed SCRAM server-first message";
    return std::nullopt;
  }
  const Attribute& first = (*attributes)[0];
  if (first.name == 'm') {
    error = "the SCRAM server requires an extension kedge does not support";
    return std::nullopt;
  }
  if (first.name != 'r' || (*attributes)[1].name != 's' || (*attributes)[2].name != 'i') {
    error = "malformed SCRAM server-first message (expected r=, s=, i=)";
    return std::nullopt;
  }
  const std::string_view nonce = first.value;
  // §5.1: the server's nonce starts with ours and adds its own part.
  if (nonce.size() <= client_nonce_.size() || nonce.substr(0, client_nonce_.size()) != client_nonce_) {
    error = "the SCRAM server nonce does not extend kedge's nonce";
    return std::nullopt;
  }
  const auto salt = scram::base64_decode((*attributes)[1].value);
  if (!salt || salt->empty()) {
    error = "the SCRAM salt is not base64";
    return std::nullopt;
  }
  const std::string_view iteration_text = (*attributes)[2].value;
  std::uint64_t iterations = 0;
  for (const char c : iteration_text) {
    if (c < '0' || c > '9' || iterations > scram::kMaxIterations) {
      iterations = scram::kMaxIterations + 1;
      break;
    }
    iterations = iterations * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (iteration_text.empty() || iterations < scram::kMinIterations || iterations > scram::kMaxIterations) {
    error = fmt::format("the SCRAM iteration count \"{}\" is not in {}..{}", ascii::printable(iteration_text),
                        scram::kMinIterations, scram::kMaxIterations);
    return std::nullopt;
  }

  const std::optional<scram::Keys> keys =
      scram::keys_from_password(hash_, password_, *salt, static_cast<std::uint32_t>(iterations));
  const std::string without_proof = "c=biws,r=" + std::string(nonce);  // biws = base64("n,,")
  const std::string client_first_bare = client_first().substr(3);      // without the "n,," GS2 header
  const std::string auth_message =
      client_first_bare + "," + std::string(server_first) + "," + without_proof;
  const std::optional<std::string> client_signature =
      keys ? scram::hmac(hash_, keys->stored_key, auth_message) : std::nullopt;
  const std::optional<std::string> proof =
      client_signature ? scram::xor_bytes(keys->client_key, *client_signature) : std::nullopt;
  const std::optional<std::string> server_signature =
      proof ? scram::hmac(hash_, keys->server_key, auth_message) : std::nullopt;
  if (!server_signature) {
    error = "computing the SCRAM proof failed (OpenSSL)";
    return std::nullopt;
  }
  expected_server_signature_ = *server_signature;
  return without_proof + ",p=" + scram::base64_encode(*proof);
}

bool ScramClient::verify_server_final(std::string_view server_final, std::string& error) const {
  const auto attributes = split_attributes(server_final);
  if (!attributes || attributes->empty()) {
    error = "malformed SCRAM server-final message";
    return false;
  }
  const Attribute& first = attributes->front();
  if (first.name == 'e') {
    error = "the SCRAM server reports " + ascii::printable(first.value);
    return false;
  }
  const auto signature = first.name == 'v' ? scram::base64_decode(first.value) : std::nullopt;
  if (!signature || expected_server_signature_.empty()) {
    error = "malformed SCRAM server-final message";
    return false;
  }
  if (!scram::equal_secrets(*signature, expected_server_signature_)) {
    error = "the broker's SCRAM ServerSignature does not verify (it does not know this user's credentials)";
    return false;
  }
  return true;
}

}  // namespace kedge::sasl
