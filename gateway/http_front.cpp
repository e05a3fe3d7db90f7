#include "gateway/http_front.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

#include "common/ascii.h"
#include "common/base64.h"
#include "common/log.h"
#include "kafka_codec/api.h"
#include "kafka_codec/errors.h"
#include "records/records.h"
#include "web/frame_writer.h"
#include "web/handshake.h"
#include "web/json_command.h"

namespace kedge {

namespace {

namespace pubsub = web::pubsub;

// ErrorResp codes are Kafka's error codes (kafka_codec/errors.h), so a client
// reads one vocabulary whether Kafka or kedge refused: the broker's own code
// when it answered one, INVALID_REQUEST (42) for a command kedge cannot read,
// REQUEST_TIMED_OUT (7) or UNKNOWN_SERVER_ERROR (-1) when the cluster gave no answer.
constexpr std::int16_t kInvalidRequest = 42;
constexpr std::int16_t kUnknownServerError = -1;
constexpr std::string_view kClusterGone = "the virtual cluster is no longer served by this kedge";

std::string_view status_text(int status) {
  switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      out += fmt::format("\\u{:04x}", byte);
    } else {
      out += c;
    }
  }
  return out;
}

// RFC 6455 §4.2.2: base64(SHA-1(key + GUID)).
std::string websocket_accept(std::string_view key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input(key);
  input += kGuid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &digest_len, EVP_sha1(), nullptr) != 1) return {};
  unsigned char encoded[64];
  const int n = EVP_EncodeBlock(encoded, digest, static_cast<int>(digest_len));
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n));
}

std::int16_t failure_code(const upstream::PoolFailure& failure) {
  if (failure.kafka_error != 0) return failure.kafka_error;
  return kUnknownServerError;
}

// The records of a Fetch answer a client asked for from `from`: the consumer's
// records (control batches dropped) at or after `from` (a batch may start
// before the offset asked for; Kafka's consumers skip those records too).
bool records_from(std::span<const std::uint8_t> blob, std::int64_t from, std::size_t max_inflated,
                  std::vector<records::Record>& out, std::string& error) {
  records::DecodeLimits limits;
  limits.max_decompressed_bytes = max_inflated;
  records::DecodedRecords decoded = records::decode_records(blob, limits);
  if (decoded.errc != records::Errc::ok && decoded.batches.empty()) {
    error = fmt::format("the partition's records could not be read ({})", records::to_string(decoded.errc));
    return false;
  }
  for (records::Record& record : records::consumer_records(decoded.batches)) {
    if (record.offset >= from) out.push_back(std::move(record));
  }
  return true;
}

// Views of decoded records for the reply encoders (headers go to JSON only).
struct RecordViews {
  std::vector<pubsub::RecordView> records;
  std::vector<pubsub::HeaderView> headers;
};
RecordViews views_of(const std::vector<records::Record>& decoded) {
  RecordViews views;
  std::size_t header_count = 0;
  for (const auto& record : decoded) header_count += record.headers.size();
  views.headers.reserve(header_count);  // never reallocated below: the spans stay valid
  views.records.reserve(decoded.size());
  for (const auto& record : decoded) {
    pubsub::RecordView view;
    view.offset = record.offset;
    view.timestamp = record.timestamp;
    if (record.key) view.key = std::string_view(*record.key);
    if (record.value) view.value = std::string_view(*record.value);
    const std::size_t first = views.headers.size();
    for (const auto& header : record.headers) {
      views.headers.push_back({header.key, header.value ? std::optional<std::string_view>(*header.value)
                                                        : std::nullopt});
    }
    view.headers = std::span<const pubsub::HeaderView>(views.headers.data() + first, record.headers.size());
    views.records.push_back(view);
  }
  return views;
}

std::vector<std::uint8_t> frame_binary(const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> frame;
  web::append_binary(frame, payload);
  return frame;
}

std::vector<std::uint8_t> frame_text(const std::string& payload) {
  std::vector<std::uint8_t> frame;
  web::append_text(frame, payload);
  return frame;
}

}  // namespace

struct HttpFront::Subscription {
  std::int64_t sequence = 0;
  std::string topic;       // the client's name
  std::int32_t partition = 0;
  std::int64_t offset = 0;  // the next offset to deliver
  pubsub::PayloadEncoding encoding = pubsub::PayloadEncoding::utf8;
  bool polling = false;     // a Fetch is out
  bool held = false;        // its subscribe command has not been answered yet
  bool failed = false;
};

HttpFront::HttpFront(Host& host, Settings settings)
    : host_(host), settings_(std::move(settings)), alive_(std::make_shared<HttpFront*>(this)) {
  llhttp_settings_init(&parser_settings_);
  parser_settings_.on_url = &HttpFront::on_url;
  parser_settings_.on_header_field = &HttpFront::on_header_field;
  parser_settings_.on_header_value = &HttpFront::on_header_value;
  parser_settings_.on_headers_complete = &HttpFront::on_headers_complete;
  parser_settings_.on_body = &HttpFront::on_body;
  parser_settings_.on_message_complete = &HttpFront::on_message_complete;
  llhttp_init(&parser_, HTTP_REQUEST, &parser_settings_);
  parser_.data = this;
}

