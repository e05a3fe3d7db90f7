// kclient — a librdkafka (C API) verifier client for kedge's integration tests.
//
// Built once per librdkafka version (kclient_rdk20, kclient_rdk212) so the same assertions run
// against the old and the new client. pyclient.py implements the same interface and output.
//
//   produce  --bootstrap B --topic T[,T2...] --count N --prefix P [--timeout-ms MS] [--rate PER_S] [-X k=v ...]
//   consume  --bootstrap B --topic T --group G --expect N --prefix P [--timeout-ms MS]
//            [--linger-ms MS] [-X k=v ...]
//   metadata --bootstrap B [--topic T] [--timeout-ms MS] [-X k=v ...]
//   every subcommand also takes --oauthbearer-token-file F: with -X sasl.mechanisms=OAUTHBEARER, the token
//   librdkafka sends is F's content (a JWT), set from its token refresh callback (rd_kafka_oauthbearer_set_token)
//
// Output contract (stdout; diagnostics go to stderr):
//   produce:  `produce ok=<0|1> delivered=<n> failed=<n> expected=<N> partitions=<p>`
//             With several topics (--topic T1,T2: ONE producer writes the N records to each topic, message i to
//             every topic in turn), first one line per topic:
//             `produce-topic topic=<t> delivered=<n> failed=<n> expected=<N> partitions=<p> errors=<NAME:n,...|none>`
//             (errors: the delivery reports' error names, `enqueue:<NAME>` for records rd_kafka_producev refused
//             at once), then the `produce` line over all topics (expected=<N * topics>, partitions summed). A topic
//             whose Metadata fails is produced to anyway (unassigned partition), so librdkafka itself decides each
//             record's fate: refused by producev (a topic it knows to be unauthorized) or in a delivery report.
//   consume:  `consume ok=<0|1> unique=<n> duplicates=<n> bad=<n> foreign=<n> expected=<N>
//              partitions=<p> commit=<ok|error-name> redelivered=<n>` (redelivered: duplicates read at the
//              same partition/offset as their first copy; the others were written to the log twice)
//   metadata: `broker <id> <host>:<port>` per broker, `topic <name> <partitions>` per topic,
//             `partition <topic> <id> <leader>` per partition, then `metadata ok=1 brokers=<n> topics=<n>`.
// Message i (0 <= i < N) has key and value `P-<i>`; produce pins it to partition i % partitions so every
// partition carries traffic. --rate paces produce to PER_S messages per second (default 0 = as fast as
// possible), so a producer can run through a disruption instead of finishing before it. Exit status is 0 only
// when ok=1.
// A consume that ends short of N prints, on stderr, one `kclient: partition <p>: ...` line per partition: what
// it delivered (records of this prefix, others, last offset) and, when run with -X statistics.interval.ms=MS,
// librdkafka's own state of that partition from its last statistics report (fetch_state, leader, epoch,
// offsets), so a stuck partition shows why.
// Every -X k=v is handed to rd_kafka_conf_set unchanged (e.g. security.protocol=SSL, ssl.ca.location=...).

#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

struct Options {
    std::string command;
    std::string bootstrap;
    std::string topic;
    std::string group;
    std::string prefix;
    long count = -1;
    int timeout_ms = 30000;
    int linger_ms = 1000;
    long rate_per_s = 0;  // produce: messages per second, 0 = unpaced
    std::vector<std::pair<std::string, std::string>> properties;
    std::string oauthbearer_token_file;
};

std::string g_oauthbearer_token_file;  // read by the token refresh callback

[[noreturn]] void usage(const std::string& reason) {
    std::fprintf(stderr,
                 "kclient: %s\n"
                 "usage: kclient produce  --bootstrap B --topic T[,T2...] --count N --prefix P [--timeout-ms MS]"
                 " [--rate PER_S] [-X k=v]...\n"
                 "       kclient consume  --bootstrap B --topic T --group G --expect N --prefix P [--timeout-ms MS]"
                 " [--linger-ms MS] [-X k=v]...\n"
                 "       kclient metadata --bootstrap B [--topic T] [--timeout-ms MS] [-X k=v]...\n",
                 reason.c_str());
    std::exit(2);
}

