// httpload — load generator for kedge's HTTP/WebSocket front (docs/http.md), driven by bench/http_front.py.
//
// It speaks TLS (OpenSSL, SNI http.<domain>, chain not verified), HTTP/1.1 and RFC 6455 itself and pins
// --host:--port, like kload does for Kafka. One thread per connection, blocking sockets: the work per
// connection is sequential by nature (the next fetch offset is known only from the last response).
//
// Modes (--mode):
//   ws-fetch      opens --connections WebSockets; partition p of --topic (0 <= p < --partitions) is read by
//                 connection p % connections. Each partition's end is asked first (CmdKafkaListOffset, -1),
//                 then the partition is pulled from offset 0 to that end with APISIX CmdKafkaFetch (binary
//                 PubSubReq), one fetch in flight per partition, the next offset taken from the last message
//                 of the previous response. Every response must start at the offset asked for and carry
//                 contiguous offsets, else the run fails.
//   rest-produce  --connections keep-alive connections, each POSTing /topics/<topic>/partitions/<c % partitions>
//                 (application/vnd.kafka.binary.v2+json) --records records of --record-bytes each, one request
//                 in flight, for --duration seconds after --warmup; every answer must be 200 with no record
//                 error.
//   ws-idle       opens --connections WebSockets (TLS handshake + upgrade), prints "READY <n>", holds them until
//                 stdin closes.
// Output: one JSON object on stdout (after READY for ws-idle). CPU figures are this process's (user+sys), so the
// report can show the client was not the bottleneck.
//
// The protobuf messages are read with a hand-written walker over the wire format (field numbers of
// web/pubsub.proto): a benchmark client that borrows the payload bytes instead of building message objects, so
// its own cost per MB stays far below the gateway's.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <csignal>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string sni = "http.kafka.example.com";
  std::string path = "/kafka";
  std::string ciphersuites = "TLS_AES_128_GCM_SHA256";
  std::string topic;
  int partitions = 1;
  int connections = 1;
  int records = 100;
  int record_bytes = 100;
  double duration = 4.0;
  double warmup = 1.0;
};

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "httpload: %s\n", why.c_str());
  std::exit(2);
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// ---------------------------------------------------------------------------
// A blocking TLS connection with a read buffer.
class Tls {
 public:
  Tls(SSL_CTX* ctx, const Options& o) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(o.port));
    inet_pton(AF_INET, o.host.c_str(), &a.sin_addr);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ssl_ = SSL_new(ctx);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, o.sni.c_str());
    if (SSL_connect(ssl_) != 1) throw std::runtime_error("TLS handshake failed");
  }
  ~Tls() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (fd_ >= 0) close(fd_);
  }
  Tls(const Tls&) = delete;
  Tls& operator=(const Tls&) = delete;

  void write(const void* p, std::size_t n) {
    if (n == 0) return;
    if (SSL_write(ssl_, p, static_cast<int>(n)) != static_cast<int>(n)) throw std::runtime_error("TLS write failed");
  }
  // Makes at least `n` bytes readable at data(); false at end of stream.
  bool fill(std::size_t n) {
    while (buffer_.size() - start_ < n) {
      if (start_ > 0 && start_ >= buffer_.size() / 2) {  // slide the unread tail to the front
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
        start_ = 0;
      }
      const std::size_t old = buffer_.size();
      buffer_.resize(old + 64 * 1024);
      const int r = SSL_read(ssl_, buffer_.data() + old, 64 * 1024);
      buffer_.resize(old + static_cast<std::size_t>(r > 0 ? r : 0));
      if (r <= 0) return false;
    }
    return true;
  }
  const std::uint8_t* data() const { return buffer_.data() + start_; }
  std::size_t available() const { return buffer_.size() - start_; }
  void consume(std::size_t n) { start_ += n; }

 private:
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  Bytes buffer_;
  std::size_t start_ = 0;
};