HttpFront::~HttpFront() {
  *alive_ = nullptr;
  settings_.stats->subscriptions_active -= subscriptions_.size();
  if (websocket_counted_) settings_.stats->websockets_active--;
}

void HttpFront::on_bytes(const std::uint8_t* data, std::size_t len) {
  switch (mode_) {
    case Mode::http:
      if (awaiting_answer_) {  // bytes already read when reading was paused
        pending_input_.append(reinterpret_cast<const char*>(data), len);
        return;
      }
      feed_http(data, len);
      return;
    case Mode::websocket:
      feed_websocket({data, len});
      return;
    case Mode::closing:
      return;
  }
}

// ------------------------------------------------------------------ HTTP

int HttpFront::on_url(llhttp_t* parser, const char* at, std::size_t length) {
  auto* self = static_cast<HttpFront*>(parser->data);
  self->header_bytes_ += length;
  if (self->header_bytes_ > kMaxHeaderBytes) return self->over_limit(Limit::headers);
  self->url_.append(at, length);
  return 0;
}

int HttpFront::on_header_field(llhttp_t* parser, const char* at, std::size_t length) {
  auto* self = static_cast<HttpFront*>(parser->data);
  self->header_bytes_ += length;
  if (self->header_bytes_ > kMaxHeaderBytes) return self->over_limit(Limit::headers);
  if (self->last_was_value_ || self->headers_.empty()) {
    if (self->headers_.size() == kMaxHeaderFields) return self->over_limit(Limit::headers);
    self->headers_.emplace_back();
  }
  self->headers_.back().name.append(at, length);
  self->last_was_value_ = false;
  return 0;
}

int HttpFront::on_header_value(llhttp_t* parser, const char* at, std::size_t length) {
  auto* self = static_cast<HttpFront*>(parser->data);
  self->header_bytes_ += length;
  if (self->header_bytes_ > kMaxHeaderBytes) return self->over_limit(Limit::headers);
  if (self->headers_.empty()) return -1;
  self->headers_.back().value.append(at, length);
  self->last_was_value_ = true;
  return 0;
}

int HttpFront::on_headers_complete(llhttp_t* parser) {
  (void)parser;
  return 0;
}

int HttpFront::on_body(llhttp_t* parser, const char* at, std::size_t length) {
  auto* self = static_cast<HttpFront*>(parser->data);
  if (self->body_.size() + length > self->settings_.config.max_message_bytes) return self->over_limit(Limit::body);
  self->body_.append(at, length);
  return 0;
}

int HttpFront::on_message_complete(llhttp_t* parser) {
  auto* self = static_cast<HttpFront*>(parser->data);
  self->requests_++;
  // Served after llhttp returns (feed_http): an upgrade hands the rest of the bytes to the WebSocket.
  return HPE_PAUSED;
}

void HttpFront::feed_http(const std::uint8_t* data, std::size_t len) {
  const char* at = reinterpret_cast<const char*>(data);
  const char* end = at + len;
  while (at < end && mode_ == Mode::http) {
    const llhttp_errno_t rc = llhttp_execute(&parser_, at, static_cast<std::size_t>(end - at));
    if (rc == HPE_OK) return;  // everything consumed, the request (if any) is incomplete
    if (rc == HPE_PAUSED || rc == HPE_PAUSED_UPGRADE) {
      const char* stop = llhttp_get_error_pos(&parser_);
      at = stop != nullptr ? stop : end;
      const bool is_upgrade = rc == HPE_PAUSED_UPGRADE || parser_.upgrade != 0;
      llhttp_resume(&parser_);
      if (is_upgrade) llhttp_resume_after_upgrade(&parser_);
      serve_request();
      url_.clear();
      headers_.clear();
      header_bytes_ = 0;
      body_.clear();
      last_was_value_ = false;
      if (mode_ == Mode::websocket && at < end) {
        feed_websocket({reinterpret_cast<const std::uint8_t*>(at), static_cast<std::size_t>(end - at)});
        return;
      }
      if (awaiting_answer_) {
        pending_input_.append(at, static_cast<std::size_t>(end - at));
        return;
      }
      continue;
    }
    // A malformed request, or a limit crossed in a callback (over_limit).
    if (limit_hit_ == Limit::body) {
      answer_error(413, 41300,
                   fmt::format("request bodies are limited to {} bytes (http.max_message_bytes)",
                               settings_.config.max_message_bytes),
                   true);
    } else if (limit_hit_ == Limit::headers) {
      answer_error(431, 43100,
                   fmt::format("request headers are limited to {} bytes and {} fields", kMaxHeaderBytes,
                               kMaxHeaderFields),
                   true);
    } else {
      answer_error(400, 40000, fmt::format("malformed HTTP request: {}", llhttp_get_error_reason(&parser_)), true);
    }
    log::info("conn {} from {}: malformed HTTP request ({}); answered and closing", settings_.connection_id,
              settings_.client_address, llhttp_errno_name(rc));
    return;
  }
}