long parse_number(const char* text, long min, long max, const char* what) {
    char* end = nullptr;
    errno = 0;
    long value = std::strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < min || value > max)
        usage(std::string("bad value for ") + what);
    return value;
}

Options parse_options(int argc, char** argv) {
    if (argc < 2)
        usage("missing subcommand");
    Options options;
    options.command = argv[1];
    for (int i = 2; i < argc; i++) {
        std::string_view arg = argv[i];
        if (i + 1 >= argc)
            usage("missing value after " + std::string(arg));
        const char* value = argv[++i];
        if (arg == "--bootstrap")
            options.bootstrap = value;
        else if (arg == "--topic")
            options.topic = value;
        else if (arg == "--group")
            options.group = value;
        else if (arg == "--prefix")
            options.prefix = value;
        else if (arg == "--count" || arg == "--expect")
            options.count = parse_number(value, 0, 100000000, "--count/--expect");
        else if (arg == "--timeout-ms")
            options.timeout_ms = static_cast<int>(parse_number(value, 1, 3600000, "--timeout-ms"));
        else if (arg == "--rate")
            options.rate_per_s = parse_number(value, 0, 1000000, "--rate");
        else if (arg == "--oauthbearer-token-file")
            options.oauthbearer_token_file = value;
        else if (arg == "--linger-ms")
            options.linger_ms = static_cast<int>(parse_number(value, 0, 600000, "--linger-ms"));
        else if (arg == "-X") {
            const char* equals = std::strchr(value, '=');
            if (equals == nullptr || equals == value)
                usage("-X expects key=value");
            options.properties.emplace_back(std::string(value, equals), std::string(equals + 1));
        } else
            usage("unknown option " + std::string(arg));
    }
    if (options.bootstrap.empty())
        usage("--bootstrap is required");
    if (options.command == "produce" || options.command == "consume") {
        if (options.topic.empty() || options.prefix.empty() || options.count < 0)
            usage("--topic, --prefix and --count/--expect are required");
        if (options.command == "consume" && options.group.empty())
            usage("--group is required");
    } else if (options.command != "metadata") {
        usage("unknown subcommand " + options.command);
    }
    return options;
}

std::string message_text(const std::string& prefix, long index) {
    return prefix + "-" + std::to_string(index);
}

// OAUTHBEARER: hands librdkafka the token in --oauthbearer-token-file. The lifetime given to librdkafka only
// schedules its next refresh (an hour); the gateway judges the token by its own "exp" claim.
void refresh_oauthbearer_token(rd_kafka_t* handle, const char*, void*) {
    std::string token;
    if (FILE* file = std::fopen(g_oauthbearer_token_file.c_str(), "r")) {
        char buffer[8192];
        const std::size_t n = std::fread(buffer, 1, sizeof buffer, file);
        std::fclose(file);
        token.assign(buffer, n);
        while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    }
    char errstr[512];
    const int64_t lifetime_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count() + 3600 * 1000;
    if (token.empty() || rd_kafka_oauthbearer_set_token(handle, token.c_str(), lifetime_ms, "kclient", nullptr, 0,
                                                        errstr, sizeof errstr) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_oauthbearer_set_token_failure(handle, token.empty() ? "no token in --oauthbearer-token-file" : errstr);
    }
}

void log_error(rd_kafka_t*, int err, const char* reason, void*) {
    std::fprintf(stderr, "kclient: client error %s: %s\n", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)),
                 reason);
}

struct TopicTally {
    long delivered = 0;
    long failed = 0;
    std::map<std::string, long> errors;  // error name -> delivery reports
};