// Reads an HTTP/1.1 response head; returns the status, sets content_length (-1: none).
int read_http_head(Tls& tls, long& content_length, std::string* head_out = nullptr) {
  for (std::size_t need = 1;; need = tls.available() + 1) {
    if (!tls.fill(need)) throw std::runtime_error("connection closed in an HTTP response head");
    std::string_view v(reinterpret_cast<const char*>(tls.data()), tls.available());
    const auto end = v.find("\r\n\r\n");
    if (end == std::string_view::npos) continue;
    std::string head(v.substr(0, end));
    tls.consume(end + 4);
    content_length = -1;
    for (std::size_t pos = 0; pos < head.size();) {
      auto eol = head.find("\r\n", pos);
      if (eol == std::string::npos) eol = head.size();
      std::string line = head.substr(pos, eol - pos);
      for (auto& c : line) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (line.rfind("content-length:", 0) == 0) content_length = std::atol(line.c_str() + 15);
      pos = eol + 2;
    }
    if (head_out != nullptr) *head_out = head;
    if (head.size() < 12) throw std::runtime_error("short HTTP status line");
    return std::atoi(head.c_str() + 9);
  }
}

// ---------------------------------------------------------------------------
// WebSocket (RFC 6455): client frames are masked (§5.3), server frames are not.
void ws_upgrade(Tls& tls, const Options& o) {
  std::string request = "GET " + o.path + " HTTP/1.1\r\nHost: " + o.sni +
                        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  tls.write(request.data(), request.size());
  long length = 0;
  std::string head;
  const int status = read_http_head(tls, length, &head);
  if (status != 101) throw std::runtime_error("upgrade answered " + std::to_string(status) + ": " + head);
}

void ws_send_binary(Tls& tls, const Bytes& payload) {
  Bytes frame;
  frame.reserve(payload.size() + 14);
  frame.push_back(0x82);  // FIN, binary
  const std::size_t n = payload.size();
  if (n < 126) {
    frame.push_back(static_cast<std::uint8_t>(0x80 | n));
  } else if (n < 65536) {
    frame.push_back(0x80 | 126);
    frame.push_back(static_cast<std::uint8_t>(n >> 8));
    frame.push_back(static_cast<std::uint8_t>(n));
  } else {
    frame.push_back(0x80 | 127);
    for (int i = 7; i >= 0; --i) frame.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  }
  std::uint8_t mask[4];
  RAND_bytes(mask, 4);
  frame.insert(frame.end(), mask, mask + 4);
  for (std::size_t i = 0; i < n; ++i) frame.push_back(payload[i] ^ mask[i & 3]);
  tls.write(frame.data(), frame.size());
}

// One whole data message (fragments joined) into `message`; control frames are skipped (a Close ends the run).
void ws_read_message(Tls& tls, Bytes& message) {
  message.clear();
  for (;;) {
    if (!tls.fill(2)) throw std::runtime_error("connection closed in a WebSocket frame");
    const std::uint8_t b0 = tls.data()[0], b1 = tls.data()[1];
    std::size_t header = 2;
    std::uint64_t length = b1 & 0x7F;
    if (length == 126) {
      header = 4;
      if (!tls.fill(header)) throw std::runtime_error("closed");
      length = (std::uint64_t{tls.data()[2]} << 8) | tls.data()[3];
    } else if (length == 127) {
      header = 10;
      if (!tls.fill(header)) throw std::runtime_error("closed");
      length = 0;
      for (int i = 0; i < 8; ++i) length = (length << 8) | tls.data()[2 + i];
    }
    if (b1 & 0x80) throw std::runtime_error("masked server frame");
    if (!tls.fill(header + length)) throw std::runtime_error("connection closed in a WebSocket payload");
    const std::uint8_t opcode = b0 & 0x0F;
    const std::uint8_t* payload = tls.data() + header;
    if (opcode == 0x8) throw std::runtime_error("the server closed the WebSocket");
    if (opcode < 0x8) message.insert(message.end(), payload, payload + length);
    tls.consume(header + length);
    if (opcode < 0x8 && (b0 & 0x80)) return;
  }
}

// ---------------------------------------------------------------------------
// Protobuf wire format (just what PubSubReq / PubSubResp need).
void put_varint(Bytes& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}
void put_tag(Bytes& out, int field, int wire_type) { put_varint(out, (static_cast<std::uint64_t>(field) << 3) | wire_type); }

