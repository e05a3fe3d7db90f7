// rdkload — librdkafka (2.12) as the reference client of bench/http_front.py: it consumes and produces the same
// data as httpload does over kedge's HTTP front, through kedge's Kafka path (TLS, SNI routing).
//
//   consume --bootstrap HOST:PORT --topic T --partitions P [--tls]
//       assigns partitions 0..P-1 at offset 0 (no group coordination, no commits), reads each up to its high
//       watermark (asked first), counts key+value bytes. Timed from the assign to the last record.
//   produce --bootstrap HOST:PORT --topic T --partitions P --count N --record-bytes B [--tls]
//       N records of B bytes (value only, record i to partition i % P), acks=all (librdkafka's default and what
//       kedge's REST produce asks), timed from the first producev to the last delivery report; every delivery
//       must succeed.
//   -X k=v  any other librdkafka property.
// Every broker name resolves to --connect-host (127.0.0.1; resolve_cb), so the names kedge advertises
// (broker-N.<domain>) reach kedge with the right SNI without a DNS entry.
// Output: one JSON object on stdout.
#include <librdkafka/rdkafka.h>
#include <netdb.h>
#include <sys/resource.h>
#include <arpa/inet.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode, bootstrap, topic, connect_host = "127.0.0.1";
  int partitions = 1;
  long count = 0;
  int record_bytes = 100;
  bool tls = false;
  std::vector<std::pair<std::string, std::string>> properties;
};

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "rdkload: %s\n", why.c_str());
  std::exit(2);
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string g_connect_host;

int resolve_to_connect_host(const char* node, const char* service, const struct addrinfo* hints,
                            struct addrinfo** res, void*) {
  if (node == nullptr) return getaddrinfo(node, service, hints, res);
  return getaddrinfo(g_connect_host.c_str(), service, hints, res);
}

rd_kafka_conf_t* make_conf(const Options& o) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const std::string& k, const std::string& v) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) die(k + ": " + err);
  };
  set("bootstrap.servers", o.bootstrap);
  if (o.tls) {
    set("security.protocol", "SSL");
    set("enable.ssl.certificate.verification", "false");
    set("ssl.endpoint.identification.algorithm", "none");
  }
  for (const auto& [k, v] : o.properties) set(k, v);
  g_connect_host = o.connect_host;
  rd_kafka_conf_set_resolve_cb(conf, resolve_to_connect_host);
  return conf;
}

