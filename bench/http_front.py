#!/usr/bin/env python3
"""kedge's HTTP/WebSocket front against librdkafka through the same kedge (issue 19's benchmark; the figures are
in docs/performance.md, "HTTP/WebSocket front").

One librdkafka 2.12 mock broker (tests/integration/mock_cluster.c), one kedge (SNI routing, TLS, the HTTP front on
by default), both on CPU 1 as in bench.py's default layout; every client on CPU 0. In paired rounds, the order
alternating per round so that the noise of this shared machine hits both sides:

  fetch    `http-fetch` (--partitions partitions, preloaded straight at the mock with kload: --fetch-mb MB of
           --batch-records x --record-bytes record batches; the mock keeps at most 5 MiB per partition, hence
           64 partitions of 4.5 MB by default) read whole, offset 0 to the end of every partition:
           (ws)  httpload --mode ws-fetch: APISIX CmdKafkaFetch over WebSocket (binary protobuf), one WebSocket per
                 --ws-connections, one fetch in flight per partition (the next offset is the last one received + 1);
           (rdk) rdkload consume: librdkafka assigns the same partitions at offset 0 through kedge's Kafka path.
           MB/s of key+value bytes, kedge's and the mock's CPU per MB.
  produce  (rest) httpload --mode rest-produce: --rest-connections keep-alive connections POSTing
                 /topics/http-produce/partitions/<c % partitions>, --rest-records records of --rest-record-bytes
                 each per POST (binary.v2, base64), one POST in flight per connection, --duration s;
           (rdk) rdkload produce: librdkafka produces --rdk-records records of the same size to the same topic
                 through kedge (acks=all as REST's, librdkafka's default batching).
           records/s.
  idle     a fresh kedge; kedge's VmRSS before and after --idle WebSockets (TLS handshake + upgrade, then idle),
           and the same for --idle Kafka connections (kload --workload idle: TLS handshake + ApiVersions), per
           connection; rounds alternate the two.

  /usr/bin/python3 bench/http_front.py --build build [--rounds 5] [--only fetch,produce,idle]
      [--profile DIR]   also `perf record -g` kedge during one extra WebSocket fetch and one librdkafka fetch
                        (perf.data and `perf report` text in DIR)

Prints each round and, last, one JSON object with every figure. Needs kedge, mock_cluster_rdk212 and the bench
tools (`cmake --build build --target kedge mock_cluster_rdk212 kload httpload rdkload`).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

HTTP_SNI = f"http.{bench.DOMAIN}"
FETCH_TOPIC, PRODUCE_TOPIC = "http-fetch", "http-produce"
# The librdkafka mock keeps at most 5 MiB of record batches per partition (rdkafka_mock.c, mpart->max_size) and
# drops the oldest beyond that, so a large preload is spread over many partitions.
MOCK_PARTITION_BYTES = 5 * 1024 * 1024


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def run_json(argv, timeout, what):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    try:
        result = json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise SystemExit(f"{what}: no result (exit {r.returncode}): {r.stderr.strip()[-600:]}")
    if r.returncode != 0 or result.get("error"):
        raise SystemExit(f"{what}: failed (exit {r.returncode}): {result} {r.stderr.strip()[-300:]}")
    return result


def measured(run, kedge, mock):
    """run() with the CPU seconds kedge and the mock used meanwhile, and the hypervisor's steal."""
    k0, m0, s0, w0 = bench.cpu_seconds(kedge.pid), bench.cpu_seconds(mock.p.pid), bench.stolen_seconds(), time.monotonic()
    result = run()
    wall = time.monotonic() - w0
    result["kedge_cpu_s"] = bench.cpu_seconds(kedge.pid) - k0
    result["mock_cpu_s"] = bench.cpu_seconds(mock.p.pid) - m0
    result["steal_pct"] = 100.0 * (bench.stolen_seconds() - s0) / (wall * (os.cpu_count() or 1))
    return result


def ws_fetch(tools, kedge, args):
    return run_json(bench.pin(0) + [tools["httpload"], "--mode", "ws-fetch", "--port", str(kedge.port), "--sni",
                                    HTTP_SNI, "--topic", FETCH_TOPIC, "--partitions", str(args.partitions),
                                    "--connections", str(args.ws_connections)], 600, "ws-fetch")