// PubSubReq{sequence, <command field>{topic=1, partition=2, offset_or_timestamp=3}}
Bytes kafka_command(std::int64_t sequence, int command_field, const std::string& topic, std::int32_t partition,
                    std::int64_t value) {
  Bytes inner;
  put_tag(inner, 1, 2);
  put_varint(inner, topic.size());
  inner.insert(inner.end(), topic.begin(), topic.end());
  if (partition != 0) {
    put_tag(inner, 2, 0);
    put_varint(inner, static_cast<std::uint64_t>(static_cast<std::int64_t>(partition)));
  }
  if (value != 0) {
    put_tag(inner, 3, 0);
    put_varint(inner, static_cast<std::uint64_t>(value));
  }
  Bytes out;
  put_tag(out, 1, 0);
  put_varint(out, static_cast<std::uint64_t>(sequence));
  put_tag(out, command_field, 2);
  put_varint(out, inner.size());
  out.insert(out.end(), inner.begin(), inner.end());
  return out;
}
constexpr int kCmdKafkaFetch = 33, kCmdKafkaListOffset = 34;
constexpr int kErrorResp = 31, kKafkaFetchResp = 33, kKafkaListOffsetResp = 34;

struct Walker {
  const std::uint8_t* p;
  const std::uint8_t* end;
  bool bad = false;
  bool done() const { return p >= end || bad; }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) { bad = true; return 0; }
      const std::uint8_t c = *p++;
      v |= static_cast<std::uint64_t>(c & 0x7F) << shift;
      if (!(c & 0x80)) return v;
    }
    bad = true;
    return 0;
  }
  // Next field: its number and wire type; a length-delimited field's bytes in [sub, sub_end).
  bool next(int& field, int& type, std::uint64_t& value, const std::uint8_t*& sub, const std::uint8_t*& sub_end) {
    const std::uint64_t key = varint();
    if (bad) return false;
    field = static_cast<int>(key >> 3);
    type = static_cast<int>(key & 7);
    if (type == 0) {
      value = varint();
    } else if (type == 2) {
      const std::uint64_t n = varint();
      if (bad || n > static_cast<std::uint64_t>(end - p)) { bad = true; return false; }
      sub = p;
      sub_end = p + n;
      p += n;
    } else if (type == 1) {
      if (end - p < 8) { bad = true; return false; }
      p += 8;
    } else if (type == 5) {
      if (end - p < 4) { bad = true; return false; }
      p += 4;
    } else {
      bad = true;
      return false;
    }
    return !bad;
  }
};

struct Response {
  std::int64_t sequence = 0;
  int kind = 0;  // the oneof field number
  std::int64_t list_offset = 0;
  std::int32_t error_code = 0;
  std::string error_message;
  // fetch
  std::int64_t first_offset = -1, last_offset = -1, records = 0, value_bytes = 0, key_bytes = 0;
  bool contiguous = true;
};

bool parse_response(const Bytes& m, Response& r) {
  Walker w{m.data(), m.data() + m.size()};
  int field = 0, type = 0;
  std::uint64_t value = 0;
  const std::uint8_t *sub = nullptr, *sub_end = nullptr;
  while (!w.done()) {
    if (!w.next(field, type, value, sub, sub_end)) return false;
    if (field == 1 && type == 0) {
      r.sequence = static_cast<std::int64_t>(value);
    } else if (type == 2 && field == kKafkaFetchResp) {
      r.kind = field;
      Walker messages{sub, sub_end};
      while (!messages.done()) {
        const std::uint8_t *m0 = nullptr, *m1 = nullptr;
        if (!messages.next(field, type, value, m0, m1)) return false;
        if (field != 1 || type != 2) continue;
        Walker kafka_message{m0, m1};
        std::int64_t offset = 0;
        while (!kafka_message.done()) {
          const std::uint8_t *f0 = nullptr, *f1 = nullptr;
          if (!kafka_message.next(field, type, value, f0, f1)) return false;
          if (field == 1 && type == 0) offset = static_cast<std::int64_t>(value);
          else if (field == 3 && type == 2) r.key_bytes += f1 - f0;
          else if (field == 4 && type == 2) r.value_bytes += f1 - f0;
        }
        if (r.records == 0) r.first_offset = offset;
        else if (offset != r.last_offset + 1) r.contiguous = false;
        r.last_offset = offset;
        r.records++;
      }
    } else if (type == 2 && field == kKafkaListOffsetResp) {
      r.kind = field;
      Walker inner{sub, sub_end};
      const std::uint8_t *f0 = nullptr, *f1 = nullptr;
      while (!inner.done()) {
        if (!inner.next(field, type, value, f0, f1)) return false;
        if (field == 1 && type == 0) r.list_offset = static_cast<std::int64_t>(value);
      }
    } else if (type == 2 && field == kErrorResp) {
      r.kind = field;
      Walker inner{sub, sub_end};
      const std::uint8_t *f0 = nullptr, *f1 = nullptr;
      while (!inner.done()) {
        if (!inner.next(field, type, value, f0, f1)) return false;
        if (field == 1 && type == 0) r.error_code = static_cast<std::int32_t>(value);
        else if (field == 2 && type == 2) r.error_message.assign(reinterpret_cast<const char*>(f0), f1 - f0);
      }
    }
  }
  return true;
}