int run_consume(const Options& o) {
  rd_kafka_conf_t* conf = make_conf(o);
  char err[512];
  rd_kafka_conf_set(conf, "group.id", "rdkload-bench", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.partition.eof", "false", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (rk == nullptr) die(err);
  rd_kafka_poll_set_consumer(rk);
  std::vector<std::int64_t> end(static_cast<std::size_t>(o.partitions), 0), next(end);
  std::int64_t left = 0;
  for (int p = 0; p < o.partitions; ++p) {
    std::int64_t low = 0, high = 0;
    const rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, o.topic.c_str(), p, &low, &high, 10000);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) die(std::string("watermarks: ") + rd_kafka_err2str(e));
    end[static_cast<std::size_t>(p)] = high;
    left += high;
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(o.partitions);
  for (int p = 0; p < o.partitions; ++p)
    rd_kafka_topic_partition_list_add(list, o.topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::int64_t records = 0, bytes = 0, errors = 0, out_of_order = 0;
  const auto deadline = t0 + std::chrono::seconds(300);
  std::string error;
  while (left > 0 && Clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr) continue;
    if (m->err) {
      errors++;
      if (error.empty()) error = rd_kafka_message_errstr(m);
    } else {
      const auto p = static_cast<std::size_t>(m->partition);
      if (m->offset != next[p]) out_of_order++;
      next[p] = m->offset + 1;
      if (next[p] <= end[p]) left--;
      records++;
      bytes += static_cast<std::int64_t>(m->len + m->key_len);
    }
    rd_kafka_message_destroy(m);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  if (left > 0 && error.empty()) error = "timed out with " + std::to_string(left) + " records left";
  for (auto& c : error)
    if (c == '"' || c == '\\') c = '\'';
  std::printf("{\"mode\":\"consume\",\"librdkafka\":\"%s\",\"records\":%lld,\"bytes\":%lld,\"seconds\":%.4f,"
              "\"payload_MBps\":%.2f,\"errors\":%lld,\"out_of_order\":%lld,\"client_cpu_s\":%.3f,"
              "\"client_cpu_pct\":%.1f,\"error\":\"%s\"}\n",
              rd_kafka_version_str(), static_cast<long long>(records), static_cast<long long>(bytes), seconds,
              static_cast<double>(bytes) / 1e6 / seconds, static_cast<long long>(errors),
              static_cast<long long>(out_of_order), cpu, 100.0 * cpu / seconds, error.c_str());
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return left == 0 && errors == 0 && out_of_order == 0 ? 0 : 1;
}

struct Delivered {
  long ok = 0, failed = 0;
  std::string error;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* d = static_cast<Delivered*>(opaque);
  if (m->err) {
    d->failed++;
    if (d->error.empty()) d->error = rd_kafka_err2str(m->err);
  } else {
    d->ok++;
  }
}

int run_produce(const Options& o) {
  rd_kafka_conf_t* conf = make_conf(o);
  Delivered delivered;
  rd_kafka_conf_set_opaque(conf, &delivered);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) die(err);
  // Connections and metadata first (not timed), as a running producer has them.
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* topic = rd_kafka_topic_new(rk, o.topic.c_str(), nullptr);
  if (rd_kafka_metadata(rk, 0, topic, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) die("metadata failed");
  rd_kafka_metadata_destroy(md);
  // The same values as httpload's REST bodies: record i is record_bytes of 'a' + i % 26 ... per batch of 100;
  // the bytes do not matter to either path (no compression), only their count.
  std::vector<std::string> values;
  for (int i = 0; i < 26; ++i) values.emplace_back(static_cast<std::size_t>(o.record_bytes), static_cast<char>('a' + i));
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  for (long i = 0; i < o.count; ++i) {
    const std::string& v = values[static_cast<std::size_t>(i % 26)];
    for (;;) {
      const rd_kafka_resp_err_t e = rd_kafka_producev(
          rk, RD_KAFKA_V_RKT(topic), RD_KAFKA_V_PARTITION(static_cast<std::int32_t>(i % o.partitions)),
          RD_KAFKA_V_VALUE(const_cast<char*>(v.data()), v.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk, 1);
        continue;
      }
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) die(std::string("producev: ") + rd_kafka_err2str(e));
      break;
    }
    if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
  }
  rd_kafka_flush(rk, 120000);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  std::printf("{\"mode\":\"produce\",\"librdkafka\":\"%s\",\"records\":%ld,\"failed\":%ld,\"seconds\":%.4f,"
              "\"records_per_s\":%.1f,\"client_cpu_s\":%.3f,\"client_cpu_pct\":%.1f,\"error\":\"%s\"}\n",
              rd_kafka_version_str(), delivered.ok, delivered.failed, seconds,
              static_cast<double>(delivered.ok) / seconds, cpu, 100.0 * cpu / seconds, delivered.error.c_str());
  rd_kafka_topic_destroy(topic);
  rd_kafka_destroy(rk);
  return delivered.ok == o.count && delivered.failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: rdkload consume|produce --bootstrap B --topic T ...");
  Options o;
  o.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--bootstrap") o.bootstrap = val();
    else if (a == "--topic") o.topic = val();
    else if (a == "--partitions") o.partitions = std::stoi(val());
    else if (a == "--count") o.count = std::stol(val());
    else if (a == "--record-bytes") o.record_bytes = std::stoi(val());
    else if (a == "--connect-host") o.connect_host = val();
    else if (a == "--tls") o.tls = true;
    else if (a == "-X") {
      const std::string kv = val();
      const auto eq = kv.find('=');
      if (eq == std::string::npos) die("-X takes k=v");
      o.properties.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else {
      die("unknown option " + a);
    }
  }
  if (o.bootstrap.empty() || o.topic.empty()) die("--bootstrap and --topic are required");
  if (o.mode == "consume") return run_consume(o);
  if (o.mode == "produce") return o.count > 0 ? run_produce(o) : (die("--count is required"), 2);
  die("mode: consume or produce");
}