def rdk_consume(tools, kedge, args):
    return run_json(bench.pin(0) + [tools["rdkload"], "consume", "--bootstrap", f"bootstrap.{bench.DOMAIN}:{kedge.port}",
                                    "--tls", "--topic", FETCH_TOPIC, "--partitions", str(args.partitions)],
                    600, "rdkload consume")


def rest_produce(tools, kedge, args):
    return run_json(bench.pin(0) + [tools["httpload"], "--mode", "rest-produce", "--port", str(kedge.port), "--sni",
                                    HTTP_SNI, "--topic", PRODUCE_TOPIC, "--partitions", str(args.partitions),
                                    "--connections", str(args.rest_connections), "--records", str(args.rest_records),
                                    "--record-bytes", str(args.rest_record_bytes), "--duration", str(args.duration),
                                    "--warmup", "0.5"], 120, "rest-produce")


def rdk_produce(tools, kedge, args):
    return run_json(bench.pin(0) + [tools["rdkload"], "produce", "--bootstrap", f"bootstrap.{bench.DOMAIN}:{kedge.port}",
                                    "--tls", "--topic", PRODUCE_TOPIC, "--partitions", str(args.partitions),
                                    "--count", str(args.rdk_records), "--record-bytes", str(args.rest_record_bytes)],
                    300, "rdkload produce")


def summary(rows, a, b, metric):
    ratios = [r[a][metric] / r[b][metric] for r in rows]
    return {"rounds": rows, f"{a}_median": statistics.median(r[a][metric] for r in rows),
            f"{a}_min": min(r[a][metric] for r in rows), f"{a}_max": max(r[a][metric] for r in rows),
            f"{b}_median": statistics.median(r[b][metric] for r in rows),
            f"{b}_min": min(r[b][metric] for r in rows), f"{b}_max": max(r[b][metric] for r in rows),
            "ratio_median": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios)}


def paired(name, rounds, sides, kedge, mock, metric, per_mb):
    """sides: [(label, run)] alternated per round. per_mb: also give kedge/mock CPU ms per MB (payload)."""
    rows = []
    for i in range(rounds):
        row = {}
        for label, run in (sides if i % 2 == 0 else list(reversed(sides))):
            r = measured(run, kedge, mock)
            if per_mb:
                mb = r["payload_MBps"] * r["seconds"]
                r["kedge_cpu_ms_per_MB"] = 1000.0 * r["kedge_cpu_s"] / mb
                r["mock_cpu_ms_per_MB"] = 1000.0 * r["mock_cpu_s"] / mb
            else:
                r["kedge_cpu_us_per_record"] = 1e6 * r["kedge_cpu_s"] / r["records"]
            row[label] = r
        a_label, b_label = sides[0][0], sides[1][0]
        line = ", ".join(f"{lbl} {row[lbl][metric]:,.1f} (client CPU {row[lbl]['client_cpu_pct']:.0f}%, kedge "
                         + (f"{row[lbl]['kedge_cpu_ms_per_MB']:.2f} ms/MB" if per_mb
                            else f"{row[lbl]['kedge_cpu_us_per_record']:.2f} us/record") + ")"
                         for lbl in (a_label, b_label))
        bench.log(f"{name} round {i + 1}: {line}; ratio {row[a_label][metric] / row[b_label][metric]:.3f}")
        rows.append(row)
    out = summary(rows, sides[0][0], sides[1][0], metric)
    bench.log(f"{name}: {sides[0][0]}/{sides[1][0]} median {out['ratio_median']:.3f} "
              f"(rounds {out['ratio_min']:.3f}-{out['ratio_max']:.3f})")
    return out


