#include "upstream/sasl_client.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <vector>

#include <fmt/format.h>

namespace kedge::sasl {

namespace {

const EVP_MD* digest_of(ScramClient::Hash hash) {
  return hash == ScramClient::Hash::sha256 ? EVP_sha256() : EVP_sha512();
}

std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), out, &len) == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) return {};
  return std::string(reinterpret_cast<const char*>(out), len);
}

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

std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 512)) {
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  if (text.empty()) return std::string();
  std::string out(text.size() / 4 * 3, '\0');
  // EVP_DecodeBlock skips leading/trailing blanks and counts '=' as zero bytes:
  // refuse blanks ourselves and drop the padding bytes from its length.
  for (const char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                    c == '/' || c == '=';
    if (!ok) return std::nullopt;
  }
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t padding = 0;
  if (text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  if (text.substr(0, text.size() - padding).find('=') != std::string_view::npos) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

std::string random_nonce() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
  return base64_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

std::string escape_username(std::string_view username) {
  std::string out;
  for (const char c : username) {
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

// ---------------------------------------------------------------------------
// ScramClient (RFC 5802 §3):
//   SaltedPassword  := Hi(password, salt, i)            (PBKDF2 with HMAC-H)
//   ClientKey       := HMAC(SaltedPassword, "Client Key")
//   StoredKey       := H(ClientKey)
//   AuthMessage     := client-first-bare "," server-first "," client-final-without-proof
//   ClientProof     := ClientKey XOR HMAC(StoredKey, AuthMessage)
//   ServerSignature := HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage)

ScramClient::ScramClient(Hash hash, std::string username, std::string password, std::string client_nonce)
    : hash_(hash), username_(std::move(username)), password_(std::move(password)),
      client_nonce_(std::move(client_nonce)) {}

std::string ScramClient::client_first() const {
  return "n,,n=" + escape_username(username_) + ",r=" + client_nonce_;
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
  const auto salt = base64_decode((*attributes)[1].value);
  if (!salt || salt->empty()) {
    error = "the SCRAM salt is not base64";
    return std::nullopt;
  }
  const std::string_view iteration_text = (*attributes)[2].value;
  std::uint64_t iterations = 0;
  for (const char c : iteration_text) {
    if (c < '0' || c > '9' || iterations > kMaxIterations) {
      iterations = kMaxIterations + 1;
      break;
    }
    iterations = iterations * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (iteration_text.empty() || iterations == 0 || iterations > kMaxIterations) {
    error = fmt::format("the SCRAM iteration count \"{}\" is not in 1..{}", printable(iteration_text), kMaxIterations);
    return std::nullopt;
  }

  const EVP_MD* md = digest_of(hash_);
  const int hash_len = EVP_MD_size(md);
  std::string salted(static_cast<std::size_t>(hash_len), '\0');
  if (PKCS5_PBKDF2_HMAC(password_.data(), static_cast<int>(password_.size()),
                        reinterpret_cast<const unsigned char*>(salt->data()), static_cast<int>(salt->size()),
                        static_cast<int>(iterations), md, hash_len,
                        reinterpret_cast<unsigned char*>(salted.data())) != 1) {
    error = "PBKDF2 failed";
    return std::nullopt;
  }
  const std::string client_key = hmac(md, salted, "Client Key");
  const std::string stored_key = digest(md, client_key);
  const std::string without_proof = "c=biws,r=" + std::string(nonce);  // biws = base64("n,,")
  const std::string client_first_bare = client_first().substr(3);      // without the "n,," GS2 header
  const std::string auth_message =
      client_first_bare + "," + std::string(server_first) + "," + without_proof;
  const std::string client_signature = hmac(md, stored_key, auth_message);
  if (client_key.empty() || stored_key.empty() || client_signature.size() != client_key.size()) {
    error = "HMAC failed";
    return std::nullopt;
  }
  std::string proof = client_key;
  for (std::size_t i = 0; i < proof.size(); ++i) proof[i] = static_cast<char>(proof[i] ^ client_signature[i]);
  expected_server_signature_ = hmac(md, hmac(md, salted, "Server Key"), auth_message);
  OPENSSL_cleanse(salted.data(), salted.size());
  return without_proof + ",p=" + base64_encode(proof);
}

bool ScramClient::verify_server_final(std::string_view server_final, std::string& error) const {
  const auto attributes = split_attributes(server_final);
  if (!attributes || attributes->empty()) {
    error = "malformed SCRAM server-final message";
    return false;
  }
  const Attribute& first = attributes->front();
  if (first.name == 'e') {
    error = "the SCRAM server reports " + printable(first.value);
    return false;
  }
  const auto signature = first.name == 'v' ? base64_decode(first.value) : std::nullopt;
  if (!signature || expected_server_signature_.empty()) {
    error = "malformed SCRAM server-final message";
    return false;
  }
  if (signature->size() != expected_server_signature_.size() ||
      CRYPTO_memcmp(signature->data(), expected_server_signature_.data(), signature->size()) != 0) {
    error = "the broker's SCRAM ServerSignature does not verify (it does not know this user's credentials)";
    return false;
  }
  return true;
}

}  // namespace kedge::sasl
