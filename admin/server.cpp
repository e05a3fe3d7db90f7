#include "admin/server.h"

#include <llhttp.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/ascii.h"
#include "common/log.h"
#include "upstream/resolve.h"

namespace kedge {
namespace {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 422: return "Unprocessable Content";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
  }
  return "Error";
}

// Constant-time comparison (RFC 6750 §5.3 asks to protect bearer tokens):
// both sides are hashed first, so neither the content nor the length of the
// configured token leaks through timing.
bool token_matches(std::string_view presented, std::string_view expected) {
  unsigned char a[SHA256_DIGEST_LENGTH];
  unsigned char b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), b);
  return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

AdminResponse text(int status, std::string body) {
  AdminResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

std::string serialize(const AdminResponse& response, bool keep_alive) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n",
                                response.status, reason_phrase(response.status), response.content_type,
                                response.body.size());
  if (!response.allow.empty()) out += fmt::format("Allow: {}\r\n", response.allow);
  if (response.status == 401) out += "WWW-Authenticate: Bearer realm=\"kedge-admin\"\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  out += response.body;
  return out;
}

}  // namespace

AdminResponse route_admin_request(std::string_view method, std::string_view target, std::string_view authorization,
                                  std::string_view token, AdminView& view) {
  const std::string_view path = target.substr(0, target.find('?'));
  const bool known = path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/v1/state" ||
                     path == "/v1/reload";
  if (!known) return text(404, "not found\n");
  if (path == "/v1/reload") {
    if (method != "POST") {
      AdminResponse response = text(405, "method not allowed\n");
      response.allow = "POST";
      return response;
    }
  } else if (method != "GET" && method != "HEAD") {
    AdminResponse response = text(405, "method not allowed\n");
    response.allow = "GET, HEAD";
    return response;
  }
  // Probes (kubelet, load balancers) rarely carry secrets; liveness and
  // readiness reveal nothing beyond a reason line.
  if (path == "/healthz") return text(200, "ok\n");
  if (path == "/readyz") {
    const Readiness readiness = evaluate_readiness(view.snapshot());
    return text(readiness.ready ? 200 : 503, readiness.reason + "\n");
  }
  if (!token.empty()) {
    constexpr std::string_view kScheme = "Bearer ";
    const bool bearer = authorization.size() > kScheme.size() &&
                        ascii::iequals(authorization.substr(0, kScheme.size()), kScheme);
    if (!bearer || !token_matches(authorization.substr(kScheme.size()), token)) {
      return text(401, "unauthorized: send Authorization: Bearer <token from admin.token_file>\n");
    }
  }
  AdminResponse response;
  if (path == "/v1/reload") {
    // 200 with the new generation, or 422 with the loader's errors (the
    // running configuration is untouched); JSON either way.
    const AdminView::ReloadResult result = view.reload_config();
    nlohmann::json body = {{"ok", result.ok}, {"generation", result.generation}};
    if (!result.ok) body["error"] = result.error;
    response.status = result.ok ? 200 : 422;
    response.content_type = "application/json";
    response.body = body.dump() + "\n";
    return response;
  }
  if (path == "/metrics") {
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = render_metrics(view.snapshot());
  } else {
    response.content_type = "application/json";
    response.body = render_state(view.snapshot());
  }
  return response;
}

// One admin connection: llhttp parser, idle timer, pending writes.
struct AdminServer::Client {
  AdminServer* server = nullptr;
  Client* prev = nullptr;
  Client* next = nullptr;
  uv_tcp_t tcp{};
  uv_timer_t idle{};
  int open_handles = 0;
  bool closing = false;
  llhttp_t parser{};
  llhttp_settings_t settings{};
  std::size_t header_bytes = 0;   // bytes of the current message's head so far
  std::size_t body_bytes = 0;
  std::string url;
  std::string field;
  std::string authorization;
  bool field_is_authorization = false;
  bool in_value = false;
  std::size_t queued = 0;
  bool close_after_write = false;

