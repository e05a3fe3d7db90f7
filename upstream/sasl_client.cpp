#include "upstream/sasl_client.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <fmt/format.h>

#include "kafka_codec/api.h"
#include "kafka_codec/errors.h"
#include "kafka_codec/wire.h"

namespace kedge::sasl {

namespace wire = kafka::wire;

namespace {

constexpr std::int16_t kApiSaslHandshake = kafka::key_of(kafka::ApiKey::sasl_handshake);
constexpr std::int16_t kApiApiVersions = kafka::key_of(kafka::ApiKey::api_versions);
constexpr std::int16_t kApiSaslAuthenticate = kafka::key_of(kafka::ApiKey::sasl_authenticate);
constexpr std::int16_t kHandshakeVersion = 1;         // v1: SASL tokens travel in SaslAuthenticate (KIP-152)
constexpr std::int16_t kMaxAuthenticateVersion = 2;   // v2 is flexible (KIP-482)

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

// Printable text of a broker-supplied string for an error message.
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 512)) {
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  return out;
}

void put_nullable_string(std::vector<std::uint8_t>& out, std::string_view text) {
  wire::put_string(out, text.substr(0, 0x7fff), /*compact=*/false);
}

// The error code and array length that open an ApiVersions v0 and a
// SaslHandshake v1 response. The length is bounded by the bytes left, each
// element taking at least `min_element_bytes`.
bool read_error_and_count(wire::Reader& r, std::size_t min_element_bytes, std::int16_t& error,
                          std::int32_t& count) {
  return r.read_i16(error) && r.read_i32(count) && count >= 0 &&
         static_cast<std::size_t>(count) <= r.remaining() / min_element_bytes;
}

// NULLABLE_STRING / COMPACT_NULLABLE_STRING; null reads as empty.
bool read_string(wire::Reader& r, bool compact, std::string& out) {
  std::size_t length = 0;
  if (compact) {
    std::uint32_t n = 0;
    if (!r.read_uvarint(n)) return false;
    if (n == 0) {
      out.clear();
      return true;
    }
    length = n - 1;
  } else {
    std::int16_t n = 0;
    if (!r.read_i16(n)) return false;
    if (n < 0) {
      out.clear();
      return n == -1 || r.fail();
    }
    length = static_cast<std::size_t>(n);
  }
  if (length > r.remaining()) return r.fail();
  out.assign(r.view(r.pos(), length));
  return r.skip(length);
}

// BYTES / COMPACT_BYTES.
bool read_bytes(wire::Reader& r, bool compact, std::string& out) {
  std::size_t length = 0;
  if (compact) {
    std::uint32_t n = 0;
    if (!r.read_uvarint(n) || n == 0) return r.fail();
    length = n - 1;
  } else {
    std::int32_t n = 0;
    if (!r.read_i32(n) || n < 0) return r.fail();
    length = static_cast<std::size_t>(n);
  }
  if (length > r.remaining()) return r.fail();
  out.assign(r.view(r.pos(), length));
  return r.skip(length);
}

bool skip_tagged_fields(wire::Reader& r) {
  std::uint32_t count = 0;
  if (!r.read_uvarint(count)) return false;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t tag = 0, size = 0;
    if (!r.read_uvarint(tag) || !r.read_uvarint(size) || !r.skip(size)) return false;
  }
  return true;
}

}  // namespace

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

// ---------------------------------------------------------------------------

namespace {
std::string describe_error(std::int16_t code) {
  const std::string_view name = kafka::error_name(code);
  return name.empty() ? fmt::format("error {}", code) : fmt::format("error {} {}", code, name);
}
}  // namespace

SaslExchange::SaslExchange(const SaslCredentials& credentials, std::string client_id,
                           std::int32_t first_correlation_id, std::string nonce)
    : credentials_(credentials), client_id_(std::move(client_id)), next_correlation_id_(first_correlation_id) {
  if (credentials_.mechanism != SaslMechanism::plain) {
    scram_.emplace(credentials_.mechanism == SaslMechanism::scram_sha_256 ? ScramClient::Hash::sha256
                                                                         : ScramClient::Hash::sha512,
                   credentials_.username, credentials_.password, nonce.empty() ? random_nonce() : std::move(nonce));
  }
}

