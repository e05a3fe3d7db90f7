// kload — a Kafka load generator for kedge's benchmark suite (bench/run.sh).
//
// It speaks the Kafka protocol itself (no client library) over plaintext TCP or
// TLS (OpenSSL, with SNI) and PINS ONE BROKER: it connects to --host:--port with
// --sni and never follows Metadata, so any proxy (kedge, HAProxy) or none can sit
// in the path. One thread, one epoll loop, N connections, each keeping up to
// --pipeline requests in flight. Every response is parsed far enough to check
// its error codes; errors are counted and reported, never ignored.
//
// Workloads (--workload):
//   produce    Produce v10 (flexible), one RecordBatch v2 per request (CRC-32C),
//              --records records of --record-bytes each; acks=1.
//   fill       like produce, one connection, exactly --count batches, then exits.
//   fetch      Fetch v16 by topic id (--fetch-version 12: by name) from the batches present in the partition
//              (scanned once at start), cycling through them forever; every
//              response must carry the batch asked for.
//   metadata   Metadata v12 for --topic (kedge rewrites it; HAProxy passes it).
//   ping       ApiVersions v3, latency percentiles (use --connections 1 --pipeline 1).
//   handshake  connect + TLS handshake + one ApiVersions round trip + close, in a loop
//              on each of --connections slots; --resume reuses TLS session tickets.
//   idle       opens --connections connections (handshake + one ApiVersions each),
//              prints "READY <n>" on stdout, holds them until stdin closes.
//   session    what a client does to start: connect + TLS handshake, ApiVersions, with
//              --sasl MECH the authentication (SaslHandshake v1, then SaslAuthenticate v2:
//              one round for PLAIN, client-first / client-final for SCRAM, RFC 5802), one
//              Metadata v12 for --topic, close; in a loop on each of --connections slots.
//              Without --sasl the same minus the authentication (a passthrough path).
// --cert/--key present a client certificate (mTLS); every full handshake must then have
// been asked for it (a server that never asks is an error, not a faster mTLS).
// Output: one JSON object on stdout (after READY for idle).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "identity/scram.h"

namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;

// ---------------------------------------------------------------------------
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as RecordBatch v2 requires.
std::uint32_t crc32c(const std::uint8_t* data, std::size_t len) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < len; ++i) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

// ---------------------------------------------------------------------------
// Encoding helpers (big-endian fixed ints, unsigned/zigzag varints).
struct Writer {
  Bytes b;
  void i8(std::int8_t v) { b.push_back(static_cast<std::uint8_t>(v)); }
  void i16(std::int16_t v) { u(static_cast<std::uint16_t>(v), 2); }
  void i32(std::int32_t v) { u(static_cast<std::uint32_t>(v), 4); }
  void i64(std::int64_t v) { u(static_cast<std::uint64_t>(v), 8); }
  void u(std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void uvarint(std::uint64_t v) {
    while (v >= 0x80) { b.push_back(static_cast<std::uint8_t>(v | 0x80)); v >>= 7; }
    b.push_back(static_cast<std::uint8_t>(v));
  }
  void varint(std::int64_t v) { uvarint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63)); }
  void compact_string(std::string_view s) { uvarint(s.size() + 1); raw(s.data(), s.size()); }
  void raw(const void* p, std::size_t n) {
    auto* c = static_cast<const std::uint8_t*>(p);
    b.insert(b.end(), c, c + n);
  }
  void put32_at(std::size_t pos, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b[pos + i] = static_cast<std::uint8_t>(v >> (8 * (3 - i)));
  }
};

// Bounded reader: any read past the end sets `bad` and yields zeros.
struct Reader {
  const std::uint8_t* p;
  std::size_t n, pos = 0;
  bool bad = false;
  bool need(std::size_t k) {
    if (bad || n - pos < k) { bad = true; return false; }
    return true;
  }
  std::uint64_t u(int k) {
    if (!need(k)) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < k; ++i) v = (v << 8) | p[pos++];
    return v;
  }
  std::int8_t i8() { return static_cast<std::int8_t>(u(1)); }
  std::int16_t i16() { return static_cast<std::int16_t>(u(2)); }
  std::int32_t i32() { return static_cast<std::int32_t>(u(4)); }
  std::int64_t i64() { return static_cast<std::int64_t>(u(8)); }
  std::uint64_t uvarint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!need(1)) return 0;
      std::uint8_t c = p[pos++];
      v |= static_cast<std::uint64_t>(c & 0x7F) << shift;
      if (!(c & 0x80)) return v;
    }
    bad = true;
    return 0;
  }
  void skip(std::size_t k) { if (need(k)) pos += k; }
  // COMPACT_(NULLABLE_)STRING/BYTES: returns the payload length (0 for null).
  std::size_t compact_len() { std::uint64_t l = uvarint(); return l == 0 ? 0 : l - 1; }
  std::string_view compact_string() {
    std::size_t l = compact_len();
    if (!need(l)) return {};
    std::string_view s(reinterpret_cast<const char*>(p + pos), l);
    pos += l;
    return s;
  }
  void skip_compact() { skip(compact_len()); }
  std::uint64_t array_count() { std::uint64_t c = uvarint(); return c == 0 ? 0 : c - 1; }
  void tags() {
    std::uint64_t count = uvarint();
    for (std::uint64_t i = 0; i < count && !bad; ++i) { uvarint(); skip(uvarint()); }
  }
};

constexpr std::int16_t kProduce = 0, kFetch = 1, kMetadata = 3, kSaslHandshake = 17, kApiVersions = 18,
                       kSaslAuthenticate = 36;

// Request header v2 (flexible) or v1: api_key, api_version, correlation_id, client_id (int16 STRING)
// [, tags]. The correlation id sits at frame offset 8; enqueue() overwrites it per request.
void request_header(Writer& w, std::int16_t key, std::int16_t version, std::int32_t correlation,
                    bool flexible = true) {
  w.i32(0);  // size, patched by finish()
  w.i16(key);
  w.i16(version);
  w.i32(correlation);
  static constexpr std::string_view kClientId = "kload";
  w.i16(static_cast<std::int16_t>(kClientId.size()));
  w.raw(kClientId.data(), kClientId.size());
  if (flexible) w.uvarint(0);
}
void finish(Writer& w) { w.put32_at(0, static_cast<std::uint32_t>(w.b.size() - 4)); }