struct DeliveryTally {
    long delivered = 0;
    long failed = 0;
    bool per_topic = false;  // several topics: count per topic, name the topic in failure lines
    std::map<std::string, TopicTally> topics;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto* tally = static_cast<DeliveryTally*>(opaque);
    TopicTally* topic = nullptr;
    if (tally->per_topic)
        topic = &tally->topics[message->rkt != nullptr ? rd_kafka_topic_name(message->rkt) : ""];
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        tally->delivered++;
        if (topic != nullptr)
            topic->delivered++;
    } else {
        tally->failed++;
        if (topic == nullptr) {
            if (tally->failed <= 5)
                std::fprintf(stderr, "kclient: delivery failed: %s\n", rd_kafka_err2str(message->err));
        } else {
            topic->failed++;
            topic->errors[rd_kafka_err2name(message->err)]++;
            if (topic->failed <= 5)
                std::fprintf(stderr, "kclient: delivery failed: %s (topic %s)\n", rd_kafka_err2str(message->err),
                             rd_kafka_topic_name(message->rkt));
        }
    }
}

// Builds the configuration: bootstrap, then `defaults`, then every -X (so -X wins); returns nullptr
// (after printing the reason) if a property is rejected.
rd_kafka_conf_t* make_conf(const Options& options,
                           const std::vector<std::pair<std::string, std::string>>& defaults = {}) {
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto set = [&](const std::string& key, const std::string& value) {
        if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
            std::fprintf(stderr, "kclient: config %s=%s: %s\n", key.c_str(), value.c_str(), errstr);
            return false;
        }
        return true;
    };
    bool ok = set("bootstrap.servers", options.bootstrap) && set("client.id", "kedge-kclient");
    for (const auto& [key, value] : defaults)
        ok = ok && set(key, value);
    for (const auto& [key, value] : options.properties)
        ok = ok && set(key, value);
    if (!ok) {
        rd_kafka_conf_destroy(conf);
        return nullptr;
    }
    rd_kafka_conf_set_error_cb(conf, log_error);
    if (!options.oauthbearer_token_file.empty()) {
        g_oauthbearer_token_file = options.oauthbearer_token_file;
        rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, refresh_oauthbearer_token);
        rd_kafka_conf_enable_sasl_queue(conf, 1);  // so make_handle can move the callback to a background thread
    }
    return conf;
}

rd_kafka_t* make_handle(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
    char errstr[512];
    rd_kafka_t* handle = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (handle == nullptr) {
        std::fprintf(stderr, "kclient: rd_kafka_new: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return nullptr;
    }
    // OAUTHBEARER: the token refresh callback otherwise runs only from rd_kafka_poll, and the first
    // Metadata request (before any poll) would wait for a token forever.
    if (!g_oauthbearer_token_file.empty()) {
        if (rd_kafka_error_t* error = rd_kafka_sasl_background_callbacks_enable(handle)) {
            std::fprintf(stderr, "kclient: sasl background callbacks: %s\n", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }
    }
    return handle;
}

// Partition count of one topic from a Metadata request, or nullopt on error / unknown topic.
std::optional<int> partition_count(rd_kafka_t* handle, const std::string& topic_name, int timeout_ms) {
    rd_kafka_topic_t* topic = rd_kafka_topic_new(handle, topic_name.c_str(), nullptr);
    const rd_kafka_metadata_t* metadata = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(handle, 0, topic, &metadata, timeout_ms);
    rd_kafka_topic_destroy(topic);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::fprintf(stderr, "kclient: metadata for %s: %s\n", topic_name.c_str(), rd_kafka_err2str(err));
        return std::nullopt;
    }
    std::optional<int> result;
    for (int i = 0; i < metadata->topic_cnt; i++) {
        const auto& entry = metadata->topics[i];
        if (topic_name == entry.topic && entry.err == RD_KAFKA_RESP_ERR_NO_ERROR && entry.partition_cnt > 0)
            result = entry.partition_cnt;
        else if (topic_name == entry.topic)
            std::fprintf(stderr, "kclient: topic %s: %s\n", entry.topic, rd_kafka_err2str(entry.err));
    }
    rd_kafka_metadata_destroy(metadata);
    return result;
}

std::vector<std::string> split_topics(const std::string& list) {
    std::vector<std::string> topics;
    std::size_t begin = 0;
    for (;;) {
        const std::size_t comma = list.find(',', begin);
        const std::string name = list.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
        if (name.empty())
            usage("--topic: empty topic name in " + list);
        topics.push_back(name);
        if (comma == std::string::npos)
            return topics;
        begin = comma + 1;
    }
}

// Paced producing (--rate): record i is due at started + i/rate; delivery reports are served while waiting.
void wait_until_due(rd_kafka_t* handle, std::chrono::steady_clock::time_point started, long i, long rate_per_s) {
    if (rate_per_s <= 0)
        return;
    const auto due = started + std::chrono::microseconds(i * 1000000 / rate_per_s);
    for (auto now = std::chrono::steady_clock::now(); now < due; now = std::chrono::steady_clock::now())
        rd_kafka_poll(handle, static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(due - now).count()));
}