SaslExchange::Step SaslExchange::fail(std::string error) {
  Step step;
  step.kind = Step::Kind::failed;
  step.error = std::move(error);
  return step;
}

// Request header v1 (v2 for flexible versions, KIP-482): api_key, api_version,
// correlation_id, client_id as NULLABLE_STRING (never compact), [tagged fields].
std::vector<std::uint8_t> SaslExchange::request(std::int16_t api_key, std::int16_t version, bool flexible,
                                                const std::vector<std::uint8_t>& body) {
  std::vector<std::uint8_t> out;
  wire::put_i32(out, 0);  // size, patched below
  wire::put_i16(out, api_key);
  wire::put_i16(out, version);
  expected_correlation_id_ = next_correlation_id_++;
  wire::put_i32(out, expected_correlation_id_);
  put_nullable_string(out, client_id_);
  if (flexible) wire::put_uvarint(out, 0);
  out.insert(out.end(), body.begin(), body.end());
  const auto size = static_cast<std::uint32_t>(out.size() - 4);
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(size >> (24 - 8 * i));
  return out;
}

std::vector<std::uint8_t> SaslExchange::authenticate_request(std::string_view auth_bytes) {
  const bool flexible = authenticate_version_ >= 2;
  std::vector<std::uint8_t> body;
  if (flexible) {
    wire::put_uvarint(body, static_cast<std::uint32_t>(auth_bytes.size()) + 1);  // COMPACT_BYTES
  } else {
    wire::put_i32(body, static_cast<std::int32_t>(auth_bytes.size()));  // BYTES
  }
  wire::put_bytes(body, auth_bytes);
  if (flexible) wire::put_uvarint(body, 0);  // no tagged fields
  return request(kApiSaslAuthenticate, authenticate_version_, flexible, body);
}

std::vector<std::uint8_t> SaslExchange::start() {
  stage_ = Stage::api_versions;
  return request(kApiApiVersions, 0, false, {});  // v0: empty body; every broker answers it before SASL
}

SaslExchange::Step SaslExchange::on_response(std::span<const std::uint8_t> frame) {
  if (frame.size() < 8 || static_cast<std::size_t>(wire::get_i32(frame.data())) != frame.size() - 4) {
    return fail("malformed response frame during SASL authentication");
  }
  if (wire::get_i32(frame.data() + 4) != expected_correlation_id_) {
    return fail("response correlation id does not match during SASL authentication");
  }
  const std::span<const std::uint8_t> body = frame.subspan(8);
  switch (stage_) {
    case Stage::api_versions: return on_api_versions(body);
    case Stage::handshake: return on_handshake(body);
    case Stage::authenticate_first:
    case Stage::authenticate_final: return on_authenticate(body);
    case Stage::idle:
    case Stage::done: break;
  }
  return fail("unexpected response during SASL authentication");
}