void HttpFront::serve_request() {
  request_.method = parser_.method;
  request_.url = std::move(url_);
  request_.headers = std::move(headers_);
  request_.body = std::move(body_);
  log::debug("conn {}: HTTP {} {}", settings_.connection_id,
             llhttp_method_name(static_cast<llhttp_method_t>(request_.method)), request_.url);
  if (settings_.identity.passthrough) pass_credentials();
  if (!settings_.identity.required) {
    dispatch();
    return;
  }
  authenticate();
}

// Passthrough: a request's HTTP Basic credentials become the brokers' SASL
// (http.passthrough_mechanism); the brokers accept or refuse them. A request
// without credentials reads anonymously. A WebSocket keeps its upgrade's.
void HttpFront::pass_credentials() {
  std::optional<Host::Credentials> credentials;
  for (const Header& header : request_.headers) {
    if (!ascii::iequals(header.name, "authorization")) continue;
    const std::string_view value = header.value;
    const auto space = value.find(' ');
    if (space == std::string_view::npos || !ascii::iequals(value.substr(0, space), "basic")) continue;
    std::string decoded;
    if (!base64::decode(value.substr(space + 1), decoded)) continue;
    const auto colon = decoded.find(':');
    if (colon == std::string::npos || colon == 0) {
      OPENSSL_cleanse(decoded.data(), decoded.size());
      continue;
    }
    credentials.emplace();
    credentials->kind = Host::Credentials::Kind::basic;
    credentials->user = decoded.substr(0, colon);
    credentials->secret = decoded.substr(colon + 1);
    OPENSSL_cleanse(decoded.data(), decoded.size());
  }
  host_.http_pass_credentials(std::move(credentials));
}

namespace {
std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) return {};
  std::string hex;
  for (unsigned int i = 0; i < length; i++) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}
}  // namespace

// Kafka clients of this cluster authenticate with SASL; HTTP clients with the
// same credentials: HTTP Basic (RFC 7617) checked like SASL PLAIN against the
// users file, or a bearer token (RFC 6750) checked like OAUTHBEARER. A browser
// cannot set headers on a WebSocket, so the upgrade request may carry the
// token as ?access_token= instead (RFC 6750 §2.3). One check per distinct
// credential on a connection (its SHA-256 is remembered, never the secret).
void HttpFront::authenticate() {
  std::string_view authorization;
  for (const Header& header : request_.headers) {
    if (ascii::iequals(header.name, "authorization")) authorization = header.value;
  }
  std::string token_from_query;
  if (authorization.empty()) {
    const std::string_view url = request_.url;
    const auto q = url.find('?');
    if (q != std::string_view::npos) {
      std::string_view query = url.substr(q + 1);
      while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        if (pair.substr(0, 13) == "access_token=") token_from_query = "Bearer " + std::string(pair.substr(13));
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
      }
    }
    authorization = token_from_query;
  }
  std::string challenge;
  if (settings_.identity.basic) challenge += "WWW-Authenticate: Basic realm=\"kedge\", charset=\"UTF-8\"\r\n";
  if (settings_.identity.bearer) challenge += "WWW-Authenticate: Bearer realm=\"kedge\"\r\n";
  if (authorization.empty()) {
    answer_error(401, 40101,
                 fmt::format("virtual cluster {} needs credentials: {}", settings_.cluster_name,
                             settings_.identity.basic && settings_.identity.bearer ? "HTTP Basic or a bearer token"
                             : settings_.identity.basic                            ? "HTTP Basic"
                                                                                   : "a bearer token"),
                 false, challenge);
    return;
  }
  const std::string fingerprint = sha256_hex(authorization);
  if (!fingerprint.empty() && fingerprint == authenticated_fingerprint_) {
    dispatch();
    return;
  }
  Host::Credentials credentials;
  const auto space = authorization.find(' ');
  const std::string_view scheme = authorization.substr(0, space);
  std::string_view value = space == std::string_view::npos ? std::string_view() : authorization.substr(space + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (ascii::iequals(scheme, "basic") && settings_.identity.basic) {
    std::string decoded;
    const auto colon = [&]() -> std::size_t {
      if (!base64::decode(value, decoded)) return std::string::npos;
      return decoded.find(':');
    }();
    if (colon == std::string::npos) {
      answer_error(401, 40102, "malformed HTTP Basic credentials (base64 of user:password)", false, challenge);
      return;
    }
    credentials.kind = Host::Credentials::Kind::basic;
    credentials.user = decoded.substr(0, colon);
    credentials.secret = decoded.substr(colon + 1);
    OPENSSL_cleanse(decoded.data(), decoded.size());
  } else if (ascii::iequals(scheme, "bearer") && settings_.identity.bearer && !value.empty()) {
    credentials.kind = Host::Credentials::Kind::bearer;
    credentials.secret = std::string(value);
  } else {
    answer_error(401, 40103, fmt::format("unsupported credentials (scheme {})", scheme), false, challenge);
    return;
  }
  awaiting_answer_ = true;
  regulate();
  std::weak_ptr<HttpFront*> alive = alive_;
  host_.http_authenticate(std::move(credentials), [alive, fingerprint, challenge](std::optional<std::string> refusal) {
    auto self = alive.lock();
    if (!self || *self == nullptr) return;
    HttpFront& front = **self;
    if (refusal) {
      front.authenticated_fingerprint_.clear();
      front.answer_error(401, 40104, *refusal, false, challenge);
      return;
    }
    front.authenticated_fingerprint_ = fingerprint;
    front.awaiting_answer_ = false;
    front.dispatch();
    if (front.awaiting_answer_) return;  // a REST answer on its way releases what is pending
    if (front.mode_ == Mode::http) {
      front.release_pending();
    } else if (front.mode_ == Mode::websocket) {
      // Bytes that followed the upgrade request while it was being authenticated.
      front.regulate();
      std::string pending = std::move(front.pending_input_);
      front.pending_input_.clear();
      if (!pending.empty()) {
        front.feed_websocket({reinterpret_cast<const std::uint8_t*>(pending.data()), pending.size()});
      }
    }
  });
}