// Enqueues one record keyed and valued `text`, waiting while librdkafka's queue is full; the enqueue error otherwise.
rd_kafka_resp_err_t enqueue_record(rd_kafka_t* handle, const std::string& topic, int32_t partition,
                                   std::string text) {  // RD_KAFKA_V_KEY/VALUE of librdkafka 2.0 take void*
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            handle, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(text.data(), text.size()),
            RD_KAFKA_V_VALUE(text.data(), text.size()), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return err;
        rd_kafka_poll(handle, 100);
    }
}

void flush_producer(rd_kafka_t* handle, int timeout_ms) {
    rd_kafka_resp_err_t flush_err = rd_kafka_flush(handle, timeout_ms);
    if (flush_err != RD_KAFKA_RESP_ERR_NO_ERROR)
        std::fprintf(stderr, "kclient: flush: %s (%d still queued)\n", rd_kafka_err2str(flush_err),
                     rd_kafka_outq_len(handle));
}

// produce to several topics from ONE producer handle (see the output contract above).
int run_produce_topics(const Options& options, const std::vector<std::string>& topics) {
    DeliveryTally tally;
    tally.per_topic = true;
    rd_kafka_conf_t* conf = make_conf(options);
    if (conf == nullptr)
        return 2;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &tally);
    rd_kafka_t* handle = make_handle(RD_KAFKA_PRODUCER, conf);
    if (handle == nullptr)
        return 2;

    std::vector<std::optional<int>> partitions;
    for (const std::string& topic : topics) {
        partitions.push_back(partition_count(handle, topic, options.timeout_ms));
        tally.topics[topic];  // listed even when nothing is reported
    }
    long enqueue_failures = 0;
    const auto started = std::chrono::steady_clock::now();
    for (long i = 0; i < options.count; i++) {
        wait_until_due(handle, started, i, options.rate_per_s);
        std::string text = message_text(options.prefix, i);
        for (std::size_t t = 0; t < topics.size(); t++) {
            const int32_t partition =
                partitions[t] ? static_cast<int32_t>(i % *partitions[t]) : RD_KAFKA_PARTITION_UA;
            const rd_kafka_resp_err_t err = enqueue_record(handle, topics[t], partition, text);
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                // librdkafka refuses at once a record for a topic it knows to be in error (e.g. Metadata
                // said TOPIC_AUTHORIZATION_FAILED): counted as a failure with the prefix "enqueue:".
                TopicTally& topic = tally.topics[topics[t]];
                topic.failed++;
                long& refused = topic.errors[std::string("enqueue:") + rd_kafka_err2name(err)];
                if (++refused <= 5)
                    std::fprintf(stderr, "kclient: producev (topic %s): %s\n", topics[t].c_str(),
                                 rd_kafka_err2str(err));
                enqueue_failures++;
            }
        }
        rd_kafka_poll(handle, 0);
    }
    flush_producer(handle, options.timeout_ms);
    rd_kafka_destroy(handle);

    int partition_sum = 0;
    for (std::size_t t = 0; t < topics.size(); t++) {
        const TopicTally& topic = tally.topics[topics[t]];
        std::string errors;
        for (const auto& [name, times] : topic.errors)
            errors += (errors.empty() ? "" : ",") + name + ":" + std::to_string(times);
        std::printf("produce-topic topic=%s delivered=%ld failed=%ld expected=%ld partitions=%d errors=%s\n",
                    topics[t].c_str(), topic.delivered, topic.failed, options.count, partitions[t].value_or(0),
                    errors.empty() ? "none" : errors.c_str());
        partition_sum += partitions[t].value_or(0);
    }
    const long expected = options.count * static_cast<long>(topics.size());
    const bool ok = enqueue_failures == 0 && tally.failed == 0 && tally.delivered == expected;
    std::printf("produce ok=%d delivered=%ld failed=%ld expected=%ld partitions=%d\n", ok ? 1 : 0, tally.delivered,
                tally.failed + enqueue_failures, expected, partition_sum);
    return ok ? 0 : 1;
}