SaslExchange::Step SaslExchange::on_api_versions(std::span<const std::uint8_t> body) {
  wire::Reader r(body);
  std::int16_t error = 0;
  std::int32_t count = 0;
  if (!read_error_and_count(r, 6, error, count)) {  // api key, min and max version
    return fail("malformed ApiVersions response");
  }
  if (error != 0) return fail("ApiVersions failed: " + describe_error(error));
  std::optional<std::pair<std::int16_t, std::int16_t>> handshake, authenticate;
  for (std::int32_t i = 0; i < count; ++i) {
    std::int16_t key = 0, min = 0, max = 0;
    r.read_i16(key);
    r.read_i16(min);
    r.read_i16(max);
    if (key == kApiSaslHandshake) handshake = {min, max};
    if (key == kApiSaslAuthenticate) authenticate = {min, max};
  }
  if (r.failed()) return fail("malformed ApiVersions response");
  if (!handshake || handshake->first > kHandshakeVersion || handshake->second < kHandshakeVersion) {
    return fail("the broker does not offer SaslHandshake v1 (KIP-152); kedge's discovery needs it for SASL");
  }
  if (!authenticate || authenticate->first > kMaxAuthenticateVersion || authenticate->second < 0) {
    return fail("the broker does not offer SaslAuthenticate v0..v2");
  }
  authenticate_version_ = std::min<std::int16_t>(authenticate->second, kMaxAuthenticateVersion);
  std::vector<std::uint8_t> handshake_body;
  wire::put_string(handshake_body, to_string(credentials_.mechanism), /*compact=*/false);
  stage_ = Stage::handshake;
  Step step;
  step.kind = Step::Kind::send;
  step.frame = request(kApiSaslHandshake, kHandshakeVersion, false, handshake_body);
  return step;
}

SaslExchange::Step SaslExchange::on_handshake(std::span<const std::uint8_t> body) {
  wire::Reader r(body);
  std::int16_t error = 0;
  std::int32_t count = 0;
  if (!read_error_and_count(r, 2, error, count)) {  // each mechanism at least its INT16 length
    return fail("malformed SaslHandshake response");
  }
  std::string enabled;
  for (std::int32_t i = 0; i < count; ++i) {
    std::string mechanism;
    if (!read_string(r, false, mechanism)) return fail("malformed SaslHandshake response");
    enabled += (enabled.empty() ? "" : ", ") + printable(mechanism);
  }
  if (error != 0) {
    return fail(fmt::format("SaslHandshake for {} failed: {} (the broker enables: {})",
                            to_string(credentials_.mechanism), describe_error(error),
                            enabled.empty() ? std::string("none") : enabled));
  }
  stage_ = Stage::authenticate_first;
  std::string token;
  if (scram_ && !scram_->has_nonce()) {
    return fail("cannot generate a SCRAM nonce (RAND_bytes failed)");
  }
  if (scram_) {
    token = scram_->client_first();
  } else {
    // RFC 4616 §2: [authzid] NUL authcid NUL passwd, with no authzid.
    token.push_back('\0');
    token += credentials_.username;
    token.push_back('\0');
    token += credentials_.password;
  }
  Step step;
  step.kind = Step::Kind::send;
  step.frame = authenticate_request(token);
  OPENSSL_cleanse(token.data(), token.size());
  return step;
}

SaslExchange::Step SaslExchange::on_authenticate(std::span<const std::uint8_t> body) {
  const bool flexible = authenticate_version_ >= 2;
  wire::Reader r(body);
  if (flexible && !skip_tagged_fields(r)) return fail("malformed SaslAuthenticate response");  // header v1
  std::int16_t error = 0;
  std::string message, auth_bytes;
  std::int64_t session_lifetime_ms = 0;
  if (!r.read_i16(error) || !read_string(r, flexible, message) || !read_bytes(r, flexible, auth_bytes) ||
      (authenticate_version_ >= 1 && !r.read_i64(session_lifetime_ms)) || (flexible && !skip_tagged_fields(r))) {
    return fail("malformed SaslAuthenticate response");
  }
  if (error != 0) {
    return fail("SASL authentication failed: " + (message.empty() ? describe_error(error) : printable(message)));
  }
  Step step;
  if (scram_ && stage_ == Stage::authenticate_first) {
    std::string why;
    auto final_message = scram_->client_final(auth_bytes, why);
    if (!final_message) return fail("SASL authentication failed: " + why);
    stage_ = Stage::authenticate_final;
    step.kind = Step::Kind::send;
    step.frame = authenticate_request(*final_message);
    return step;
  }
  if (scram_) {
    std::string why;
    if (!scram_->verify_server_final(auth_bytes, why)) return fail("SASL authentication failed: " + why);
  }
  stage_ = Stage::done;
  step.kind = Step::Kind::authenticated;
  return step;
}

}  // namespace kedge::sasl