// RecordBatch v2 (magic 2), uncompressed, no producer id; CRC-32C over attributes..end.
Bytes record_batch(int records, int record_bytes) {
  Writer w;
  w.i64(0);         // baseOffset (the broker assigns)
  w.i32(0);         // batchLength, patched
  w.i32(-1);        // partitionLeaderEpoch
  w.i8(2);          // magic
  w.i32(0);         // crc, patched
  const std::size_t crc_from = w.b.size();
  w.i16(0);                 // attributes: no compression, CreateTime
  w.i32(records - 1);       // lastOffsetDelta
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch()).count();
  w.i64(now_ms);            // baseTimestamp
  w.i64(now_ms);            // maxTimestamp
  w.i64(-1);                // producerId
  w.i16(-1);                // producerEpoch
  w.i32(-1);                // baseSequence
  w.i32(records);
  std::string value(static_cast<std::size_t>(record_bytes), 'k');
  for (int i = 0; i < records; ++i) {
    Writer r;
    r.i8(0);                // attributes
    r.varint(0);            // timestampDelta
    r.varint(i);            // offsetDelta
    r.varint(-1);           // key: null
    r.varint(record_bytes);
    r.raw(value.data(), value.size());
    r.uvarint(0);           // headers count (varint 0)
    w.varint(static_cast<std::int64_t>(r.b.size()));
    w.raw(r.b.data(), r.b.size());
  }
  w.put32_at(8, static_cast<std::uint32_t>(w.b.size() - 12));
  w.put32_at(17, crc32c(w.b.data() + crc_from, w.b.size() - crc_from));
  return std::move(w.b);
}

Bytes produce_request(const std::string& topic, std::int32_t partition, const Bytes& batch) {
  Writer w;
  request_header(w, kProduce, 10, 0);
  w.uvarint(0);          // transactional_id: null
  w.i16(1);              // acks
  w.i32(30000);          // timeout_ms
  w.uvarint(2);          // topic_data: 1
  w.compact_string(topic);
  w.uvarint(2);          // partition_data: 1
  w.i32(partition);
  w.uvarint(batch.size() + 1);
  w.raw(batch.data(), batch.size());
  w.uvarint(0);          // partition tags
  w.uvarint(0);          // topic tags
  w.uvarint(0);          // request tags
  finish(w);
  return std::move(w.b);
}

// ApiVersions v2: the highest the librdkafka 2.12 mock answers (v3 gets UNSUPPORTED_VERSION).
// Non-flexible: request header v1 (no tag buffer), empty body.
Bytes api_versions_request() {
  Writer w;
  request_header(w, kApiVersions, 2, 0, /*flexible=*/false);
  finish(w);
  return std::move(w.b);
}

Bytes metadata_request(const std::string& topic) {
  Writer w;
  request_header(w, kMetadata, 12, 0);
  w.uvarint(2);  // topics: 1
  for (int i = 0; i < 16; ++i) w.i8(0);  // topic_id: zero = by name
  w.compact_string(topic);
  w.uvarint(0);  // tags
  w.i8(1);       // allow_auto_topic_creation
  w.i8(0);       // include_topic_authorized_operations
  w.uvarint(0);
  finish(w);
  return std::move(w.b);
}

// SaslHandshake v1 (KIP-152: the tokens follow in SaslAuthenticate), never flexible: Mechanism STRING.
Bytes sasl_handshake_request(std::string_view mechanism) {
  Writer w;
  request_header(w, kSaslHandshake, 1, 0, /*flexible=*/false);
  w.i16(static_cast<std::int16_t>(mechanism.size()));
  w.raw(mechanism.data(), mechanism.size());
  finish(w);
  return std::move(w.b);
}

// SaslAuthenticate v2 (flexible, as the Java client sends it): AuthBytes COMPACT_BYTES, tags.
Bytes sasl_authenticate_request(std::string_view auth_bytes) {
  Writer w;
  request_header(w, kSaslAuthenticate, 2, 0);
  w.uvarint(auth_bytes.size() + 1);
  w.raw(auth_bytes.data(), auth_bytes.size());
  w.uvarint(0);
  finish(w);
  return std::move(w.b);
}

// Fetch v16 names the topic by id (KIP-516); v12 (--fetch-version 12)
// by name, with ReplicaId first (moved to a tag in v15).
Bytes fetch_request(int version, const std::array<std::uint8_t, 16>& topic_id, const std::string& topic,
                    std::int32_t partition, std::int64_t offset, std::int32_t max_bytes) {
  Writer w;
  request_header(w, kFetch, static_cast<std::int16_t>(version), 0);
  if (version < 15) w.i32(-1);  // replica_id: a consumer
  w.i32(0);          // max_wait_ms
  w.i32(1);          // min_bytes
  w.i32(max_bytes);  // max_bytes
  w.i8(0);           // isolation_level
  w.i32(0);          // session_id
  w.i32(-1);         // session_epoch: no fetch session
  w.uvarint(2);      // topics: 1
  if (version >= 13) w.raw(topic_id.data(), topic_id.size());
  else w.compact_string(topic);
  w.uvarint(2);      // partitions: 1
  w.i32(partition);
  w.i32(-1);         // current_leader_epoch
  w.i64(offset);
  w.i32(-1);         // last_fetched_epoch
  w.i64(-1);         // log_start_offset
  w.i32(max_bytes);  // partition_max_bytes
  w.uvarint(0);
  w.uvarint(0);
  w.uvarint(1);      // forgotten_topics_data: empty
  w.compact_string("");  // rack_id
  w.uvarint(0);
  finish(w);
  return std::move(w.b);
}

// --- response checks: return the number of error codes != 0 found (or -1 if malformed) ---
// ApiVersions responses always use response header v0 (KIP-511), so the body starts here.
int check_api_versions(Reader& r) {
  std::int16_t err = r.i16();
  return r.bad ? -1 : (err != 0);
}

int check_produce(Reader& r) {
  r.tags();  // response header v1
  int errors = 0;
  for (std::uint64_t t = r.array_count(); t > 0 && !r.bad; --t) {
    r.skip_compact();
    for (std::uint64_t p = r.array_count(); p > 0 && !r.bad; --p) {
      r.i32();
      errors += r.i16() != 0;
      r.i64(); r.i64(); r.i64();
      for (std::uint64_t e = r.array_count(); e > 0 && !r.bad; --e) { r.i32(); r.skip_compact(); r.tags(); }
      r.skip_compact();
      r.tags();
    }
    r.tags();
  }
  r.i32();
  r.tags();
  return r.bad ? -1 : errors;
}

