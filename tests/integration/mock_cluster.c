/*
 * mock_cluster — a librdkafka mock Kafka cluster driven over stdin, for kedge's integration tests.
 *
 * Usage:
 *   mock_cluster --brokers N --topic NAME:PARTITIONS[:REPLICATION][,NAME:...] [--topic ...]
 *                [--ready-file PATH]
 *
 * Contract:
 *   - Brokers get ids 1..N and listen on 127.0.0.1 of the caller's network namespace only
 *     (rdkafka_mock.c binds INADDR_LOOPBACK, ephemeral port), which is why the tests run
 *     kedge in the same namespace as this process.
 *   - After the cluster and every topic exist, prints exactly one line `BOOTSTRAP <host:port,...>`
 *     on stdout, and writes the same line to --ready-file (written to PATH.tmp, then renamed,
 *     so a reader never sees a partial line).
 *   - Then reads commands from stdin, one per line, answering each with exactly one line
 *     `ok` or `error <reason>` on stdout:
 *       leader TOPIC PARTITION BROKERID      rd_kafka_mock_partition_set_leader (-1 = no leader)
 *       down BROKERID | up BROKERID          rd_kafka_mock_broker_set_down / _set_up (-1 = all)
 *       rtt BROKERID MS                      rd_kafka_mock_broker_set_rtt
 *       coordinator group|transaction KEY BROKERID   rd_kafka_mock_coordinator_set
 *       topic NAME PARTITIONS [REPLICATION]  rd_kafka_mock_topic_create
 *       add BROKERID                         rd_kafka_mock_broker_add          (if the library has it)
 *       decommission BROKERID                rd_kafka_mock_broker_decommission (if the library has it)
 *       hostport BROKERID HOST PORT          rd_kafka_mock_broker_set_host_port (if the library has it;
 *                                            changes only the ADVERTISED address, not the listener)
 *       bootstrap                            answers `ok <current bootstrap list>`
 *       quit                                 answers `ok` and exits 0
 *   - EOF on stdin, SIGTERM or SIGINT: destroys the cluster and exits 0.
 *
 * The optional commands are compiled in when the build system detected the symbol
 * (KEDGE_MOCK_HAS_BROKER_ADD etc., see CMakeLists.txt); otherwise they answer
 * `error unsupported by librdkafka <version>`, so a test can tell "absent" from "failed".
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

enum { kMaxTopics = 64, kMaxLine = 1024, kMaxTokens = 8 };

static volatile sig_atomic_t stop_requested = 0;

static void on_stop_signal(int signo) {
    (void)signo;
    stop_requested = 1;
}

struct TopicSpec {
    char name[256];
    int partitions;
    int replication; /* 0 = min(3, brokers), as the mock's own auto-create default */
};

struct Options {
    int brokers;
    const char *ready_file;
    struct TopicSpec topics[kMaxTopics];
    int topic_count;
};

static void usage_and_exit(const char *reason) {
    fprintf(stderr,
            "mock_cluster: %s\n"
            "usage: mock_cluster --brokers N --topic NAME:PARTITIONS[:REPLICATION][,...] "
            "[--ready-file PATH]\n",
            reason);
    exit(2);
}

/* Parses a decimal int in [min, max]; returns 0 on success. */
static int parse_int(const char *text, long min, long max, int *out) {
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < min || value > max)
        return -1;
    *out = (int)value;
    return 0;
}

/* One "NAME:PARTITIONS[:REPLICATION]" element. */
static void parse_topic_spec(char *spec, struct Options *options) {
    if (options->topic_count >= kMaxTopics)
        usage_and_exit("too many topics");
    struct TopicSpec *topic = &options->topics[options->topic_count];
    char *first_colon = strchr(spec, ':');
    if (first_colon == NULL || first_colon == spec)
        usage_and_exit("--topic expects NAME:PARTITIONS");
    *first_colon = '\0';
    if (strlen(spec) >= sizeof(topic->name))
        usage_and_exit("topic name too long");
    strcpy(topic->name, spec);
    char *second_colon = strchr(first_colon + 1, ':');
    if (second_colon != NULL) {
        *second_colon = '\0';
        if (parse_int(second_colon + 1, 1, 1000, &topic->replication) != 0)
            usage_and_exit("bad replication factor");
    } else {
        topic->replication = 0;
    }
    if (parse_int(first_colon + 1, 1, 100000, &topic->partitions) != 0)
        usage_and_exit("bad partition count");
    options->topic_count++;
}