void HttpFront::dispatch() {
  const std::string_view method = llhttp_method_name(static_cast<llhttp_method_t>(request_.method));
  std::string_view path = request_.url;
  std::string_view query;
  if (const auto q = path.find('?'); q != std::string_view::npos) {
    query = path.substr(q + 1);
    path = path.substr(0, q);
  }
  if (path == settings_.config.websocket_path) {
    if (request_.method != HTTP_GET) {
      answer_error(405, 40500, fmt::format("{} accepts only GET with a WebSocket upgrade", path), false,
                   "Allow: GET\r\n");
      return;
    }
    upgrade();
    return;
  }
  request_content_type_.clear();
  request_accept_.clear();
  for (const Header& header : request_.headers) {
    if (ascii::iequals(header.name, "content-type")) request_content_type_ = header.value;
    if (ascii::iequals(header.name, "accept")) request_accept_ = header.value;
  }
  request_body_ = std::move(request_.body);
  if (serve_rest(method, path, query)) return;
  answer_error(404, 40400,
               fmt::format("no such endpoint: {} {} (the WebSocket endpoint is {}; REST: docs/http.md)", method, path,
                           settings_.config.websocket_path));
}

void HttpFront::upgrade() {
  std::vector<web::HeaderField> fields;
  fields.reserve(request_.headers.size());
  std::string_view origin;
  bool origin_seen = false;
  for (const Header& header : request_.headers) {
    fields.push_back({header.name, header.value});
    if (ascii::iequals(header.name, "origin")) {
      origin = header.value;
      origin_seen = true;
    }
  }
  const web::UpgradeCheck check = web::check_upgrade_request(fields);
  if (const auto* refused = std::get_if<web::UpgradeRefused>(&check)) {
    const int status = refused->http_status();
    answer_error(status, status * 100, fmt::format("WebSocket handshake refused: {}", refused->reason()), false,
                 status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "");
    return;
  }
  // RFC 6455 §10.2: a browser names the page's origin; only the configured ones may open the socket.
  const auto& origins = settings_.config.allowed_origins;
  if (!origins.empty() && origin_seen && std::find(origins.begin(), origins.end(), origin) == origins.end()) {
    answer_error(403, 40301, fmt::format("the origin {} may not open this WebSocket", origin));
    return;
  }
  const std::string accept = websocket_accept(std::get<web::UpgradeAccepted>(check).key);
  const std::string response = fmt::format(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: {}\r\n\r\n",
      accept);
  host_.http_send({reinterpret_cast<const std::uint8_t*>(response.data()), response.size()});
  mode_ = Mode::websocket;
  settings_.stats->responses_by_class[0]++;
  settings_.stats->websockets_opened++;
  settings_.stats->websockets_active++;
  websocket_counted_ = true;
  assembler_.emplace(settings_.config.max_message_bytes);
  log::debug("conn {} from {}: WebSocket open on {} for virtual cluster {}", settings_.connection_id,
             settings_.client_address, settings_.config.websocket_path, settings_.cluster_name);
}