// SaslHandshake v1 response (header v0): ErrorCode INT16, Mechanisms [STRING].
int check_sasl_handshake(Reader& r) {
  std::int16_t err = r.i16();
  for (std::int32_t n = r.i32(); n > 0 && !r.bad; --n) r.skip(static_cast<std::uint16_t>(r.i16()));
  return r.bad ? -1 : (err != 0);
}

// SaslAuthenticate v2 response (header v1): ErrorCode, ErrorMessage COMPACT_NULLABLE_STRING, AuthBytes
// COMPACT_BYTES, SessionLifetimeMs INT64, tags.
struct SaslAuthenticateResult {
  int errors = 0;
  std::string message;     // the server's error message, when it refused
  std::string auth_bytes;  // the mechanism's server message
};
SaslAuthenticateResult check_sasl_authenticate(Reader& r) {
  SaslAuthenticateResult a;
  r.tags();
  a.errors = r.i16() != 0;
  a.message = std::string(r.compact_string());
  a.auth_bytes = std::string(r.compact_string());
  r.i64();
  r.tags();
  if (r.bad) a.errors = -1;
  return a;
}

struct MetadataResult {
  int errors = 0;
  std::array<std::uint8_t, 16> topic_id{};
  int partitions = 0;
};
MetadataResult check_metadata(Reader& r) {
  MetadataResult m;
  r.tags();
  r.i32();  // throttle
  for (std::uint64_t b = r.array_count(); b > 0 && !r.bad; --b) {
    r.i32(); r.skip_compact(); r.i32(); r.skip_compact(); r.tags();
  }
  r.skip_compact();  // cluster id
  r.i32();           // controller
  for (std::uint64_t t = r.array_count(); t > 0 && !r.bad; --t) {
    m.errors += r.i16() != 0;
    r.skip_compact();
    if (r.need(16)) { std::memcpy(m.topic_id.data(), r.p + r.pos, 16); r.pos += 16; }
    r.i8();
    for (std::uint64_t p = r.array_count(); p > 0 && !r.bad; --p) {
      m.errors += r.i16() != 0;
      r.i32(); r.i32(); r.i32();
      for (int a = 0; a < 3; ++a) for (std::uint64_t k = r.array_count(); k > 0 && !r.bad; --k) r.i32();
      r.tags();
      ++m.partitions;
    }
    r.i32();
    r.tags();
  }
  r.tags();
  if (r.bad) m.errors = -1;
  return m;
}

struct FetchResult {
  int errors = 0;
  std::int64_t high_watermark = -1, log_start = -1;
  std::int64_t first_base_offset = -1, next_offset = -1;  // of the returned records
  std::size_t record_bytes = 0;
};
FetchResult check_fetch(Reader& r, int version) {
  FetchResult f;
  r.tags();
  r.i32();
  f.errors += r.i16() != 0;
  r.i32();
  for (std::uint64_t t = r.array_count(); t > 0 && !r.bad; --t) {
    if (version >= 13) r.skip(16);
    else r.skip_compact();
    for (std::uint64_t p = r.array_count(); p > 0 && !r.bad; --p) {
      r.i32();
      f.errors += r.i16() != 0;
      f.high_watermark = r.i64();
      r.i64();
      f.log_start = r.i64();
      for (std::uint64_t a = r.array_count(); a > 0 && !r.bad; --a) { r.i64(); r.i64(); r.tags(); }
      r.i32();
      std::size_t len = r.compact_len();
      if (r.need(len)) {
        f.record_bytes += len;
        // Walk the batches: baseOffset(8) batchLength(4), then lastOffsetDelta 11 bytes in.
        Reader b{r.p + r.pos, len};
        while (b.n - b.pos >= 27) {
          std::int64_t base = b.i64();
          std::int32_t batch_len = b.i32();
          if (batch_len < 15 || b.n - b.pos < static_cast<std::size_t>(batch_len)) break;  // partial trailing batch
          Reader h{b.p + b.pos, static_cast<std::size_t>(batch_len)};
          h.skip(11);
          std::int32_t last_delta = h.i32();
          if (f.first_base_offset < 0) f.first_base_offset = base;
          f.next_offset = base + last_delta + 1;
          b.skip(static_cast<std::size_t>(batch_len));
        }
        r.pos += len;
      }
      r.tags();
    }
    r.tags();
  }
  r.tags();
  if (r.bad) f.errors = -1;
  return f;
}

// ---------------------------------------------------------------------------
struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  bool tls = false;
  std::string sni;
  std::string ciphersuites = "TLS_AES_128_GCM_SHA256";
  std::string workload = "ping";
  int connections = 1;
  int pipeline = 1;
  double duration = 5;
  double warmup = 1;
  std::string topic = "bench";
  int partition = 0;
  int records = 16;
  int record_bytes = 1024;
  int count = 0;  // fill: batches
  bool resume = false;
  int fetch_version = 16;  // 12: topics by name
  int fetch_max_bytes = 64 << 20;
  int ramp = 128;  // idle: connections being set up at once
  std::string sasl;           // session: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty = no authentication
  std::string sasl_user;
  std::string sasl_password;  // read from --sasl-password-file
  std::string cert, key;      // client certificate chain and key (PEM), for mTLS
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "kload: %s\n", msg.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--host") o.host = val();
    else if (a == "--port") o.port = std::stoi(val());
    else if (a == "--tls") o.tls = true;
    else if (a == "--sni") o.sni = val();
    else if (a == "--ciphersuites") o.ciphersuites = val();
    else if (a == "--workload") o.workload = val();
    else if (a == "--connections") o.connections = std::stoi(val());
    else if (a == "--pipeline") o.pipeline = std::stoi(val());
    else if (a == "--duration") o.duration = std::stod(val());
    else if (a == "--warmup") o.warmup = std::stod(val());
    else if (a == "--topic") o.topic = val();
    else if (a == "--partition") o.partition = std::stoi(val());
    else if (a == "--records") o.records = std::stoi(val());
    else if (a == "--record-bytes") o.record_bytes = std::stoi(val());
    else if (a == "--count") o.count = std::stoi(val());
    else if (a == "--resume") o.resume = true;
    else if (a == "--fetch-max-bytes") o.fetch_max_bytes = std::stoi(val());
    else if (a == "--fetch-version") {
      o.fetch_version = std::stoi(val());
      if (o.fetch_version != 12 && o.fetch_version != 16) die("--fetch-version: 12 or 16");
    }
    else if (a == "--ramp") o.ramp = std::stoi(val());
    else if (a == "--sasl") o.sasl = val();
    else if (a == "--sasl-user") o.sasl_user = val();
    else if (a == "--sasl-password-file") {
      const std::string path = val();
      std::ifstream f(path);
      if (!f || !std::getline(f, o.sasl_password)) die("cannot read --sasl-password-file " + path);
    }
    else if (a == "--cert") o.cert = val();
    else if (a == "--key") o.key = val();
    else die("unknown option " + a);
  }
  if (!o.sasl.empty() && o.sasl != "PLAIN" && !kedge::scram::hash_of_mechanism(o.sasl))
    die("--sasl takes PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512");
  if (!o.sasl.empty() && (o.sasl_user.empty() || o.sasl_password.empty()))
    die("--sasl needs --sasl-user and --sasl-password-file");
  if (o.cert.empty() != o.key.empty()) die("--cert and --key go together");
  if (o.port <= 0) die("--port is required");
  if (o.connections < 1 || o.pipeline < 1) die("--connections and --pipeline must be >= 1");
  return o;
}