def idle_rss(tools, kedge_bin, work, mock, certs, args):
    """A fresh kedge per round; (RSS after - before) / N for N WebSockets, then for N Kafka TLS connections."""
    rows = []
    for i in range(args.idle_rounds):
        row = {}
        for kind in (("ws", "kafka") if i % 2 == 0 else ("kafka", "ws")):
            t, why = bench.start_kedge(kedge_bin, work, mock, certs, "sni", tag=f"-idle{i}{kind}")
            if t is None:
                raise SystemExit(f"kedge (idle) did not start: {why}")
            time.sleep(0.5)
            base = bench.rss_kib(t.pid)
            if kind == "ws":
                argv = bench.pin(0) + [tools["httpload"], "--mode", "ws-idle", "--port", str(t.port), "--sni", HTTP_SNI,
                                       "--connections", str(args.idle)]
            else:
                argv = bench.pin(0) + [tools["kload"], "--host", "127.0.0.1", "--port", str(t.port), "--workload",
                                       "idle", "--connections", str(args.idle), "--ramp", "4", "--tls", "--sni",
                                       bench.SNI, "--ciphersuites", bench.CIPHER]
            p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = p.stdout.readline().strip()
            if line != f"READY {args.idle}":
                p.kill()
                raise SystemExit(f"idle {kind}: {line!r} {p.stderr.read()[-300:]}")
            time.sleep(1.0)
            grown = bench.rss_kib(t.pid) - base
            p.communicate(timeout=120)
            bench.stop(t.proc)
            row[kind] = {"rss_base_kib": base, "rss_grown_kib": grown, "bytes_per_conn": grown * 1024.0 / args.idle}
        bench.log(f"idle round {i + 1}: WebSocket {row['ws']['bytes_per_conn']:,.0f} B, Kafka TLS "
                  f"{row['kafka']['bytes_per_conn']:,.0f} B per connection (N={args.idle})")
        rows.append(row)
    return {"n": args.idle, "rounds": rows,
            "ws_median": statistics.median(r["ws"]["bytes_per_conn"] for r in rows),
            "ws_min": min(r["ws"]["bytes_per_conn"] for r in rows),
            "ws_max": max(r["ws"]["bytes_per_conn"] for r in rows),
            "kafka_median": statistics.median(r["kafka"]["bytes_per_conn"] for r in rows),
            "kafka_min": min(r["kafka"]["bytes_per_conn"] for r in rows),
            "kafka_max": max(r["kafka"]["bytes_per_conn"] for r in rows)}