int run_produce(const Options& options) {
    if (options.topic.find(',') != std::string::npos)
        return run_produce_topics(options, split_topics(options.topic));
    DeliveryTally tally;
    rd_kafka_conf_t* conf = make_conf(options);
    if (conf == nullptr)
        return 2;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &tally);
    rd_kafka_t* handle = make_handle(RD_KAFKA_PRODUCER, conf);
    if (handle == nullptr)
        return 2;

    std::optional<int> partitions = partition_count(handle, options.topic, options.timeout_ms);
    long enqueue_failures = 0;
    if (partitions) {
        const auto started = std::chrono::steady_clock::now();
        for (long i = 0; i < options.count; i++) {
            wait_until_due(handle, started, i, options.rate_per_s);
            const rd_kafka_resp_err_t err = enqueue_record(handle, options.topic,
                                                           static_cast<int32_t>(i % *partitions),
                                                           message_text(options.prefix, i));
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                std::fprintf(stderr, "kclient: producev: %s\n", rd_kafka_err2str(err));
                enqueue_failures++;
            }
            rd_kafka_poll(handle, 0);
        }
        flush_producer(handle, options.timeout_ms);
    }
    rd_kafka_destroy(handle);

    bool ok = partitions && enqueue_failures == 0 && tally.failed == 0 && tally.delivered == options.count;
    std::printf("produce ok=%d delivered=%ld failed=%ld expected=%ld partitions=%d\n", ok ? 1 : 0, tally.delivered,
                tally.failed + enqueue_failures, options.count, partitions.value_or(0));
    return ok ? 0 : 1;
}

// What one partition delivered to run_consume.
struct PartitionTally {
    long prefixed = 0;  // records of this run's prefix
    long other = 0;     // records of other prefixes (earlier rounds)
    int64_t last_offset = -1;
};

int keep_statistics(rd_kafka_t*, char* json, size_t json_len, void* opaque) {
    static_cast<std::string*>(opaque)->assign(json, json_len);
    return 0;  // librdkafka frees json
}

// librdkafka's statistics fields (docs: STATISTICS.md) that explain a partition that stopped delivering.
std::string partition_statistics(const std::string& statistics, const std::string& topic, int32_t partition) {
    if (statistics.empty())
        return "";
    const nlohmann::json root = nlohmann::json::parse(statistics, nullptr, false);
    if (root.is_discarded())
        return "; librdkafka statistics unparsable";
    const auto topics = root.find("topics");
    if (topics == root.end() || !topics->contains(topic))
        return "; librdkafka statistics: topic not listed";
    const auto& partitions = (*topics)[topic]["partitions"];
    const std::string key = std::to_string(partition);
    if (!partitions.contains(key))
        return "; librdkafka statistics: partition not listed";
    std::string out = "; librdkafka:";
    for (const char* field : {"fetch_state", "leader", "broker", "leader_epoch", "query_offset", "next_offset",
                              "app_offset", "stored_offset", "committed_offset", "lo_offset", "hi_offset",
                              "fetchq_cnt", "consumer_lag"}) {
        if (partitions[key].contains(field))
            out += std::string(" ") + field + "=" + partitions[key][field].dump();
    }
    return out;
}