// ---------------------------------------------------------------------------
struct Stats {
  std::uint64_t requests = 0, errors = 0, malformed = 0, bytes_sent = 0, bytes_received = 0;
  std::uint64_t payload_bytes = 0;  // record bytes produced or fetched
  std::uint64_t handshakes = 0, resumed = 0, connect_failures = 0;
  std::uint64_t client_certificates_sent = 0;   // full handshakes in which the server asked for our certificate
  std::uint64_t sessions = 0, authentications = 0;  // session workload: connections done, SASL successes
  std::vector<std::uint32_t> latency_us;
  std::vector<std::uint32_t> session_us;  // session workload: connect() to the Metadata response
};

// The steps of the session workload, in order (authentication only with --sasl).
enum class Step : std::uint8_t { api_versions, sasl_handshake, sasl_authenticate, metadata, done };

struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;
  enum class State { unopened, connecting, handshaking, ready, closed } state = State::unopened;
  Bytes out;               // pending bytes to send
  std::size_t out_off = 0;
  Bytes in;                // received bytes not yet parsed
  std::deque<std::pair<std::int16_t, Clock::time_point>> inflight;  // api key, send time
  std::int32_t next_correlation = 1;
  std::size_t fetch_cursor = 0;  // index into the fetch plan
  int slot = 0;
  bool want_write = false;
  bool certificate_requested = false;  // the server sent a CertificateRequest (mTLS)
  // session workload
  Step step = Step::api_versions;
  Clock::time_point opened_at{};
  int sasl_round = 0;             // SaslAuthenticate responses received
  std::string sasl_message;       // the next SaslAuthenticate's AuthBytes
  std::string client_first_bare;  // SCRAM: "n=<user>,r=<nonce>"
  std::string client_nonce;
  std::string server_signature;   // SCRAM: what server-final must prove (raw bytes)
};

class Loader {
 public:
  explicit Loader(Options o) : o_(std::move(o)) {
    ep_ = epoll_create1(0);
    if (o_.tls) {
      ctx_ = SSL_CTX_new(TLS_client_method());
      SSL_CTX_set_min_proto_version(ctx_, TLS1_3_VERSION);
      if (SSL_CTX_set_ciphersuites(ctx_, o_.ciphersuites.c_str()) != 1) die("bad --ciphersuites");
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);  // same cert everywhere; verification is not measured
      SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
      if (!o_.cert.empty()) {
        if (SSL_CTX_use_certificate_chain_file(ctx_, o_.cert.c_str()) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx_, o_.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx_) != 1) {
          die("cannot load the client certificate " + o_.cert + " / " + o_.key);
        }
        // A client's cert_cb runs when the server's CertificateRequest arrives (and only then): it marks
        // the connection, so a handshake the server completed without asking is caught.
        SSL_CTX_set_cert_cb(ctx_, [](SSL* ssl, void*) -> int {
          auto* conn = static_cast<Conn*>(SSL_get_ex_data(ssl, conn_index()));
          if (conn) conn->certificate_requested = true;
          return 1;
        }, nullptr);
      }
      SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
      SSL_CTX_sess_set_new_cb(ctx_, [](SSL* ssl, SSL_SESSION* sess) -> int {
        auto* self = static_cast<Loader*>(SSL_get_app_data(ssl));
        if (self->session_) SSL_SESSION_free(self->session_);
        self->session_ = sess;
        return 1;  // we keep the reference
      });
    }
  }

  int run();

 private:
  static int conn_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
  }
  bool on_sasl_response(Conn& c, std::int16_t key, Reader& r);
  const kedge::scram::Keys* scram_keys(std::string_view salt, std::uint32_t iterations);
  void open(Conn& c);
  void close_conn(Conn& c);
  void on_event(Conn& c, std::uint32_t events);
  void start_tls_or_ready(Conn& c);
  bool do_handshake(Conn& c);
  bool flush(Conn& c);
  bool read_some(Conn& c);
  void parse_responses(Conn& c);
  void on_response(Conn& c, std::int16_t key, Reader& r, Clock::time_point sent);
  void fill_pipeline(Conn& c);
  void enqueue(Conn& c, std::int16_t key, const Bytes& frame);
  void update_interest(Conn& c);
  void prepare();  // synchronous setup on a first connection (topic id, fetch plan)

  Options o_;
  int ep_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL_SESSION* session_ = nullptr;
  std::vector<Conn> conns_;
  Stats st_;
  bool measuring_ = false;
  bool stop_ = false;
  Bytes produce_frame_, api_frame_, metadata_frame_, sasl_handshake_frame_;
  // SCRAM: the keys derived from SaltedPassword, per (salt, iterations). A real client may run PBKDF2 on
  // every connection; kload derives them once so that its own CPU measures the connection, not Hi().
  std::map<std::pair<std::string, std::uint32_t>, kedge::scram::Keys> scram_keys_;
  std::array<std::uint8_t, 16> topic_id_{};
  std::vector<std::int64_t> fetch_plan_;  // base offsets of the batches to cycle over
  int filled_ = 0;
  std::uint64_t ready_count_ = 0;
  std::string fatal_;
};

void Loader::open(Conn& c) {
  c = Conn{.slot = c.slot};
  c.opened_at = Clock::now();
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) die(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(o_.port));
  inet_pton(AF_INET, o_.host.c_str(), &addr.sin_addr);
  int rc = connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (rc < 0 && errno != EINPROGRESS) {
    ++st_.connect_failures;
    ::close(c.fd);
    c.fd = -1;
    c.state = Conn::State::closed;
    return;
  }
  c.state = Conn::State::connecting;
  epoll_event ev{};
  ev.events = EPOLLOUT | EPOLLIN;
  ev.data.u32 = static_cast<std::uint32_t>(c.slot);
  epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
  c.want_write = true;
}