void HttpFront::answer(int status, std::string_view content_type, std::string_view body, bool close,
                       std::string_view extra_headers) {
  const bool keep_alive = !close && llhttp_should_keep_alive(&parser_) != 0;
  if (status >= 100 && status < 600) settings_.stats->responses_by_class[static_cast<std::size_t>(status / 100 - 1)]++;
  const std::string head =
      fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}{}\r\n", status,
                  status_text(status), content_type, body.size(), extra_headers,
                  keep_alive ? "" : "Connection: close\r\n");
  std::string bytes = head;
  bytes.append(body);
  host_.http_send({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  if (!keep_alive) {
    mode_ = Mode::closing;
    host_.http_close(true);
    return;
  }
  if (awaiting_answer_) {
    awaiting_answer_ = false;
    release_pending();
  }
}

// The answer went out: the pipelined requests held meanwhile are served now.
void HttpFront::release_pending() {
  regulate();
  std::string pending = std::move(pending_input_);
  pending_input_.clear();
  if (!pending.empty()) feed_http(reinterpret_cast<const std::uint8_t*>(pending.data()), pending.size());
}

// The error shape of the Confluent REST Proxy v2 (apisix-pubsub.md): {"error_code": status*100+n, "message": ...}.
void HttpFront::answer_error(int status, int error_code, std::string_view message, bool close,
                             std::string_view extra_headers) {
  answer(status, "application/json",
         fmt::format("{{\"error_code\":{},\"message\":\"{}\"}}", error_code, json_escape(message)), close,
         extra_headers);
}

void HttpFront::drain() {
  if (mode_ == Mode::websocket) {
    close_websocket(static_cast<std::uint16_t>(web::CloseCode::going_away), "kedge is shutting down");
    return;
  }
  if (mode_ == Mode::http) {
    mode_ = Mode::closing;
    host_.http_close(true);
  }
}

// ------------------------------------------------------------- WebSocket

void HttpFront::feed_websocket(std::span<const std::uint8_t> bytes) {
  while (mode_ == Mode::websocket) {
    web::Event event = assembler_->feed(bytes);
    if (std::holds_alternative<web::NeedMore>(event)) return;
    if (const auto* message = std::get_if<web::DataMessage>(&event)) {
      messages_in_++;
      on_message(*message);
      continue;
    }
    if (const auto* ping = std::get_if<web::Ping>(&event)) {
      std::vector<std::uint8_t> frame;
      if (web::append_pong(frame, ping->payload)) send_frame(std::move(frame));
      continue;
    }
    if (std::holds_alternative<web::Pong>(event)) continue;
    if (const auto* closing = std::get_if<web::CloseReceived>(&event)) {
      // §5.5.1: answer a Close with a Close (the same code) and end the connection.
      std::vector<std::uint8_t> frame;
      if (!close_sent_) {
        if (!closing->code || !web::append_close(frame, *closing->code)) web::append_close_without_code(frame);
        close_sent_ = true;
        host_.http_send(frame);
      }
      mode_ = Mode::closing;
      host_.http_close(true);
      return;
    }
    if (const auto* violation = std::get_if<web::Violation>(&event)) {
      log::info("conn {} from {}: WebSocket protocol violation ({}); closing with {}", settings_.connection_id,
                settings_.client_address, violation->reason(), static_cast<int>(violation->close_code()));
      std::vector<std::uint8_t> frame;
      web::append_close(frame, *violation);
      close_sent_ = true;
      host_.http_send(frame);
      mode_ = Mode::closing;
      host_.http_close(true);
      return;
    }
  }
}

void HttpFront::close_websocket(std::uint16_t code, std::string_view reason) {
  if (mode_ != Mode::websocket) return;
  std::vector<std::uint8_t> frame;
  if (!web::append_close(frame, code, reason)) web::append_close_without_code(frame);
  close_sent_ = true;
  host_.http_send(frame);
  mode_ = Mode::closing;
  host_.http_close(true);
}

void HttpFront::send_frame(std::vector<std::uint8_t> frame) {
  if (mode_ != Mode::websocket) return;
  messages_out_++;
  host_.http_send(frame);
  regulate();
}

void HttpFront::on_message(const web::DataMessage& message) {
  const bool binary = message.kind == web::MessageKind::binary;
  std::variant<pubsub::Command, pubsub::CommandError> decoded =
      binary ? pubsub::decode_binary_command(message.payload) : pubsub::decode_json_command(message.text());
  if (const auto* error = std::get_if<pubsub::CommandError>(&decoded)) {
    settings_.stats->commands[static_cast<std::size_t>(WsCommand::invalid)]++;
    reply_error(error->sequence, binary, kInvalidRequest, error->message, WsCommand::invalid);
    return;
  }
  settings_.stats->commands[static_cast<std::size_t>(command_kind(std::get<pubsub::Command>(decoded).body))]++;
  execute(std::move(std::get<pubsub::Command>(decoded)), binary);
}

WsCommand HttpFront::command_kind(const pubsub::Body& body) {
  return std::visit(
      [](const auto& command) {
        using T = std::decay_t<decltype(command)>;
        if constexpr (std::is_same_v<T, pubsub::Ping>) return WsCommand::ping;
        if constexpr (std::is_same_v<T, pubsub::ListOffset>) return WsCommand::list_offset;
        if constexpr (std::is_same_v<T, pubsub::Fetch>) return WsCommand::fetch;
        if constexpr (std::is_same_v<T, pubsub::Subscribe>) return WsCommand::subscribe;
        if constexpr (std::is_same_v<T, pubsub::Unsubscribe>) return WsCommand::unsubscribe;
        if constexpr (std::is_same_v<T, pubsub::Produce>) return WsCommand::produce;
        return WsCommand::invalid;
      },
      body);
}

void HttpFront::reply_error(std::int64_t sequence, bool binary, std::int16_t code, std::string_view message,
                            WsCommand command) {
  settings_.stats->command_errors[static_cast<std::size_t>(command)]++;
  if (binary) {
    send_frame(frame_binary(pubsub::encode_binary_error(sequence, code, std::string(message))));
  } else {
    send_frame(frame_text(pubsub::encode_json_error(sequence, code, std::string(message))));
  }
}

void HttpFront::execute(pubsub::Command command, bool binary) {
  const std::int64_t sequence = command.sequence;
  std::visit(
      [&](auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, pubsub::Empty>) {
          reply_error(sequence, binary, kInvalidRequest, "empty command", WsCommand::invalid);
        } else if constexpr (std::is_same_v<T, pubsub::Ping>) {
          if (binary) {
            send_frame(frame_binary(pubsub::encode_binary_pong(sequence, body.state)));
          } else {
            send_frame(frame_text(pubsub::encode_json_pong(sequence, body.state)));
          }
        } else if constexpr (std::is_same_v<T, pubsub::ListOffset>) {
          if (auto refusal = host_.http_authorize(kafka::key_of(kafka::ApiKey::list_offsets), body.topic)) {
            reply_error(sequence, binary, refusal->kafka_error, refusal->message, WsCommand::list_offset);
            return;
          }
          upstream::LeaderPool* pool = host_.http_leader_pool();
          if (pool == nullptr) {
            reply_error(sequence, binary, kUnknownServerError, kClusterGone, WsCommand::list_offset);
            return;
          }
          commands_in_flight_++;
          regulate();
          std::weak_ptr<HttpFront*> alive = alive_;
          pool->list_offset(host_.http_backend_topic(body.topic), body.partition, body.timestamp,
                            [alive, sequence, binary](const upstream::PoolFailure* failure,
                                                      const kafka::ListOffsetsAnswer* answer) {
                              auto self = alive.lock();
                              if (!self || *self == nullptr) return;
                              HttpFront& front = **self;
                              front.command_done();
                              if (failure != nullptr) {
                                front.reply_error(sequence, binary, failure_code(*failure), failure->message, WsCommand::list_offset);
                                return;
                              }
                              if (binary) {
                                front.send_frame(
                                    frame_binary(pubsub::encode_binary_list_offset(sequence, answer->offset)));
                              } else {
                                front.send_frame(
                                    frame_text(pubsub::encode_json_list_offset(sequence, answer->offset)));
                              }
                            });
        } else if constexpr (std::is_same_v<T, pubsub::Fetch>) {
          if (auto refusal = host_.http_authorize(kafka::key_of(kafka::ApiKey::fetch), body.topic)) {
            reply_error(sequence, binary, refusal->kafka_error, refusal->message, WsCommand::fetch);
            return;
          }
          fetch_for(sequence, binary, command.encoding, body.topic, body.partition, body.offset);
        } else if constexpr (std::is_same_v<T, pubsub::Subscribe>) {
          if (binary) {
            reply_error(sequence, binary, kInvalidRequest, "subscribe is a JSON command", WsCommand::subscribe);
            return;
          }
          subscribe(sequence, std::move(body), command.encoding);
        } else if constexpr (std::is_same_v<T, pubsub::Unsubscribe>) {
          settings_.stats->subscriptions_active -= subscriptions_.size();
          subscriptions_.clear();
          send_frame(frame_text(pubsub::encode_json_unsubscribed(sequence)));
        } else if constexpr (std::is_same_v<T, pubsub::Produce>) {
          if (binary) {
            reply_error(sequence, binary, kInvalidRequest, "produce is a JSON command", WsCommand::produce);
            return;
          }
          ws_produce(sequence, std::move(body));
        }
      },
      command.body);
}