int run_consume(const Options& options) {
    // A fresh group reads the topic from the start and commits only when told to; -X may override.
    rd_kafka_conf_t* conf = make_conf(
        options, {{"group.id", options.group}, {"auto.offset.reset", "earliest"}, {"enable.auto.commit", "false"}});
    if (conf == nullptr)
        return 2;
    std::string last_statistics;  // filled only when -X statistics.interval.ms is set
    rd_kafka_conf_set_stats_cb(conf, keep_statistics);
    rd_kafka_conf_set_opaque(conf, &last_statistics);
    rd_kafka_t* handle = make_handle(RD_KAFKA_CONSUMER, conf);
    if (handle == nullptr)
        return 2;
    rd_kafka_poll_set_consumer(handle);

    rd_kafka_topic_partition_list_t* subscription = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subscription, options.topic.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(handle, subscription);
    rd_kafka_topic_partition_list_destroy(subscription);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::fprintf(stderr, "kclient: subscribe: %s\n", rd_kafka_err2str(err));
        rd_kafka_destroy(handle);
        return 1;
    }

    std::map<long, int> seen;  // message index -> times received
    // Where each index was first seen. A duplicate at the SAME partition/offset was delivered twice (a
    // consumer/transport fault, counted as `redelivered`); at another offset it was written to the log twice.
    std::map<long, std::pair<int32_t, int64_t>> first_position;
    long redelivered = 0;
    std::set<int32_t> partitions_seen;
    std::map<int32_t, PartitionTally> per_partition;
    long bad = 0, foreign = 0;
    const std::string expected_head = options.prefix + "-";
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(options.timeout_ms);
    std::optional<Clock::time_point> linger_until;  // set once all N arrived: catches duplicates

    while (Clock::now() < (linger_until ? *linger_until : deadline)) {
        rd_kafka_message_t* message = rd_kafka_consumer_poll(handle, 100);
        if (message == nullptr)
            continue;
        if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(message);
            continue;
        }
        if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            std::fprintf(stderr, "kclient: consume error %s: %s\n", rd_kafka_err2name(message->err),
                         rd_kafka_message_errstr(message));
            rd_kafka_message_destroy(message);
            continue;
        }
        PartitionTally& tally = per_partition[message->partition];
        tally.last_offset = message->offset;
        std::string key, value;
        if (message->key != nullptr)
            key.assign(static_cast<const char*>(message->key), message->key_len);
        if (message->payload != nullptr)
            value.assign(static_cast<const char*>(message->payload), message->len);
        if (message->key == nullptr || key.compare(0, expected_head.size(), expected_head) != 0) {
            foreign++;
            tally.other++;
        } else {
            tally.prefixed++;
            const char* digits = key.c_str() + expected_head.size();
            char* end = nullptr;
            long index = std::strtol(digits, &end, 10);
            if (*digits == '\0' || *end != '\0' || index < 0 || index >= options.count || value != key) {
                bad++;
                if (bad <= 5)
                    std::fprintf(stderr, "kclient: unexpected message key=%s value=%s\n", key.c_str(),
                                 value.c_str());
            } else {
                const std::pair<int32_t, int64_t> position{message->partition, message->offset};
                if (++seen[index] == 1) {
                    first_position[index] = position;
                } else {
                    const auto& first = first_position[index];
                    if (first == position)
                        redelivered++;
                    std::fprintf(stderr, "kclient: duplicate %s at partition %d offset %lld (first at offset %lld)\n",
                                 key.c_str(), static_cast<int>(position.first), static_cast<long long>(position.second),
                                 static_cast<long long>(first.second));
                }
                partitions_seen.insert(message->partition);
            }
        }
        rd_kafka_message_destroy(message);
        if (!linger_until && static_cast<long>(seen.size()) == options.count)
            linger_until = Clock::now() + std::chrono::milliseconds(options.linger_ms);
    }

    long duplicates = 0;
    for (const auto& [index, times] : seen)
        duplicates += times - 1;
    if (static_cast<long>(seen.size()) < options.count) {
        // Every partition the topic has (from the statistics when present), plus every one that delivered.
        std::set<int32_t> partitions;
        for (const auto& [partition, tally] : per_partition)
            partitions.insert(partition);
        const nlohmann::json root = nlohmann::json::parse(last_statistics, nullptr, false);
        if (!root.is_discarded() && root.contains("topics") && root["topics"].contains(options.topic)) {
            for (const auto& [id, unused] : root["topics"][options.topic]["partitions"].items())
                if (id != "-1")  // the unassigned-partition placeholder
                    partitions.insert(static_cast<int32_t>(std::stol(id)));
        }
        for (int32_t partition : partitions) {
            const PartitionTally tally = per_partition.count(partition) ? per_partition[partition] : PartitionTally{};
            std::fprintf(stderr, "kclient: partition %d: %ld records of prefix %s, %ld others, last offset read %lld%s\n",
                         static_cast<int>(partition), tally.prefixed, options.prefix.c_str(), tally.other,
                         static_cast<long long>(tally.last_offset),
                         partition_statistics(last_statistics, options.topic, partition).c_str());
        }
    }
    rd_kafka_resp_err_t commit_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (!seen.empty())
        commit_err = rd_kafka_commit(handle, nullptr, 0 /* synchronous */);
    rd_kafka_consumer_close(handle);
    rd_kafka_destroy(handle);

    const bool ok = static_cast<long>(seen.size()) == options.count && duplicates == 0 && bad == 0 &&
                    commit_err == RD_KAFKA_RESP_ERR_NO_ERROR;
    std::printf("consume ok=%d unique=%zu duplicates=%ld bad=%ld foreign=%ld expected=%ld partitions=%zu commit=%s"
                " redelivered=%ld\n",
                ok ? 1 : 0, seen.size(), duplicates, bad, foreign, options.count, partitions_seen.size(),
                commit_err == RD_KAFKA_RESP_ERR_NO_ERROR ? "ok" : rd_kafka_err2name(commit_err), redelivered);
    return ok ? 0 : 1;
}