void Loader::close_conn(Conn& c) {
  if (c.ssl) {
    // close_notify first, as a TLS client closing cleanly does (librdkafka too). Freed without it, OpenSSL
    // takes the connection for a failed one and marks its session, the one the last NewSessionTicket
    // produced and --resume offers next, not resumable: "resumed" handshakes were then mostly full ones.
    if (c.state == Conn::State::ready) SSL_shutdown(c.ssl);  // non-blocking: sends the alert, does not wait
    SSL_free(c.ssl);
    c.ssl = nullptr;
  }
  if (c.fd >= 0) { epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr); ::close(c.fd); c.fd = -1; }
  c.state = Conn::State::closed;
}

void Loader::update_interest(Conn& c) {
  bool want = c.state == Conn::State::connecting || c.out_off < c.out.size() || c.want_write;
  epoll_event ev{};
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
  ev.data.u32 = static_cast<std::uint32_t>(c.slot);
  epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
}

void Loader::start_tls_or_ready(Conn& c) {
  if (ctx_) {
    c.ssl = SSL_new(ctx_);
    SSL_set_app_data(c.ssl, this);
    SSL_set_ex_data(c.ssl, conn_index(), &c);
    SSL_set_fd(c.ssl, c.fd);
    if (!o_.sni.empty()) SSL_set_tlsext_host_name(c.ssl, o_.sni.c_str());
    if (o_.resume && session_) SSL_set_session(c.ssl, session_);
    SSL_set_connect_state(c.ssl);
    c.state = Conn::State::handshaking;
  } else {
    c.state = Conn::State::ready;
    c.want_write = false;
  }
}

bool Loader::do_handshake(Conn& c) {
  int rc = SSL_do_handshake(c.ssl);
  if (rc == 1) {
    c.state = Conn::State::ready;
    c.want_write = false;
    const bool reused = SSL_session_reused(c.ssl);
    if (!o_.cert.empty() && !reused && !c.certificate_requested) {
      fatal_ = "the server completed a full handshake without asking for the client certificate (no mTLS)";
      return false;
    }
    if (measuring_) {
      ++st_.handshakes;
      if (reused) ++st_.resumed;
      if (c.certificate_requested) ++st_.client_certificates_sent;
    }
    return true;
  }
  int err = SSL_get_error(c.ssl, rc);
  if (err == SSL_ERROR_WANT_READ) { c.want_write = false; return true; }
  if (err == SSL_ERROR_WANT_WRITE) { c.want_write = true; return true; }
  fatal_ = "TLS handshake failed: SSL_get_error " + std::to_string(err) + " " +
           ERR_error_string(ERR_get_error(), nullptr);
  return false;
}

bool Loader::flush(Conn& c) {
  while (c.out_off < c.out.size()) {
    const std::uint8_t* p = c.out.data() + c.out_off;
    std::size_t n = c.out.size() - c.out_off;
    ssize_t w;
    if (c.ssl) {
      int rc = SSL_write(c.ssl, p, static_cast<int>(std::min<std::size_t>(n, 1 << 20)));
      if (rc <= 0) {
        int err = SSL_get_error(c.ssl, rc);
        if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) return true;
        return false;
      }
      w = rc;
    } else {
      w = ::send(c.fd, p, n, MSG_NOSIGNAL);
      if (w < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    c.out_off += static_cast<std::size_t>(w);
    if (measuring_) st_.bytes_sent += static_cast<std::uint64_t>(w);
  }
  c.out.clear();
  c.out_off = 0;
  return true;
}

bool Loader::read_some(Conn& c) {
  static std::uint8_t buf[256 * 1024];
  for (;;) {
    ssize_t n;
    if (c.ssl) {
      int rc = SSL_read(c.ssl, buf, sizeof buf);
      if (rc <= 0) {
        int err = SSL_get_error(c.ssl, rc);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return true;
        return false;
      }
      n = rc;
    } else {
      n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
      if (n == 0) return false;
    }
    c.in.insert(c.in.end(), buf, buf + n);
    if (measuring_) st_.bytes_received += static_cast<std::uint64_t>(n);
    if (static_cast<std::size_t>(n) < sizeof buf && !c.ssl) return true;
  }
}

void Loader::enqueue(Conn& c, std::int16_t key, const Bytes& frame) {
  std::size_t at = c.out.size();
  c.out.insert(c.out.end(), frame.begin(), frame.end());
  std::int32_t corr = c.next_correlation++;
  for (int i = 0; i < 4; ++i) c.out[at + 8 + i] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(corr) >> (8 * (3 - i)));
  c.inflight.emplace_back(key, Clock::now());
}

void Loader::fill_pipeline(Conn& c) {
  if (c.state != Conn::State::ready || stop_) return;
  const std::string& w = o_.workload;
  if (w == "handshake" || w == "idle") {
    if (c.inflight.empty() && c.next_correlation == 1) enqueue(c, kApiVersions, api_frame_);
    return;
  }
  if (w == "session") {
    if (!c.inflight.empty()) return;
    switch (c.step) {
      case Step::api_versions: enqueue(c, kApiVersions, api_frame_); break;
      case Step::sasl_handshake: enqueue(c, kSaslHandshake, sasl_handshake_frame_); break;
      case Step::sasl_authenticate: enqueue(c, kSaslAuthenticate, sasl_authenticate_request(c.sasl_message)); break;
      case Step::metadata: enqueue(c, kMetadata, metadata_frame_); break;
      case Step::done: break;
    }
    return;
  }
  if (w == "fill" && filled_ >= o_.count) return;
  while (static_cast<int>(c.inflight.size()) < o_.pipeline) {
    if (w == "produce" || w == "fill") {
      if (w == "fill" && filled_ + static_cast<int>(c.inflight.size()) >= o_.count) break;
      enqueue(c, kProduce, produce_frame_);
    } else if (w == "fetch") {
      std::int64_t off = fetch_plan_[c.fetch_cursor++ % fetch_plan_.size()];
      enqueue(c, kFetch, fetch_request(o_.fetch_version, topic_id_, o_.topic, o_.partition, off, o_.fetch_max_bytes));
    } else if (w == "metadata") {
      enqueue(c, kMetadata, metadata_frame_);
    } else {
      enqueue(c, kApiVersions, api_frame_);
    }
  }
}