void HttpFront::fetch_for(std::int64_t sequence, bool binary, pubsub::PayloadEncoding encoding, std::string topic,
                          std::int32_t partition, std::int64_t offset) {
  upstream::LeaderPool* pool = host_.http_leader_pool();
  if (pool == nullptr) {
    reply_error(sequence, binary, kUnknownServerError, kClusterGone, WsCommand::fetch);
    return;
  }
  commands_in_flight_++;
  regulate();
  std::weak_ptr<HttpFront*> alive = alive_;
  const auto max_bytes = static_cast<std::int32_t>(settings_.config.fetch_max_bytes);
  pool->fetch(host_.http_backend_topic(topic), partition, offset, max_bytes, kPullFetchMaxWaitMs,
              [alive, sequence, binary, encoding, topic, partition, offset](
                  const upstream::PoolFailure* failure, const upstream::LeaderPool::Fetched* fetched) {
                auto self = alive.lock();
                if (!self || *self == nullptr) return;
                HttpFront& front = **self;
                front.command_done();
                if (failure != nullptr) {
                  front.reply_error(sequence, binary, failure_code(*failure), failure->message, WsCommand::fetch);
                  return;
                }
                std::vector<records::Record> records;
                std::string error;
                if (!records_from(fetched->answer.records, offset, front.settings_.config.max_message_bytes,
                                  records, error)) {
                  front.reply_error(sequence, binary, kUnknownServerError, error, WsCommand::fetch);
                  return;
                }
                front.settings_.stats->records_sent += records.size();
                const RecordViews views = views_of(records);
                if (binary) {
                  front.send_frame(frame_binary(pubsub::encode_binary_fetch(sequence, views.records)));
                } else {
                  front.send_frame(
                      frame_text(pubsub::encode_json_fetch(sequence, topic, partition, views.records, encoding)));
                }
              });
}

void HttpFront::command_done() {
  if (commands_in_flight_ > 0) commands_in_flight_--;
  regulate();
}

// ------------------------------------------------------------- subscribe

// One subscribe command answers once, with every partition it starts and the
// offset each starts at ("subscribed"), and only then streams: a client that
// produces after that reply finds every record it produced in the stream.
struct HttpFront::SubscribeReply {
  std::int64_t sequence = 0;
  std::size_t pending = 0;             // positions still unknown (a whole topic counts 1 until its Metadata)
  std::vector<std::uint64_t> started;  // subscription ids, in the order the reply lists them
  bool failed = false;                 // answered with an error: the started subscriptions were dropped
};