int run_metadata(const Options& options) {
    rd_kafka_conf_t* conf = make_conf(options);
    if (conf == nullptr)
        return 2;
    rd_kafka_t* handle = make_handle(RD_KAFKA_PRODUCER, conf);
    if (handle == nullptr)
        return 2;
    rd_kafka_topic_t* only_topic =
        options.topic.empty() ? nullptr : rd_kafka_topic_new(handle, options.topic.c_str(), nullptr);
    const rd_kafka_metadata_t* metadata = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(handle, only_topic == nullptr ? 1 : 0, only_topic, &metadata,
                                                options.timeout_ms);
    if (only_topic != nullptr)
        rd_kafka_topic_destroy(only_topic);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::fprintf(stderr, "kclient: metadata: %s\n", rd_kafka_err2str(err));
        std::printf("metadata ok=0 error=%s\n", rd_kafka_err2name(err));
        rd_kafka_destroy(handle);
        return 1;
    }
    for (int i = 0; i < metadata->broker_cnt; i++)
        std::printf("broker %d %s:%d\n", metadata->brokers[i].id, metadata->brokers[i].host,
                    metadata->brokers[i].port);
    for (int i = 0; i < metadata->topic_cnt; i++) {
        const auto& topic = metadata->topics[i];
        std::printf("topic %s %d\n", topic.topic, topic.partition_cnt);
        for (int p = 0; p < topic.partition_cnt; p++)
            std::printf("partition %s %d %d\n", topic.topic, topic.partitions[p].id, topic.partitions[p].leader);
    }
    std::printf("metadata ok=1 brokers=%d topics=%d\n", metadata->broker_cnt, metadata->topic_cnt);
    rd_kafka_metadata_destroy(metadata);
    rd_kafka_destroy(handle);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options options = parse_options(argc, argv);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::fprintf(stderr, "kclient: librdkafka %s %s\n", rd_kafka_version_str(), options.command.c_str());
    if (options.command == "produce")
        return run_produce(options);
    if (options.command == "consume")
        return run_consume(options);
    return run_metadata(options);
}