const kedge::scram::Keys* Loader::scram_keys(std::string_view salt, std::uint32_t iterations) {
  auto key = std::make_pair(std::string(salt), iterations);
  auto it = scram_keys_.find(key);
  if (it == scram_keys_.end()) {
    auto keys = kedge::scram::keys_from_password(*kedge::scram::hash_of_mechanism(o_.sasl), o_.sasl_password, salt,
                                                 iterations);
    if (!keys) return nullptr;
    it = scram_keys_.emplace(std::move(key), std::move(*keys)).first;
  }
  return &it->second;
}

// The session workload's SASL steps: false (with fatal_ set) when the server refused or answered something a
// client must not accept; the run then stops, since a refused authentication is not a measured connection.
bool Loader::on_sasl_response(Conn& c, std::int16_t key, Reader& r) {
  namespace scram = kedge::scram;
  if (key == kSaslHandshake) {
    const int errors = check_sasl_handshake(r);
    if (errors != 0) {
      fatal_ = errors < 0 ? "malformed SaslHandshake response" : "SaslHandshake refused " + o_.sasl;
      return false;
    }
    if (o_.sasl == "PLAIN") {
      // RFC 4616: [authzid] NUL authcid NUL passwd.
      c.sasl_message = std::string(1, '\0') + o_.sasl_user + std::string(1, '\0') + o_.sasl_password;
    } else {
      c.client_nonce = scram::random_nonce();
      if (c.client_nonce.empty()) { fatal_ = "RAND_bytes failed"; return false; }
      c.client_first_bare = "n=" + scram::escape_saslname(o_.sasl_user) + ",r=" + c.client_nonce;
      c.sasl_message = "n,," + c.client_first_bare;  // no channel binding, no authzid
    }
    c.step = Step::sasl_authenticate;
    return true;
  }
  SaslAuthenticateResult a = check_sasl_authenticate(r);
  ++c.sasl_round;
  if (a.errors != 0) {
    fatal_ = a.errors < 0 ? "malformed SaslAuthenticate response"
                          : "SaslAuthenticate refused (round " + std::to_string(c.sasl_round) + "): " + a.message;
    return false;
  }
  if (o_.sasl == "PLAIN" || c.sasl_round == 2) {
    if (o_.sasl != "PLAIN") {
      // server-final "v=<ServerSignature>" must prove the server holds ServerKey (RFC 5802 §3).
      auto signature = a.auth_bytes.rfind("v=", 0) == 0 ? scram::base64_decode(std::string_view(a.auth_bytes).substr(2))
                                                       : std::nullopt;
      if (!signature || !scram::equal_secrets(*signature, c.server_signature)) {
        fatal_ = "SCRAM server-final does not carry the expected server signature";
        return false;
      }
    }
    if (measuring_) ++st_.authentications;
    c.step = Step::metadata;
    return true;
  }
  // server-first "r=<nonce>,s=<salt>,i=<iterations>" (RFC 5802 §5.1, no extensions).
  std::string_view server_first = a.auth_bytes, nonce, salt_b64, iterations_text;
  for (std::string_view rest = server_first; !rest.empty();) {
    const std::size_t comma = std::min(rest.find(','), rest.size());
    const std::string_view item = rest.substr(0, comma);
    if (item.rfind("r=", 0) == 0) nonce = item.substr(2);
    else if (item.rfind("s=", 0) == 0) salt_b64 = item.substr(2);
    else if (item.rfind("i=", 0) == 0) iterations_text = item.substr(2);
    rest.remove_prefix(std::min(comma + 1, rest.size()));
  }
  const auto salt = scram::base64_decode(salt_b64);
  std::uint32_t iterations = 0;
  for (const char ch : iterations_text) {
    const bool digit = ch >= '0' && ch <= '9';
    iterations = digit && iterations <= scram::kMaxIterations ? iterations * 10 + static_cast<std::uint32_t>(ch - '0')
                                                              : UINT32_MAX;
  }
  if (nonce.size() <= c.client_nonce.size() || nonce.substr(0, c.client_nonce.size()) != c.client_nonce || !salt ||
      salt->empty() || iterations < scram::kMinIterations || iterations > scram::kMaxIterations) {
    fatal_ = "SCRAM server-first is malformed or unsafe";
    return false;
  }
  const scram::Hash hash = *scram::hash_of_mechanism(o_.sasl);
  const scram::Keys* keys = scram_keys(*salt, iterations);
  const std::string without_proof = "c=biws,r=" + std::string(nonce);  // biws = base64("n,,")
  const std::string auth_message = c.client_first_bare + "," + std::string(server_first) + "," + without_proof;
  const auto client_signature = keys ? scram::hmac(hash, keys->stored_key, auth_message) : std::nullopt;
  const auto proof = client_signature ? scram::xor_bytes(keys->client_key, *client_signature) : std::nullopt;
  const auto server_signature = proof ? scram::hmac(hash, keys->server_key, auth_message) : std::nullopt;
  if (!server_signature) { fatal_ = "computing the SCRAM proof failed (OpenSSL)"; return false; }
  c.server_signature = *server_signature;
  c.sasl_message = without_proof + ",p=" + scram::base64_encode(*proof);
  return true;
}

void Loader::on_response(Conn& c, std::int16_t key, Reader& r, Clock::time_point sent) {
  int errors = 0;
  std::uint64_t payload = 0;
  if (o_.workload == "session") {
    // Every step's answer moves the connection on, warm-up or not.
    if (key == kSaslHandshake || key == kSaslAuthenticate) {
      if (!on_sasl_response(c, key, r)) { stop_ = true; if (measuring_) ++st_.errors; return; }
    } else if (key == kApiVersions) {
      errors = check_api_versions(r);
      c.step = o_.sasl.empty() ? Step::metadata : Step::sasl_handshake;
    } else if (key == kMetadata) {
      MetadataResult m = check_metadata(r);
      errors = m.errors == 0 && m.partitions == 0 ? 1 : m.errors;  // the topic must be there
      c.step = Step::done;
      if (measuring_ && errors == 0) {
        ++st_.sessions;
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - c.opened_at).count();
        st_.session_us.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(us, UINT32_MAX)));
      }
    }
    if (errors != 0) c.step = Step::done;  // counted below; the connection is not carried on
  } else switch (key) {
    case kProduce: errors = check_produce(r); payload = produce_frame_.size(); if (errors == 0) ++filled_; break;
    case kApiVersions: errors = check_api_versions(r); break;
    case kMetadata: errors = check_metadata(r).errors; break;
    case kFetch: {
      FetchResult f = check_fetch(r, o_.fetch_version);
      errors = f.errors;
      std::int64_t asked = fetch_plan_.empty() ? -1 : fetch_plan_[(c.fetch_cursor - c.inflight.size() - 1) % fetch_plan_.size()];
      if (errors == 0 && (f.record_bytes == 0 || f.first_base_offset != asked)) errors = 1;  // not the batch asked for
      payload = f.record_bytes;
      break;
    }
  }
  if (!measuring_) return;
  ++st_.requests;
  if (errors < 0) ++st_.malformed;
  else if (errors > 0) st_.errors += static_cast<std::uint64_t>(errors);
  st_.payload_bytes += payload;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent).count();
  st_.latency_us.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(us, UINT32_MAX)));
}