void HttpFront::subscribe(std::int64_t sequence, pubsub::Subscribe request, pubsub::PayloadEncoding encoding) {
  if (request.partitions.empty()) {
    reply_error(sequence, false, kInvalidRequest, "subscribe names no partition", WsCommand::subscribe);
    return;
  }
  for (const auto& start : request.partitions) {
    if (auto refusal = host_.http_authorize(kafka::key_of(kafka::ApiKey::fetch), start.topic)) {
      reply_error(sequence, false, refusal->kafka_error, refusal->message, WsCommand::subscribe);
      return;
    }
  }
  upstream::LeaderPool* pool = host_.http_leader_pool();
  if (pool == nullptr) {
    reply_error(sequence, false, kUnknownServerError, kClusterGone, WsCommand::subscribe);
    return;
  }
  if (subscriptions_.size() + request.partitions.size() > kMaxSubscriptions) {
    reply_error(sequence, false, kInvalidRequest,
                fmt::format("a WebSocket streams at most {} partitions ({} already)", kMaxSubscriptions,
                            subscriptions_.size()),
                WsCommand::subscribe);
    return;
  }
  auto reply = std::make_shared<SubscribeReply>();
  reply->sequence = sequence;
  reply->pending = request.partitions.size();
  for (auto& start : request.partitions) {
    if (start.partition >= 0) {
      start_subscription(reply, start.topic, start.partition, start.offset, encoding);
      continue;
    }
    // Every partition of the topic.
    std::weak_ptr<HttpFront*> alive = alive_;
    commands_in_flight_++;
    pool->topic_metadata(host_.http_backend_topic(start.topic),
                         [alive, reply, encoding, topic = start.topic, offset = start.offset](
                             const upstream::PoolFailure* failure, const kafka::TopicLeaders* leaders) {
                           auto self = alive.lock();
                           if (!self || *self == nullptr) return;
                           HttpFront& front = **self;
                           front.command_done();
                           if (failure != nullptr) {
                             front.subscribe_failed(reply, failure_code(*failure), failure->message);
                             return;
                           }
                           if (reply->failed) return;
                           if (leaders->partitions.empty()) {
                             front.subscribe_failed(reply, 3, fmt::format("topic {} has no partitions", topic));
                             return;
                           }
                           if (front.subscriptions_.size() + leaders->partitions.size() > kMaxSubscriptions) {
                             front.subscribe_failed(reply, kInvalidRequest,
                                                    fmt::format("a WebSocket streams at most {} partitions; topic {} "
                                                                "has {}",
                                                                kMaxSubscriptions, topic, leaders->partitions.size()));
                             return;
                           }
                           reply->pending += leaders->partitions.size() - 1;
                           for (const auto& partition : leaders->partitions) {
                             front.start_subscription(reply, topic, partition.partition, offset, encoding);
                           }
                         });
  }
}

void HttpFront::subscribe_failed(const std::shared_ptr<SubscribeReply>& reply, std::int16_t code,
                                 const std::string& message) {
  if (reply->failed) return;
  reply->failed = true;
  for (const std::uint64_t id : reply->started) {
    if (subscriptions_.erase(id) > 0) settings_.stats->subscriptions_active--;
  }
  reply->started.clear();
  reply_error(reply->sequence, false, code, message, WsCommand::subscribe);
}

// A position became known: once every one is, the one reply, then the streams.
void HttpFront::subscription_positioned(const std::shared_ptr<SubscribeReply>& reply) {
  if (reply->failed || --reply->pending > 0) return;
  std::vector<pubsub::SubscribedPartition> listed;
  for (const std::uint64_t id : reply->started) {
    auto it = subscriptions_.find(id);
    if (it == subscriptions_.end()) continue;
    listed.push_back({it->second->topic, it->second->partition, it->second->offset});
  }
  send_frame(frame_text(pubsub::encode_json_subscribed(reply->sequence, listed)));
  for (const std::uint64_t id : reply->started) {
    auto it = subscriptions_.find(id);
    if (it != subscriptions_.end()) it->second->held = false;
  }
  poll_all();
}

void HttpFront::start_subscription(const std::shared_ptr<SubscribeReply>& reply, std::string topic,
                                   std::int32_t partition, std::int64_t offset, pubsub::PayloadEncoding encoding) {
  if (reply->failed) return;
  auto subscription = std::make_unique<Subscription>();
  subscription->sequence = reply->sequence;
  subscription->topic = topic;
  subscription->partition = partition;
  subscription->encoding = encoding;
  subscription->held = true;
  const std::uint64_t id = next_subscription_++;
  reply->started.push_back(id);
  if (offset >= 0) {
    subscription->offset = offset;
    subscriptions_.emplace(id, std::move(subscription));
    settings_.stats->subscriptions_active++;
    subscription_positioned(reply);
    return;
  }
  // -1 latest, -2 earliest: the position first.
  subscriptions_.emplace(id, std::move(subscription));
  settings_.stats->subscriptions_active++;
  upstream::LeaderPool* pool = host_.http_leader_pool();
  if (pool == nullptr) {
    subscribe_failed(reply, kUnknownServerError, std::string(kClusterGone));
    return;
  }
  std::weak_ptr<HttpFront*> alive = alive_;
  pool->list_offset(
      host_.http_backend_topic(topic), partition, offset,
      [alive, id, reply](const upstream::PoolFailure* failure, const kafka::ListOffsetsAnswer* answer) {
        auto self = alive.lock();
        if (!self || *self == nullptr) return;
        HttpFront& front = **self;
        if (failure != nullptr) {
          front.subscribe_failed(reply, failure_code(*failure), failure->message);
          return;
        }
        auto it = front.subscriptions_.find(id);
        if (it == front.subscriptions_.end()) return;
        it->second->offset = answer->offset;
        front.subscription_positioned(reply);
      });
}