SSL_CTX* make_ctx(const Options& o) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_ciphersuites(ctx, o.ciphersuites.c_str());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  // One connection per request line: no session cache, every WebSocket a full handshake (as a browser's first).
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  return ctx;
}

// ---------------------------------------------------------------------------
struct FetchTotals {
  std::mutex mu;
  std::int64_t records = 0, value_bytes = 0, key_bytes = 0, ws_bytes = 0, fetches = 0, empty = 0;
  std::string error;
};

void fetch_connection(SSL_CTX* ctx, const Options& o, std::vector<int> partitions, FetchTotals& totals,
                      std::atomic<int>& ready, std::atomic<bool>& go, std::atomic<int>& finished) {
  std::int64_t records = 0, value_bytes = 0, key_bytes = 0, ws_bytes = 0, fetches = 0, empty = 0;
  std::string error;
  try {
    Tls tls(ctx, o);
    ws_upgrade(tls, o);
    Bytes message;
    std::map<std::int64_t, int> by_sequence;  // in-flight fetch -> index into partitions
    std::vector<std::int64_t> next(partitions.size(), 0), end(partitions.size(), 0);
    std::int64_t sequence = 0;
    for (std::size_t i = 0; i < partitions.size(); ++i) {
      ws_send_binary(tls, kafka_command(++sequence, kCmdKafkaListOffset, o.topic, partitions[i], -1));
      ws_read_message(tls, message);
      Response r;
      if (!parse_response(message, r) || r.kind != kKafkaListOffsetResp)
        throw std::runtime_error("list_offset of partition " + std::to_string(partitions[i]) + " failed: " +
                                 r.error_message);
      end[i] = r.list_offset;
    }
    ready++;
    while (!go.load()) std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::size_t active = 0;
    for (std::size_t i = 0; i < partitions.size(); ++i) {
      if (next[i] >= end[i]) continue;
      ws_send_binary(tls, kafka_command(++sequence, kCmdKafkaFetch, o.topic, partitions[i], next[i]));
      by_sequence[sequence] = static_cast<int>(i);
      active++;
    }
    while (active > 0) {
      ws_read_message(tls, message);
      ws_bytes += static_cast<std::int64_t>(message.size());
      Response r;
      if (!parse_response(message, r)) throw std::runtime_error("malformed PubSubResp");
      const auto it = by_sequence.find(r.sequence);
      if (it == by_sequence.end()) throw std::runtime_error("a response to no fetch in flight");
      const std::size_t i = static_cast<std::size_t>(it->second);
      by_sequence.erase(it);
      if (r.kind == kErrorResp)
        throw std::runtime_error("fetch error " + std::to_string(r.error_code) + ": " + r.error_message);
      if (r.kind != kKafkaFetchResp) throw std::runtime_error("unexpected response kind");
      fetches++;
      if (r.records == 0) {
        empty++;
      } else {
        if (r.first_offset != next[i] || !r.contiguous)
          throw std::runtime_error("partition " + std::to_string(partitions[i]) + ": asked for offset " +
                                   std::to_string(next[i]) + ", got " + std::to_string(r.first_offset) +
                                   (r.contiguous ? "" : " (offsets not contiguous)"));
        next[i] = r.last_offset + 1;
        records += r.records;
        value_bytes += r.value_bytes;
        key_bytes += r.key_bytes;
      }
      if (next[i] >= end[i]) {
        active--;
        continue;
      }
      ws_send_binary(tls, kafka_command(++sequence, kCmdKafkaFetch, o.topic, partitions[i], next[i]));
      by_sequence[sequence] = static_cast<int>(i);
    }
  } catch (const std::exception& e) {
    error = e.what();
    ready++;
  }
  finished++;
  std::lock_guard<std::mutex> lock(totals.mu);
  totals.records += records;
  totals.value_bytes += value_bytes;
  totals.key_bytes += key_bytes;
  totals.ws_bytes += ws_bytes;
  totals.fetches += fetches;
  totals.empty += empty;
  if (!error.empty() && totals.error.empty()) totals.error = error;
}