void Loader::parse_responses(Conn& c) {
  std::size_t pos = 0;
  while (c.in.size() - pos >= 4) {
    std::uint32_t size = (std::uint32_t{c.in[pos]} << 24) | (std::uint32_t{c.in[pos + 1]} << 16) |
                         (std::uint32_t{c.in[pos + 2]} << 8) | c.in[pos + 3];
    if (size > (256u << 20) || size < 4) { fatal_ = "bad response frame size"; stop_ = true; return; }
    if (c.in.size() - pos - 4 < size) break;
    Reader r{c.in.data() + pos + 4, size};
    std::int32_t corr = r.i32();
    if (c.inflight.empty()) { fatal_ = "response with nothing in flight"; stop_ = true; return; }
    auto [key, sent] = c.inflight.front();
    std::int32_t expected = c.next_correlation - static_cast<std::int32_t>(c.inflight.size());
    if (corr != expected) { fatal_ = "correlation mismatch"; stop_ = true; return; }
    c.inflight.pop_front();
    on_response(c, key, r, sent);
    pos += 4 + size;
  }
  c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(pos));
}

void Loader::on_event(Conn& c, std::uint32_t events) {
  if (c.state == Conn::State::connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) { ++st_.connect_failures; close_conn(c); return; }
    if (!(events & (EPOLLOUT | EPOLLIN))) return;
    start_tls_or_ready(c);
  }
  if (c.state == Conn::State::handshaking) {
    if (!do_handshake(c)) { close_conn(c); stop_ = true; return; }
  }
  if (c.state == Conn::State::ready) {
    fill_pipeline(c);
    if (!flush(c)) { fatal_ = "write failed (peer closed?)"; close_conn(c); stop_ = true; return; }
    if (!read_some(c)) {
      if (!stop_) fatal_ = "connection closed by peer";
      parse_responses(c);
      close_conn(c);
      stop_ = true;
      return;
    }
    parse_responses(c);
    fill_pipeline(c);
    if (!flush(c)) { fatal_ = "write failed"; close_conn(c); stop_ = true; return; }
    if (o_.workload == "session" && c.inflight.empty() && c.step == Step::done) {
      close_conn(c);
      open(c);
      return;
    }
    if (o_.workload == "handshake" && c.inflight.empty() && c.next_correlation > 1) {
      // One round trip done: close and start over on the same slot.
      close_conn(c);
      open(c);
      return;
    }
    if (o_.workload == "idle" && c.inflight.empty() && c.next_correlation == 2) {
      ++ready_count_;
      c.next_correlation = 3;  // counted once
    }
  }
  if (c.fd >= 0) update_interest(c);
}

// A JSON string's content: the fatal text may quote a server's error message.
std::string json_escaped(std::string_view text) {
  std::string out;
  for (const char ch : text) {
    if (ch == '"' || ch == '\\') { out += '\\'; out += ch; }
    else if (static_cast<unsigned char>(ch) < 0x20) { char u[8]; std::snprintf(u, sizeof u, "\\u%04x", ch); out += u; }
    else out += ch;
  }
  return out;
}

int Loader::run() {
  api_frame_ = api_versions_request();
  metadata_frame_ = metadata_request(o_.topic);
  if (!o_.sasl.empty()) sasl_handshake_frame_ = sasl_handshake_request(o_.sasl);
  if (o_.workload == "produce" || o_.workload == "fill") {
    produce_frame_ = produce_request(o_.topic, o_.partition, record_batch(o_.records, o_.record_bytes));
  }
  if (o_.workload == "fill") o_.connections = 1;
  if (o_.workload == "fetch") prepare();
  if (!fatal_.empty()) die(fatal_);

  conns_.resize(static_cast<std::size_t>(o_.connections));
  // idle opens connections in waves of --ramp (a burst of 10k SYNs overflows listen backlogs).
  std::size_t opened = 0;
  auto open_more = [&] {
    const std::size_t limit = o_.workload == "idle" ? ready_count_ + static_cast<std::size_t>(o_.ramp) : conns_.size();
    while (opened < conns_.size() && opened < limit) { conns_[opened].slot = static_cast<int>(opened); open(conns_[opened]); ++opened; }
  };
  open_more();

  const bool timed = o_.workload != "fill" && o_.workload != "idle";
  const auto t0 = Clock::now();
  auto measure_start = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.warmup));
  auto measure_end = measure_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.duration));
  if (!timed) { measuring_ = true; measure_start = t0; }
  bool announced = false;
  std::vector<epoll_event> events(1024);
  while (!stop_) {
    auto now = Clock::now();
    if (timed && !measuring_ && now >= measure_start) {
      measuring_ = true;
      measure_start = now;
      measure_end = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.duration));
    }
    if (timed && measuring_ && now >= measure_end) break;
    if (o_.workload == "fill" && filled_ >= o_.count) break;
    if (o_.workload == "idle" && !announced && ready_count_ == conns_.size()) {
      announced = true;
      std::printf("READY %zu\n", conns_.size());
      std::fflush(stdout);
    }
    if (o_.workload == "idle" && announced) {
      pollfd in{0, POLLIN, 0};
      if (poll(&in, 1, 200) > 0) break;  // stdin closed or a line: done
      continue;
    }
    open_more();
    int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 50);
    for (int i = 0; i < n && !stop_; ++i) {
      Conn& c = conns_[events[i].data.u32];
      if (c.fd < 0) continue;
      on_event(c, events[i].events);
    }
    if ((o_.workload == "handshake" || o_.workload == "session") && !stop_) {
      for (auto& c : conns_) if (c.state == Conn::State::closed && c.fd < 0) open(c);
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - measure_start).count();
  auto percentile = [](std::vector<std::uint32_t>& v, double q) -> double {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    std::size_t idx = std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())));
    return v[idx];
  };
  auto pct = [&](double q) { return percentile(st_.latency_us, q); };
  std::printf(
      "{\"workload\":\"%s\",\"tls\":%s,\"connections\":%d,\"pipeline\":%d,\"seconds\":%.3f,"
      "\"requests\":%llu,\"errors\":%llu,\"malformed\":%llu,\"connect_failures\":%llu,"
      "\"requests_per_s\":%.1f,\"payload_MBps\":%.2f,\"wire_out_MBps\":%.2f,\"wire_in_MBps\":%.2f,"
      "\"handshakes\":%llu,\"resumed\":%llu,\"handshakes_per_s\":%.1f,"
      "\"client_certificates_sent\":%llu,\"sessions\":%llu,\"sessions_per_s\":%.1f,\"authentications\":%llu,"
      "\"session_p50_us\":%.0f,\"session_p99_us\":%.0f,"
      "\"lat_p50_us\":%.0f,\"lat_p99_us\":%.0f,\"lat_p999_us\":%.0f,\"fatal\":\"%s\"}\n",
      o_.workload.c_str(), o_.tls ? "true" : "false", o_.connections, o_.pipeline, secs,
      (unsigned long long)st_.requests, (unsigned long long)st_.errors, (unsigned long long)st_.malformed,
      (unsigned long long)st_.connect_failures, st_.requests / secs, st_.payload_bytes / secs / 1e6,
      st_.bytes_sent / secs / 1e6, st_.bytes_received / secs / 1e6, (unsigned long long)st_.handshakes,
      (unsigned long long)st_.resumed, st_.handshakes / secs, (unsigned long long)st_.client_certificates_sent,
      (unsigned long long)st_.sessions, st_.sessions / secs, (unsigned long long)st_.authentications,
      percentile(st_.session_us, 0.5), percentile(st_.session_us, 0.99), pct(0.5), pct(0.99), pct(0.999),
      json_escaped(fatal_).c_str());
  for (auto& c : conns_) close_conn(c);
  const bool ok = fatal_.empty() && st_.errors == 0 && st_.malformed == 0 && st_.requests > 0 &&
                  (o_.workload != "session" || st_.sessions > 0);
  return ok ? 0 : 1;
}

