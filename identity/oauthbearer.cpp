#include "identity/oauthbearer.h"

#include <set>

#include "common/ascii.h"
#include "identity/principal.h"

namespace kedge::identity {
namespace {

constexpr char kKvsep = '\x01';

bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 7628 §3.1: value = *(VCHAR / SP / HTAB / CR / LF)
bool is_value_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return (byte >= 0x21 && byte <= 0x7e) || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool is_b64token(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (is_alpha(text[i]) || is_digit(text[i]) || text[i] == '-' || text[i] == '.' ||
                             text[i] == '_' || text[i] == '~' || text[i] == '+' || text[i] == '/')) {
    ++i;
  }
  if (i == 0) return false;
  while (i < text.size() && text[i] == '=') ++i;
  return i == text.size();
}

// RFC 5801 §4 saslname = 1*(UTF8-char-safe / "=2C" / "=3D"); UTF8-char-safe excludes NUL, "," and "=".
// (Kafka accepts ASCII only; UTF-8 names are allowed here and checked by principal_problem() later.)
std::optional<std::string> decode_saslname(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\0' || c == ',') return std::nullopt;
    if (c == '=') {
      const std::string_view escape = text.substr(i + 1, 2);
      if (escape == "2C") {
        out += ',';
      } else if (escape == "3D") {
        out += '=';
      } else {
        return std::nullopt;
      }
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

OAuthBearerParseResult parse(std::string_view message) {
  if (message.size() > kMaxOAuthBearerMessageBytes) {
    return OAuthBearerMalformed{"message of " + std::to_string(message.size()) + " bytes (limit " +
                                std::to_string(kMaxOAuthBearerMessageBytes) + ")"};
  }
  OAuthBearerInitialResponse response;
  // gs2-header
  if (message.starts_with("F,")) return OAuthBearerMalformed{"gs2 non-standard flag \"F\" is not supported"};
  if (message.starts_with("p=")) {
    return OAuthBearerMalformed{"channel binding requested (gs2 \"p=\"); OAUTHBEARER has none"};
  }
  if (!message.starts_with("n,") && !message.starts_with("y,")) {
    return OAuthBearerMalformed{"gs2 header does not start with \"n,\" or \"y,\""};
  }
  std::string_view rest = message.substr(2);
  const std::size_t authzid_end = rest.find(',');
  if (authzid_end == std::string_view::npos) return OAuthBearerMalformed{"gs2 header has no second \",\""};
  const std::string_view authzid = rest.substr(0, authzid_end);
  if (!authzid.empty()) {
    if (!authzid.starts_with("a=")) return OAuthBearerMalformed{"gs2 authzid does not start with \"a=\""};
    auto decoded = decode_saslname(authzid.substr(2));
    if (!decoded) return OAuthBearerMalformed{"gs2 authzid is not a saslname (RFC 5801 §4)"};
    response.authorization_id = std::move(*decoded);
  }
  rest.remove_prefix(authzid_end + 1);
  if (rest.empty() || rest.front() != kKvsep) return OAuthBearerMalformed{"no %x01 after the gs2 header"};
  rest.remove_prefix(1);

  // *kvpair kvsep, and nothing after.
  std::set<std::string_view> keys;
  bool have_auth = false;
  std::size_t pair_index = 0;
  while (true) {
    if (rest.empty()) return OAuthBearerMalformed{"message does not end with %x01 %x01"};
    if (rest.front() == kKvsep) {
      if (rest.size() != 1) return OAuthBearerMalformed{"bytes after the final %x01"};
      break;
    }
    ++pair_index;
    const std::size_t end = rest.find(kKvsep);
    if (end == std::string_view::npos) {
      return OAuthBearerMalformed{"kvpair " + std::to_string(pair_index) + " is not ended by %x01"};
    }
    const std::string_view pair = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    const std::size_t equals = pair.find('=');
    if (equals == std::string_view::npos) {
      return OAuthBearerMalformed{"kvpair " + std::to_string(pair_index) + " has no \"=\""};
    }
    const std::string_view key = pair.substr(0, equals);
    const std::string_view value = pair.substr(equals + 1);
    if (key.empty() || key.size() > kMaxOAuthBearerKeyBytes) {
      return OAuthBearerMalformed{"kvpair " + std::to_string(pair_index) + ": key is empty or longer than 64 bytes"};
    }
    for (const char c : key) {
      if (!is_alpha(c)) return OAuthBearerMalformed{"kvpair " + std::to_string(pair_index) + ": key is not 1*ALPHA"};
    }
    if (!keys.insert(key).second) {
      return OAuthBearerMalformed{"key \"" + std::string(key) + "\" appears twice"};
    }
    if (key == "auth") {
      have_auth = true;
      // "Bearer" 1*SP b64token (RFC 6750 §2.1; Kafka compares the scheme case-insensitively).
      const std::size_t space = value.find(' ');
      if (space == std::string_view::npos || !kedge::ascii::iequals(value.substr(0, space), "Bearer")) {
        return OAuthBearerMalformed{"auth is not \"Bearer <token>\""};
      }
      std::string_view token = value.substr(space);
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      if (!is_b64token(token)) return OAuthBearerMalformed{"auth: the bearer token is not a b64token"};
      response.token = std::string(token);
      continue;
    }
    if (value.size() > kMaxOAuthBearerValueBytes) {
      return OAuthBearerMalformed{"extension \"" + std::string(key) + "\": value longer than 1024 bytes"};
    }
    for (const char c : value) {
      if (!is_value_char(c)) {
        return OAuthBearerMalformed{"extension \"" + std::string(key) +
                                    "\": value holds a byte outside VCHAR/SP/HTAB/CR/LF"};
      }
    }
    if (response.extensions.size() == kMaxOAuthBearerExtensions) {
      return OAuthBearerMalformed{"more than 32 extensions"};
    }
    response.extensions.emplace_back(std::string(key), std::string(value));
  }
  if (!have_auth) return OAuthBearerMalformed{"no auth kvpair"};
  return response;
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

OAuthBearerParseResult parse_oauthbearer_initial_response(std::string_view message) noexcept {
  try {
    return parse(message);
  } catch (...) {  // std::bad_alloc only
    return OAuthBearerMalformed{};
  }
}

bool is_oauthbearer_error_acknowledgement(std::string_view message) noexcept {
  return message.size() == 1 && message[0] == kKvsep;
}

std::string oauthbearer_error_challenge(std::string_view status, std::optional<std::string_view> scope,
                                        std::optional<std::string_view> openid_configuration) {
  std::string out = "{\"status\":";
  append_json_string(out, status);
  if (scope) {
    out += ",\"scope\":";
    append_json_string(out, *scope);
  }
  if (openid_configuration) {
    out += ",\"openid-configuration\":";
    append_json_string(out, *openid_configuration);
  }
  out += '}';
  return out;
}

OAuthBearerServer::OAuthBearerServer(std::shared_ptr<const OAuthBearerSettings> settings) noexcept
    : settings_(std::move(settings)) {}

OAuthBearerServer::Step OAuthBearerServer::receive(std::string_view client_message, std::int64_t now) noexcept {
  try {
    return evaluate(client_message, now);
  } catch (...) {
    state_ = State::done;
    Step step;  // kind failed; the strings stay empty (no allocation after bad_alloc)
    return step;
  }
}

OAuthBearerServer::Step OAuthBearerServer::evaluate(std::string_view client_message, std::int64_t now) {
  Step step;
  step.kind = Step::Kind::failed;
  switch (state_) {
    case State::done: step.error_message = "OAUTHBEARER exchange already finished"; return step;

    case State::awaiting_error_acknowledgement:
      state_ = State::done;
      step.refusal = pending_refusal_;
      step.log_detail = pending_detail_;
      if (is_oauthbearer_error_acknowledgement(client_message)) {
        step.error_message = pending_error_message_;
      } else {
        step.error_message = "OAUTHBEARER client did not answer the error challenge with %x01 (RFC 7628 §3.2.3)";
      }
      return step;

    case State::awaiting_initial_response: break;
  }

  auto parsed = parse_oauthbearer_initial_response(client_message);
  if (auto* malformed = std::get_if<OAuthBearerMalformed>(&parsed)) {
    state_ = State::done;
    step.error_message = "Invalid OAUTHBEARER client first message: " + malformed->reason;
    step.log_detail = malformed->reason;
    return step;
  }
  const auto& response = std::get<OAuthBearerInitialResponse>(parsed);
  if (!settings_ || !settings_->keys) {
    state_ = State::done;
    step.error_message = "OAUTHBEARER is not configured";
    return step;
  }

  JwtResult verdict = verify_jwt(response.token, *settings_->keys, settings_->policy, now);
  if (auto* failure = std::get_if<JwtFailure>(&verdict)) {
    // RFC 7628 §3.2.2: the failure travels as a challenge; the client acknowledges with %x01 and only then
    // is the exchange failed (error 58).
    state_ = State::awaiting_error_acknowledgement;
    pending_refusal_ = failure->reason;
    pending_detail_ = std::move(failure->detail);
    pending_error_message_ = "OAUTHBEARER token refused: " + std::string(label(failure->reason));
    step.kind = Step::Kind::challenge;
    step.challenge = oauthbearer_error_challenge("invalid_token");
    step.refusal = pending_refusal_;
    step.log_detail = pending_detail_;
    return step;
  }
  auto& token = std::get<VerifiedJwt>(verdict);
  state_ = State::done;
  // Kafka (OAuthBearerSaslServer.process): an authzid, when sent, must equal the token's principal.
  if (!response.authorization_id.empty() && response.authorization_id != token.principal) {
    step.error_message =
        "Authentication failed: Client requested an authorization id that is different from the token's principal name";
    step.log_detail = "authzid \"" + printable_excerpt(response.authorization_id) + "\" is not the principal \"" +
                      printable_excerpt(token.principal) + "\"";
    return step;
  }
  step.kind = Step::Kind::authenticated;
  step.principal = std::move(token.principal);
  step.expires_at = token.expires_at;
  return step;
}

}  // namespace kedge::identity