  struct Write {
    uv_write_t req{};
    Client* client = nullptr;
    std::string bytes;
  };

  void reset_message() {
    header_bytes = body_bytes = 0;
    url.clear();
    field.clear();
    authorization.clear();
    field_is_authorization = in_value = false;
  }

  void respond(const AdminResponse& response, bool keep_alive, bool head) {
    std::string bytes = serialize(response, keep_alive);
    if (head) bytes.resize(bytes.size() - response.body.size());
    auto* write = new Write{{}, this, std::move(bytes)};
    write->req.data = write;
    uv_buf_t buf = uv_buf_init(write->bytes.data(), static_cast<unsigned>(write->bytes.size()));
    queued += write->bytes.size();
    if (uv_write(&write->req, reinterpret_cast<uv_stream_t*>(&tcp), &buf, 1, on_written) != 0) {
      queued -= write->bytes.size();
      delete write;
      close();
      return;
    }
    if (!keep_alive) close_after_write = true;
    if (queued > kMaxQueuedBytes) close();  // the peer does not read its responses
  }

  static void on_written(uv_write_t* req, int status) {
    std::unique_ptr<Write> write(static_cast<Write*>(req->data));
    Client* self = write->client;
    self->queued -= write->bytes.size();
    if (status < 0 || (self->close_after_write && self->queued == 0)) self->close();
  }

  void fail(int status, std::string body) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp));
    respond(text(status, std::move(body)), /*keep_alive=*/false, /*head=*/false);
  }

  void feed(const char* data, std::size_t len) {
    uv_timer_again(&idle);
    const llhttp_errno_t err = llhttp_execute(&parser, data, len);
    if (err == HPE_OK || closing || close_after_write) return;
    if (err == HPE_PAUSED) return;  // a callback already answered and closes
    fail(400, fmt::format("bad request: {}\n", llhttp_get_error_reason(&parser)));
  }

  void close() {
    if (closing) return;
    closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp), on_closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&idle), on_closed);
  }

  static void on_closed(uv_handle_t* handle) {
    auto* self = static_cast<Client*>(handle->data);
    if (--self->open_handles == 0) self->server->forget(self);
  }

  // --- llhttp callbacks (return 0 to continue, HPE_PAUSED after answering)
  static Client* of(llhttp_t* parser) { return static_cast<Client*>(parser->data); }

  // Counts head bytes; answers 431 once the head exceeds the cap.
  int account_head(std::size_t len) {
    header_bytes += len;
    if (header_bytes <= kMaxHeaderBytes) return 0;
    fail(431, "request header fields too large\n");
    return HPE_PAUSED;
  }
  static int on_message_begin(llhttp_t* p) {
    of(p)->reset_message();
    return 0;
  }
  static int on_url(llhttp_t* p, const char* at, std::size_t len) {
    Client* self = of(p);
    if (int rc = self->account_head(len)) return rc;
    self->url.append(at, len);
    return 0;
  }
  static int on_header_field(llhttp_t* p, const char* at, std::size_t len) {
    Client* self = of(p);
    if (int rc = self->account_head(len)) return rc;
    if (self->in_value) {
      self->field.clear();
      self->in_value = false;
    }
    self->field.append(at, len);
    return 0;
  }
  static int on_header_value(llhttp_t* p, const char* at, std::size_t len) {
    Client* self = of(p);
    if (int rc = self->account_head(len)) return rc;
    if (!self->in_value) {
      self->in_value = true;
      self->field_is_authorization = ascii::iequals(self->field, "authorization");
      if (self->field_is_authorization) self->authorization.clear();
    }
    if (self->field_is_authorization) self->authorization.append(at, len);
    return 0;
  }
  static int on_body(llhttp_t* p, const char*, std::size_t len) {
    Client* self = of(p);
    self->body_bytes += len;
    if (self->body_bytes <= kMaxBodyBytes) return 0;
    self->fail(413, "request body too large\n");
    return HPE_PAUSED;
  }
  static int on_message_complete(llhttp_t* p) {
    Client* self = of(p);
    const auto method = static_cast<llhttp_method_t>(llhttp_get_method(p));
    const std::string_view method_name = llhttp_method_name(method);
    const AdminResponse response =
        route_admin_request(method_name, self->url, self->authorization, self->server->config_.token,
                            self->server->view_);
    log::debug("admin {} {} -> {}", method_name, self->url, response.status);
    self->respond(response, llhttp_should_keep_alive(p) != 0, method == HTTP_HEAD);
    return self->closing || self->close_after_write ? HPE_PAUSED : 0;
  }
};