// Synchronous helper for setup: one blocking exchange on a fresh connection.
void Loader::prepare() {
  // Reuse the event loop machinery on a single temporary connection.
  Options saved = o_;
  conns_.assign(1, Conn{});
  open(conns_[0]);
  Conn& c = conns_[0];
  auto exchange = [&](std::int16_t key, const Bytes& frame, Bytes& response) -> bool {
    enqueue(c, key, frame);
    if (c.state == Conn::State::ready && !flush(c)) { fatal_ = "setup write failed"; return false; }
    if (c.fd >= 0) update_interest(c);
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      epoll_event ev[4];
      int n = epoll_wait(ep_, ev, 4, 100);
      for (int i = 0; i < n; ++i) {
        if (c.state == Conn::State::connecting) {
          int err = 0; socklen_t len = sizeof err;
          getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err) { fatal_ = "setup connect failed"; return false; }
          start_tls_or_ready(c);
        }
        if (c.state == Conn::State::handshaking && !do_handshake(c)) return false;
        if (c.state != Conn::State::ready) continue;
        if (!flush(c) || !read_some(c)) { fatal_ = "setup connection closed"; return false; }
        if (c.in.size() >= 4) {
          std::uint32_t size = (std::uint32_t{c.in[0]} << 24) | (std::uint32_t{c.in[1]} << 16) |
                               (std::uint32_t{c.in[2]} << 8) | c.in[3];
          if (c.in.size() >= 4 + size) {
            response.assign(c.in.begin() + 4, c.in.begin() + 4 + size);
            c.in.erase(c.in.begin(), c.in.begin() + 4 + size);
            c.inflight.pop_front();
            return true;
          }
        }
      }
      if (c.fd >= 0) update_interest(c);
    }
    fatal_ = "setup: no response within 10 s";
    return false;
  };
  Bytes resp;
  if (!exchange(kMetadata, metadata_frame_, resp)) return;
  Reader r{resp.data() + 4, resp.size() - 4};
  MetadataResult m = check_metadata(r);
  if (m.errors != 0 || m.partitions == 0) { fatal_ = "setup: Metadata for topic failed"; return; }
  topic_id_ = m.topic_id;
  // Scan the partition: one batch per Fetch (the mock returns one message set per partition).
  std::int64_t offset = 0;
  for (int guard = 0; guard < 100000; ++guard) {
    if (!exchange(kFetch, fetch_request(o_.fetch_version, topic_id_, o_.topic, o_.partition, offset, o_.fetch_max_bytes), resp)) return;
    Reader fr{resp.data() + 4, resp.size() - 4};
    FetchResult f = check_fetch(fr, o_.fetch_version);
    if (f.errors == -1) { fatal_ = "setup: malformed Fetch response"; return; }
    if (f.errors > 0 && offset == 0 && f.log_start > 0) { offset = f.log_start; continue; }  // log trimmed
    if (f.errors > 0) { fatal_ = "setup: Fetch error"; return; }
    if (f.record_bytes == 0 || f.next_offset <= offset) break;
    fetch_plan_.push_back(f.first_base_offset);
    offset = f.next_offset;
    if (offset >= f.high_watermark) break;
  }
  if (fetch_plan_.empty()) fatal_ = "setup: the partition holds no data to fetch (run --workload fill first)";
  close_conn(c);
  conns_.clear();
  o_ = saved;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  // A peer that closes mid-write must become a reported error (EPIPE), not kill kload (SSL_write and
  // send on a plain fd would raise SIGPIPE).
  std::signal(SIGPIPE, SIG_IGN);
  if (o.workload == "idle") {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  static const char* kWorkloads[] = {"produce", "fill", "fetch", "metadata", "ping", "handshake", "idle", "session"};
  if (std::none_of(std::begin(kWorkloads), std::end(kWorkloads), [&](const char* w) { return o.workload == w; }))
    die("unknown --workload " + o.workload);
  if (o.workload == "handshake" && !o.tls) die("--workload handshake needs --tls");
  if (!o.sasl.empty() && o.workload != "session") die("--sasl goes with --workload session");
  if (!o.cert.empty() && !o.tls) die("--cert needs --tls");
  Loader loader(std::move(o));
  return loader.run();
}