static void parse_options(int argc, char **argv, struct Options *options) {
    memset(options, 0, sizeof(*options));
    options->brokers = 3;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (i + 1 >= argc)
            usage_and_exit("missing value after option");
        if (strcmp(arg, "--brokers") == 0) {
            if (parse_int(argv[++i], 1, 64, &options->brokers) != 0)
                usage_and_exit("--brokers expects 1..64");
        } else if (strcmp(arg, "--topic") == 0) {
            char *list = argv[++i];
            for (char *save = NULL, *element = strtok_r(list, ",", &save); element != NULL;
                 element = strtok_r(NULL, ",", &save))
                parse_topic_spec(element, options);
        } else if (strcmp(arg, "--ready-file") == 0) {
            options->ready_file = argv[++i];
        } else {
            usage_and_exit("unknown option");
        }
    }
}

static void reply(const char *format, ...) {
    va_list args;
    va_start(args, format);
    vfprintf(stdout, format, args);
    va_end(args);
    fputc('\n', stdout);
    fflush(stdout);
}

static void reply_err(rd_kafka_resp_err_t err) {
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        reply("ok");
    else
        reply("error %s: %s", rd_kafka_err2name(err), rd_kafka_err2str(err));
}

static int write_ready_file(const char *path, const char *line) {
    char tmp_path[4096];
    if (snprintf(tmp_path, sizeof(tmp_path), "%s.tmp", path) >= (int)sizeof(tmp_path))
        return -1;
    FILE *file = fopen(tmp_path, "w");
    if (file == NULL)
        return -1;
    int failed = fprintf(file, "%s\n", line) < 0;
    failed |= fclose(file) != 0;
    if (failed || rename(tmp_path, path) != 0)
        return -1;
    return 0;
}

/* Splits in place on blanks; returns the token count (at most kMaxTokens). */
static int tokenize(char *line, char **tokens) {
    int count = 0;
    for (char *save = NULL, *token = strtok_r(line, " \t\r", &save); token != NULL && count < kMaxTokens;
         token = strtok_r(NULL, " \t\r", &save))
        tokens[count++] = token;
    return count;
}

/* Returns 1 when the command asks to quit. */
static int run_command(rd_kafka_mock_cluster_t *cluster, char *line) {
    char *tokens[kMaxTokens];
    int count = tokenize(line, tokens);
    if (count == 0)
        return 0; /* blank lines are ignored without an answer */
    const char *verb = tokens[0];
    int broker_id = 0, partition = 0, number = 0;

    if (strcmp(verb, "quit") == 0) {
        reply("ok");
        return 1;
    }
    if (strcmp(verb, "bootstrap") == 0) {
        reply("ok %s", rd_kafka_mock_cluster_bootstraps(cluster));
        return 0;
    }
    if (strcmp(verb, "leader") == 0) {
        if (count != 4 || parse_int(tokens[2], 0, 1000000, &partition) != 0 ||
            parse_int(tokens[3], -1, 1 << 30, &broker_id) != 0) {
            reply("error usage: leader TOPIC PARTITION BROKERID");
            return 0;
        }
        reply_err(rd_kafka_mock_partition_set_leader(cluster, tokens[1], partition, broker_id));
        return 0;
    }
    if (strcmp(verb, "down") == 0 || strcmp(verb, "up") == 0) {
        if (count != 2 || parse_int(tokens[1], -1, 1 << 30, &broker_id) != 0) {
            reply("error usage: %s BROKERID", verb);
            return 0;
        }
        reply_err(verb[0] == 'd' ? rd_kafka_mock_broker_set_down(cluster, broker_id)
                                 : rd_kafka_mock_broker_set_up(cluster, broker_id));
        return 0;
    }
    if (strcmp(verb, "rtt") == 0) {
        if (count != 3 || parse_int(tokens[1], -1, 1 << 30, &broker_id) != 0 ||
            parse_int(tokens[2], 0, 600000, &number) != 0) {
            reply("error usage: rtt BROKERID MS");
            return 0;
        }
        reply_err(rd_kafka_mock_broker_set_rtt(cluster, broker_id, number));
        return 0;
    }
    if (strcmp(verb, "coordinator") == 0) {
        if (count != 4 || (strcmp(tokens[1], "group") != 0 && strcmp(tokens[1], "transaction") != 0) ||
            parse_int(tokens[3], -1, 1 << 30, &broker_id) != 0) {
            reply("error usage: coordinator group|transaction KEY BROKERID");
            return 0;
        }
        reply_err(rd_kafka_mock_coordinator_set(cluster, tokens[1], tokens[2], broker_id));
        return 0;
    }
    if (strcmp(verb, "topic") == 0) {
        int replication = 1;
        if ((count != 3 && count != 4) || parse_int(tokens[2], 1, 100000, &partition) != 0 ||
            (count == 4 && parse_int(tokens[3], 1, 1000, &replication) != 0)) {
            reply("error usage: topic NAME PARTITIONS [REPLICATION]");
            return 0;
        }
        reply_err(rd_kafka_mock_topic_create(cluster, tokens[1], partition, replication));
        return 0;
    }
    if (strcmp(verb, "add") == 0 || strcmp(verb, "decommission") == 0) {
        if (count != 2 || parse_int(tokens[1], 0, 1 << 30, &broker_id) != 0) {
            reply("error usage: %s BROKERID", verb);
            return 0;
        }
        if (verb[0] == 'a') {
#ifdef KEDGE_MOCK_HAS_BROKER_ADD
            reply_err(rd_kafka_mock_broker_add(cluster, broker_id));
#else
            reply("error unsupported by librdkafka %s", rd_kafka_version_str());
#endif
        } else {
#ifdef KEDGE_MOCK_HAS_BROKER_DECOMMISSION
            reply_err(rd_kafka_mock_broker_decommission(cluster, broker_id));
#else
            reply("error unsupported by librdkafka %s", rd_kafka_version_str());
#endif
        }
        return 0;
    }
    if (strcmp(verb, "hostport") == 0) {
        if (count != 4 || parse_int(tokens[1], 0, 1 << 30, &broker_id) != 0 ||
            parse_int(tokens[3], 1, 65535, &number) != 0) {
            reply("error usage: hostport BROKERID HOST PORT");
            return 0;
        }
#ifdef KEDGE_MOCK_HAS_BROKER_SET_HOST_PORT
        /* Returns void: an unknown broker id is silently ignored by librdkafka. */
        rd_kafka_mock_broker_set_host_port(cluster, broker_id, tokens[2], number);
        reply("ok");
#else
        reply("error unsupported by librdkafka %s", rd_kafka_version_str());
#endif
        return 0;
    }
    reply("error unknown command '%s'", verb);
    return 0;
}