int run_ws_fetch(const Options& o) {
  SSL_CTX* ctx = make_ctx(o);
  FetchTotals totals;
  std::atomic<int> ready{0}, finished{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < o.connections; ++c) {
    std::vector<int> mine;
    for (int p = c; p < o.partitions; p += o.connections) mine.push_back(p);
    if (mine.empty()) continue;
    threads.emplace_back(fetch_connection, ctx, std::cref(o), mine, std::ref(totals), std::ref(ready), std::ref(go),
                         std::ref(finished));
  }
  const int n = static_cast<int>(threads.size());
  while (ready.load() < n) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  go = true;
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  std::printf(
      "{\"mode\":\"ws-fetch\",\"connections\":%d,\"partitions\":%d,\"records\":%lld,\"value_bytes\":%lld,"
      "\"key_bytes\":%lld,\"ws_bytes\":%lld,\"fetches\":%lld,\"empty_fetches\":%lld,\"seconds\":%.4f,"
      "\"payload_MBps\":%.2f,\"client_cpu_s\":%.3f,\"client_cpu_pct\":%.1f,\"error\":\"%s\"}\n",
      n, o.partitions, static_cast<long long>(totals.records), static_cast<long long>(totals.value_bytes),
      static_cast<long long>(totals.key_bytes), static_cast<long long>(totals.ws_bytes),
      static_cast<long long>(totals.fetches), static_cast<long long>(totals.empty), seconds,
      static_cast<double>(totals.value_bytes + totals.key_bytes) / 1e6 / seconds, cpu, 100.0 * cpu / seconds,
      totals.error.c_str());
  return totals.error.empty() ? 0 : 1;
}

// ---------------------------------------------------------------------------
std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const std::uint32_t v = (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8) | std::uint8_t(in[i + 2]);
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (i + 1 == in.size()) {
    const std::uint32_t v = std::uint8_t(in[i]) << 16;
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const std::uint32_t v = (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8);
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// A produce answer's "offsets" entries each carry "error_code":null (kedge writes compact JSON).
bool all_records_written(std::string_view answer) {
  constexpr std::string_view kField = "\"error_code\":";
  std::size_t seen = 0;
  for (auto at = answer.find(kField); at != std::string_view::npos; at = answer.find(kField, at + 1)) {
    if (answer.substr(at + kField.size(), 4) != "null") return false;
    seen++;
  }
  return seen > 0;
}

struct ProduceTotals {
  std::atomic<long long> records{0}, posts{0}, failed{0};
  std::mutex mu;
  std::string error;
};

void produce_connection(SSL_CTX* ctx, const Options& o, int partition, ProduceTotals& totals,
                        std::atomic<int>& phase) {  // phase: 0 warm-up, 1 measured, 2 stop
  try {
    Tls tls(ctx, o);
    // The body: records of `record_bytes` each (same bytes as rdkload's values), base64 (binary.v2).
    std::string body = "{\"records\":[";
    for (int i = 0; i < o.records; ++i) {
      std::string value(static_cast<std::size_t>(o.record_bytes), static_cast<char>('a' + i % 26));
      body += (i ? ",{\"value\":\"" : "{\"value\":\"") + base64(value) + "\"}";
    }
    body += "]}";
    const std::string request = "POST /topics/" + o.topic + "/partitions/" + std::to_string(partition) +
                                " HTTP/1.1\r\nHost: " + o.sni +
                                "\r\nContent-Type: application/vnd.kafka.binary.v2+json\r\n"
                                "Accept: application/vnd.kafka.v2+json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    while (phase.load() < 2) {
      tls.write(request.data(), request.size());
      long length = -1;
      const int status = read_http_head(tls, length);
      if (length < 0) throw std::runtime_error("answer without Content-Length");
      if (!tls.fill(static_cast<std::size_t>(length))) throw std::runtime_error("closed in an answer body");
      std::string_view answer(reinterpret_cast<const char*>(tls.data()), static_cast<std::size_t>(length));
      const bool ok = status == 200 && all_records_written(answer);
      if (!ok) {
        std::lock_guard<std::mutex> lock(totals.mu);
        if (totals.error.empty()) totals.error = "status " + std::to_string(status) + ": " + std::string(answer.substr(0, 200));
        totals.failed++;
      }
      tls.consume(static_cast<std::size_t>(length));
      if (phase.load() == 1 && ok) {
        totals.records += o.records;
        totals.posts++;
      }
    }
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> lock(totals.mu);
    if (totals.error.empty()) totals.error = e.what();
    totals.failed++;
  }
}