def profile(tools, kedge, args, out_dir):
    """perf record -g of kedge during one WebSocket fetch and one librdkafka fetch; the reports as text."""
    os.makedirs(out_dir, exist_ok=True)
    found = {}
    for label, run in (("ws", lambda: ws_fetch(tools, kedge, args)), ("rdk", lambda: rdk_consume(tools, kedge, args))):
        data = os.path.join(out_dir, f"perf-{label}.data")
        perf = subprocess.Popen(["perf", "record", "-g", "-F", "999", "-o", data, "-p", str(kedge.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.3)
        r = run()
        perf.send_signal(2)
        perf.wait(30)
        report = os.path.join(out_dir, f"perf-{label}.txt")
        with open(report, "w") as f:
            subprocess.run(["perf", "report", "-i", data, "--no-children", "--percent-limit", "0.7", "--stdio",
                            "--sort", "dso,symbol", "-g", "none"], stdout=f, stderr=subprocess.DEVNULL)
        with open(os.path.join(out_dir, f"perf-{label}-children.txt"), "w") as f:
            subprocess.run(["perf", "report", "-i", data, "--children", "--percent-limit", "3", "--stdio",
                            "--sort", "symbol", "-g", "none"], stdout=f, stderr=subprocess.DEVNULL)
        found[label] = {"payload_MBps": r["payload_MBps"], "report": report}
        bench.log(f"profile {label}: {r['payload_MBps']:.1f} MB/s under perf; {report}")
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default="fetch,produce,idle")
    ap.add_argument("--partitions", type=int, default=64)
    ap.add_argument("--fetch-mb", type=int, default=288,
                    help="MB preloaded in http-fetch, all partitions (at most MOCK_PARTITION_BYTES each)")
    ap.add_argument("--batch-records", type=int, default=64)
    ap.add_argument("--record-bytes", type=int, default=1024)
    ap.add_argument("--ws-connections", type=int, default=4,
                    help="WebSockets sharing the partitions (kedge serves at most 32 commands at once on one)")
    ap.add_argument("--rest-connections", type=int, default=4)
    ap.add_argument("--rest-records", type=int, default=100)
    ap.add_argument("--rest-record-bytes", type=int, default=100)
    ap.add_argument("--rdk-records", type=int, default=1_000_000)
    ap.add_argument("--duration", type=float, default=4.0, help="seconds per REST produce run")
    ap.add_argument("--idle", type=int, default=2000)
    ap.add_argument("--idle-rounds", type=int, default=3)
    ap.add_argument("--profile", help="directory for perf profiles of kedge (one extra fetch per side)")
    args = ap.parse_args()
    only = set(args.only.split(","))
    build = os.path.abspath(args.build)
    kedge_bin = os.path.join(build, "kedge")
    tools = {"httpload": os.path.join(build, "bench", "httpload"), "rdkload": os.path.join(build, "bench", "rdkload"),
             "kload": os.path.join(build, "bench", "kload")}
    for path in [kedge_bin, *tools.values()]:
        if not os.access(path, os.X_OK):
            raise SystemExit(f"missing {path}: cmake --build {args.build} --target kedge mock_cluster_rdk212 kload "
                             "httpload rdkload")
    work = tempfile.mkdtemp(prefix="kedge-http-front-")
    subprocess.run(["bash", os.path.join(bench.ROOT, "tests", "integration", "make_certs.sh"),
                    os.path.join(work, "tls"), bench.DOMAIN], check=True, stdout=subprocess.DEVNULL)
    certs = {"cert": os.path.join(work, "tls", "server.pem"), "key": os.path.join(work, "tls", "server.key")}
    commit = subprocess.run(["git", "-C", bench.ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    out = {"commit": commit, "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "load_average_start": load_average(), "args": vars(args), "cpus": os.cpu_count()}
    started = time.monotonic()
    try:
        mock = bench.Mock(os.path.join(build, "tests", "integration", "mock_cluster_rdk212"), work)
        mock.create_topic(FETCH_TOPIC, args.partitions)
        mock.create_topic(PRODUCE_TOPIC, args.partitions)
        kedge, why = bench.start_kedge(kedge_bin, work, mock, certs, "sni")
        if kedge is None:
            raise SystemExit(f"kedge did not start: {why}")
        if "fetch" in only:
            batch_bytes = args.batch_records * args.record_bytes
            batches = max(1, args.fetch_mb * 1_000_000 // batch_bytes // args.partitions)
            if batches * (batch_bytes + 100 * args.batch_records) > MOCK_PARTITION_BYTES:
                raise SystemExit(f"{args.fetch_mb} MB over {args.partitions} partitions: more than the mock keeps in "
                                 f"one partition ({MOCK_PARTITION_BYTES} B); add partitions")
            t0 = time.monotonic()
            for p in range(args.partitions):
                subprocess.run(bench.pin(0) + [tools["kload"], "--port", str(mock.port), "--workload", "fill", "--topic",
                                               FETCH_TOPIC, "--partition", str(p), "--count", str(batches), "--records",
                                               str(args.batch_records), "--record-bytes", str(args.record_bytes)],
                               check=True, capture_output=True)
            out["fetch_preload"] = {"partitions": args.partitions, "batches_per_partition": batches,
                                    "batch_bytes": batch_bytes, "total_MB": batches * batch_bytes * args.partitions / 1e6}
            bench.log(f"preloaded {out['fetch_preload']['total_MB']:.0f} MB in {time.monotonic() - t0:.1f} s")
            out["fetch"] = paired("fetch", args.rounds,
                                  [("ws", lambda: ws_fetch(tools, kedge, args)),
                                   ("rdk", lambda: rdk_consume(tools, kedge, args))],
                                  kedge, mock, "payload_MBps", per_mb=True)
        if "produce" in only:
            out["produce"] = paired("produce", args.rounds,
                                    [("rest", lambda: rest_produce(tools, kedge, args)),
                                     ("rdk", lambda: rdk_produce(tools, kedge, args))],
                                    kedge, mock, "records_per_s", per_mb=False)
        if args.profile and "fetch" in only:
            out["profile"] = profile(tools, kedge, args, args.profile)
        out["kedge_rss_kib_after_throughput"] = bench.rss_kib(kedge.pid)
        bench.stop(kedge.proc)
        if "idle" in only:
            out["idle"] = idle_rss(tools, kedge_bin, work, mock, certs, args)
    finally:
        for p in list(bench.STARTED):
            bench.stop(p)
        subprocess.run(["rm", "-rf", work])
    out["load_average_end"] = load_average()
    out["minutes"] = (time.monotonic() - started) / 60
    print(json.dumps(out))


if __name__ == "__main__":
    main()