bool HttpFront::congested() const { return host_.http_queued_bytes() > kHighWatermarkBytes; }

// One long-poll Fetch per subscribed partition at a time, from the next
// offset not yet delivered; the offset advances only past records sent, so a
// retried or failed Fetch (a leader move) neither skips nor repeats a record.
void HttpFront::poll(std::uint64_t subscription_id) {
  auto it = subscriptions_.find(subscription_id);
  if (it == subscriptions_.end() || mode_ != Mode::websocket) return;
  Subscription& s = *it->second;
  if (s.held || s.polling || congested()) return;  // on_write_progress polls again
  if (polls_in_flight_ >= kMaxPollsInFlight) return;  // the next poll's end polls again
  upstream::LeaderPool* pool = host_.http_leader_pool();
  if (pool == nullptr) return;
  s.polling = true;
  polls_in_flight_++;
  last_polled_ = subscription_id;
  std::weak_ptr<HttpFront*> alive = alive_;
  pool->fetch(
      host_.http_backend_topic(s.topic), s.partition, s.offset, static_cast<std::int32_t>(settings_.config.fetch_max_bytes),
      static_cast<std::int32_t>(settings_.config.fetch_max_wait_ms),
      [alive, subscription_id](const upstream::PoolFailure* failure, const upstream::LeaderPool::Fetched* fetched) {
        auto self = alive.lock();
        if (!self || *self == nullptr) return;
        HttpFront& front = **self;
        front.polls_in_flight_--;
        auto found = front.subscriptions_.find(subscription_id);
        if (found == front.subscriptions_.end()) {
          front.poll_all();
          return;
        }
        Subscription& sub = *found->second;
        sub.polling = false;
        if (failure != nullptr) {
          // A Kafka refusal ends the subscription (OFFSET_OUT_OF_RANGE, an ACL); kedge's own
          // failures (the cluster unreachable within the request timeout) too: the client decides.
          front.reply_error(sub.sequence, false, failure_code(*failure), failure->message, WsCommand::subscribe);
          front.subscriptions_.erase(found);
          front.settings_.stats->subscriptions_active--;
          front.poll_all();
          return;
        }
        std::vector<records::Record> records;
        std::string error;
        if (!records_from(fetched->answer.records, sub.offset, front.settings_.config.max_message_bytes, records,
                          error)) {
          front.reply_error(sub.sequence, false, kUnknownServerError, error, WsCommand::subscribe);
          front.subscriptions_.erase(found);
          front.settings_.stats->subscriptions_active--;
          front.poll_all();
          return;
        }
        if (!records.empty()) {
          sub.offset = records.back().offset + 1;
          front.settings_.stats->records_sent += records.size();
          const RecordViews views = views_of(records);
          front.send_frame(frame_text(
              pubsub::encode_json_fetch(sub.sequence, sub.topic, sub.partition, views.records, sub.encoding)));
        } else if (fetched->answer.records.size() > 0) {
          // Only control records or records before the offset (a compacted or transactional log): step past them.
          records::DecodedRecords decoded = records::decode_records(fetched->answer.records);
          if (!decoded.batches.empty()) {
            const auto& last = decoded.batches.back().header;
            sub.offset = std::max(sub.offset, last.base_offset + last.last_offset_delta + 1);
          }
        }
        front.poll_all();  // the others waiting for a slot first, this one last (round robin)
      });
}

// Polls every subscription that may poll, in id order starting after the
// last one polled, until kMaxPollsInFlight are out.
void HttpFront::poll_all() {
  std::vector<std::uint64_t> ids;
  ids.reserve(subscriptions_.size());
  for (auto it = subscriptions_.upper_bound(last_polled_); it != subscriptions_.end(); ++it) ids.push_back(it->first);
  for (auto it = subscriptions_.begin(); it != subscriptions_.end() && it->first <= last_polled_; ++it) {
    ids.push_back(it->first);
  }
  for (const std::uint64_t id : ids) {
    if (polls_in_flight_ >= kMaxPollsInFlight || mode_ != Mode::websocket) return;
    poll(id);
  }
}

void HttpFront::on_write_progress() {
  regulate();
  if (!congested()) poll_all();
}

void HttpFront::regulate() {
  const bool pause = congested() || commands_in_flight_ >= kMaxCommandsInFlight || awaiting_answer_;
  if (pause != reading_paused_) {
    reading_paused_ = pause;
    host_.http_pause_reading(pause);
  }
}

}  // namespace kedge