int run_rest_produce(const Options& o) {
  SSL_CTX* ctx = make_ctx(o);
  ProduceTotals totals;
  std::atomic<int> phase{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < o.connections; ++c)
    threads.emplace_back(produce_connection, ctx, std::cref(o), c % o.partitions, std::ref(totals), std::ref(phase));
  std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup));
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  phase = 1;
  std::this_thread::sleep_for(std::chrono::duration<double>(o.duration));
  const long long records = totals.records.load(), posts = totals.posts.load();
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  phase = 2;
  for (auto& t : threads) t.join();
  std::string error;
  for (char c : totals.error) error += (c == '"' || c == '\\' || c < 0x20) ? '\'' : c;
  std::printf(
      "{\"mode\":\"rest-produce\",\"connections\":%d,\"records_per_post\":%d,\"record_bytes\":%d,\"posts\":%lld,"
      "\"records\":%lld,\"seconds\":%.4f,\"records_per_s\":%.1f,\"failed\":%lld,\"client_cpu_s\":%.3f,"
      "\"client_cpu_pct\":%.1f,\"error\":\"%s\"}\n",
      o.connections, o.records, o.record_bytes, posts, records, seconds, static_cast<double>(records) / seconds,
      totals.failed.load(), cpu, 100.0 * cpu / seconds, error.c_str());
  return totals.failed.load() == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------
int run_ws_idle(const Options& o) {
  SSL_CTX* ctx = make_ctx(o);
  std::vector<std::unique_ptr<Tls>> open;
  open.reserve(static_cast<std::size_t>(o.connections));
  try {
    for (int i = 0; i < o.connections; ++i) {
      auto tls = std::make_unique<Tls>(ctx, o);
      ws_upgrade(*tls, o);
      open.push_back(std::move(tls));
    }
  } catch (const std::exception& e) {
    std::printf("FAILED %zu %s\n", open.size(), e.what());
    std::fflush(stdout);
    return 1;
  }
  std::printf("READY %zu\n", open.size());
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  std::printf("{\"mode\":\"ws-idle\",\"connections\":%zu}\n", open.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--mode") o.mode = val();
    else if (a == "--host") o.host = val();
    else if (a == "--port") o.port = std::stoi(val());
    else if (a == "--sni") o.sni = val();
    else if (a == "--path") o.path = val();
    else if (a == "--ciphersuites") o.ciphersuites = val();
    else if (a == "--topic") o.topic = val();
    else if (a == "--partitions") o.partitions = std::stoi(val());
    else if (a == "--connections") o.connections = std::stoi(val());
    else if (a == "--records") o.records = std::stoi(val());
    else if (a == "--record-bytes") o.record_bytes = std::stoi(val());
    else if (a == "--duration") o.duration = std::stod(val());
    else if (a == "--warmup") o.warmup = std::stod(val());
    else die("unknown option " + a);
  }
  if (o.port <= 0) die("--port is required");
  if (o.connections < 1 || o.partitions < 1) die("--connections and --partitions must be >= 1");
  std::signal(SIGPIPE, SIG_IGN);
  if (o.mode == "ws-fetch") return o.topic.empty() ? (die("--topic is required"), 2) : run_ws_fetch(o);
  if (o.mode == "rest-produce") return o.topic.empty() ? (die("--topic is required"), 2) : run_rest_produce(o);
  if (o.mode == "ws-idle") return run_ws_idle(o);
  die("--mode: ws-fetch, rest-produce or ws-idle");
}