/*
 * Reads stdin with poll() so SIGTERM (installed without SA_RESTART) interrupts the wait.
 * Lines longer than kMaxLine are rejected as a whole.
 */
static void command_loop(rd_kafka_mock_cluster_t *cluster) {
    char buffer[kMaxLine + 1];
    size_t used = 0;
    int discarding_long_line = 0;
    while (!stop_requested) {
        struct pollfd input = {.fd = STDIN_FILENO, .events = POLLIN};
        int ready = poll(&input, 1, 500);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            perror("mock_cluster: poll");
            return;
        }
        if (ready == 0)
            continue;
        ssize_t got = read(STDIN_FILENO, buffer + used, kMaxLine - used);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            perror("mock_cluster: read");
            return;
        }
        if (got == 0)
            return; /* EOF: the driving test went away */
        used += (size_t)got;
        size_t start = 0;
        for (size_t i = 0; i < used; i++) {
            if (buffer[i] != '\n')
                continue;
            buffer[i] = '\0';
            if (discarding_long_line) {
                discarding_long_line = 0;
            } else if (run_command(cluster, buffer + start)) {
                return;
            }
            start = i + 1;
        }
        memmove(buffer, buffer + start, used - start);
        used -= start;
        if (used == kMaxLine) {
            reply("error line too long");
            discarding_long_line = 1;
            used = 0;
        }
    }
}

int main(int argc, char **argv) {
    struct Options options;
    parse_options(argc, argv, &options);

    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    signal(SIGPIPE, SIG_IGN);

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* The handle only hosts the mock cluster's thread; it never talks to a broker itself. */
    if (rd_kafka_conf_set(conf, "client.id", "kedge-mock-cluster", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "mock_cluster: %s\n", errstr);
        return 1;
    }
    rd_kafka_t *handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (handle == NULL) {
        fprintf(stderr, "mock_cluster: rd_kafka_new: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *cluster = rd_kafka_mock_cluster_new(handle, options.brokers);
    if (cluster == NULL) {
        fprintf(stderr, "mock_cluster: rd_kafka_mock_cluster_new failed\n");
        rd_kafka_destroy(handle);
        return 1;
    }

    int exit_code = 0;
    for (int i = 0; i < options.topic_count; i++) {
        const struct TopicSpec *topic = &options.topics[i];
        int replication = topic->replication > 0 ? topic->replication
                                                 : (options.brokers < 3 ? options.brokers : 3);
        rd_kafka_resp_err_t err =
            rd_kafka_mock_topic_create(cluster, topic->name, topic->partitions, replication);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "mock_cluster: topic %s: %s\n", topic->name, rd_kafka_err2str(err));
            exit_code = 1;
        }
    }

    if (exit_code == 0) {
        char line[4096];
        snprintf(line, sizeof(line), "BOOTSTRAP %s", rd_kafka_mock_cluster_bootstraps(cluster));
        fprintf(stderr, "mock_cluster: librdkafka %s, %d brokers, %d topics\n", rd_kafka_version_str(),
                options.brokers, options.topic_count);
        reply("%s", line);
        if (options.ready_file != NULL && write_ready_file(options.ready_file, line) != 0) {
            fprintf(stderr, "mock_cluster: cannot write %s: %s\n", options.ready_file, strerror(errno));
            exit_code = 1;
        } else {
            command_loop(cluster);
        }
    }

    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(handle);
    return exit_code;
}