AdminServer::AdminServer(uv_loop_t* loop, AdminConfig config, AdminView& view)
    : loop_(loop), config_(std::move(config)), view_(view) {}

AdminServer::~AdminServer() = default;

int AdminServer::start() {
  const HostPort& bind = config_.bind;
  const std::optional<sockaddr_storage> address = numeric_address(bind);
  if (!address) return UV_EINVAL;
  uv_tcp_init(loop_, &listener_);
  listener_.data = this;
  listening_ = true;
  int rc = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&*address), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 64, on_connection);
  if (rc != 0) return rc;
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &len);
  HostPort actual = bind;
  actual.port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                   : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  bound_address_ = actual.to_string();
  return 0;
}

void AdminServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (listening_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&listener_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  }
  for (Client* client = first_; client != nullptr; client = client->next) client->close();
}

void AdminServer::on_connection(uv_stream_t* stream, int status) {
  auto* self = static_cast<AdminServer*>(stream->data);
  if (status < 0) {
    log::warn("admin: accept error: {}", uv_strerror(status));
    return;
  }
  self->accept_one();
}

void AdminServer::accept_one() {
  auto* client = new Client();
  client->server = this;
  uv_tcp_init(loop_, &client->tcp);
  uv_timer_init(loop_, &client->idle);
  client->tcp.data = client->idle.data = client;
  client->open_handles = 2;
  client->next = first_;
  if (first_ != nullptr) first_->prev = client;
  first_ = client;
  ++clients_;
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&listener_), reinterpret_cast<uv_stream_t*>(&client->tcp)) != 0 ||
      stopped_) {
    client->close();
    return;
  }
  if (clients_ > kMaxConnections) {
    log::warn("admin: more than {} connections; refusing one", kMaxConnections);
    client->close();
    return;
  }
  llhttp_settings_init(&client->settings);
  client->settings.on_message_begin = Client::on_message_begin;
  client->settings.on_url = Client::on_url;
  client->settings.on_header_field = Client::on_header_field;
  client->settings.on_header_value = Client::on_header_value;
  client->settings.on_body = Client::on_body;
  client->settings.on_message_complete = Client::on_message_complete;
  llhttp_init(&client->parser, HTTP_REQUEST, &client->settings);
  client->parser.data = client;
  uv_timer_start(
      &client->idle, [](uv_timer_t* timer) { static_cast<Client*>(timer->data)->close(); }, kIdleTimeoutMs,
      kIdleTimeoutMs);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&client->tcp),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        // Admin reads are rare and small; a per-read heap buffer keeps them
        // off the data path's loop-wide buffers.
        buf->base = new char[4096];
        buf->len = 4096;
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        std::unique_ptr<char[]> owned(buf->base);
        auto* self = static_cast<Client*>(stream->data);
        if (nread > 0) {
          self->feed(buf->base, static_cast<std::size_t>(nread));
        } else if (nread < 0) {
          self->close();
        }
      });
}

void AdminServer::forget(Client* client) {
  if (client->prev != nullptr) client->prev->next = client->next;
  if (client->next != nullptr) client->next->prev = client->prev;
  if (first_ == client) first_ = client->next;
  --clients_;
  delete client;
}

}  // namespace kedge
