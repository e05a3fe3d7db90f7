#!/usr/bin/env python3
"""Repeatable cost figures for kedge's I/O path (docs/performance.md, "Gateway I/O path").

Wall-clock throughput is noisy on a shared 2-core machine; instruction counts are not. This script
runs one workload against kedge (SNI/TLS mode, the same certificate, mock and kload as bench.py) and
reports:
  --mode callgrind  instructions executed by kedge (valgrind callgrind, counters zeroed once kedge is
                    up, dumped when kload finishes) per payload MB, or per connection for `idle`
  --mode rss        (idle only) kedge RSS growth per idle TLS connection, without valgrind
  --mode perf       `perf record` of kedge during the workload; prints the top symbols
  --mode massif     (idle only) valgrind massif heap snapshot with the idle connections open: who
                    holds the memory (ms_print output in the kept work directory)

  /usr/bin/python3 bench/profile.py --build build --workload produce --mode callgrind
  /usr/bin/python3 bench/profile.py --build build --workload idle --connections 1000 --mode rss

Every process it starts is stopped by its own pid (bench.stop) when it ends.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (Mock, kedge_config, stop, rss_kib, pin, ...)

WORKLOADS = {w[0]: w[2] for w in bench.WORKLOADS}
WORKLOADS["idle"] = ["--workload", "idle", "--ramp", "4"]


def start_kedge(kedge, work, mock, certs, wrapper, policy=None, quotas=None):
    port = bench.free_port()
    path, ok, why = bench.kedge_validate(kedge, work,
                                         bench.kedge_config(port, mock, certs, "sni", policy=policy, quotas=quotas),
                                         "kedge-profile")
    if not ok:
        raise SystemExit(f"kedge config rejected: {why}")
    p = bench.start(bench.pin(1) + wrapper + [kedge, "run", "--config", path], os.path.join(work, "kedge.log"))
    if not bench.wait_port(port, timeout=60):
        raise SystemExit("kedge did not start: " + open(os.path.join(work, "kedge.log")).read()[-800:])
    return bench.Target("kedge-sni", port, True, p)


def start_haproxy(work, mock, certs, wrapper):
    """HAProxy with bench.py's configuration (the peer of the side-by-side report), under `wrapper`."""
    pem = os.path.join(work, "haproxy.pem")
    with open(pem, "w") as f:
        f.write(open(certs["cert"]).read() + open(certs["key"]).read())
    port = bench.free_port()
    cfg = bench.haproxy_config(work, port, mock, pem)
    p = bench.start(bench.pin(1) + wrapper + ["haproxy", "-db", "-f", cfg], os.path.join(work, "haproxy.log"))
    if not bench.wait_port(port, timeout=60):
        raise SystemExit("haproxy did not start: " + open(os.path.join(work, "haproxy.log")).read()[-800:])
    return bench.Target("haproxy", port, True, p)


def kload_argv(kload, target, workload, duration, connections, fetch_version=None):
    argv = bench.pin(0) + [kload, "--host", "127.0.0.1", "--port", str(target.port), "--tls", "--sni", bench.SNI,
                           "--ciphersuites", bench.CIPHER] + WORKLOADS[workload]
    if fetch_version is not None and workload.startswith("fetch"):
        argv += ["--fetch-version", str(fetch_version)]
    if workload == "idle":
        argv += ["--connections", str(connections)]
    else:
        argv += ["--duration", str(duration), "--warmup", "0"]
    return argv


def run_load(kload, target, workload, duration, connections, fetch_version=None):
    """Runs kload to completion; returns (payload bytes or connection count, kload's JSON)."""
    argv = kload_argv(kload, target, workload, duration, connections, fetch_version)
    if workload == "idle":
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = p.stdout.readline().strip()
        if line != f"READY {connections}":
            p.kill()
            raise SystemExit(f"idle: {line!r} {p.stderr.read()[-300:]}")
        return p, connections, {}
    r = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 120)
    if not r.stdout.strip():
        raise SystemExit(f"kload printed no result (exit {r.returncode}): {r.stderr[-500:]}")
    result = json.loads(r.stdout.strip().splitlines()[-1])
    if result.get("errors") or result.get("malformed") or result.get("fatal"):
        raise SystemExit(f"kload reported problems: {result}")
    if result["payload_MBps"] > 0:
        return None, result["payload_MBps"] * result["seconds"] * 1e6, result
    return None, -result["requests"], result  # no payload (metadata, ping): per request


def callgrind_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    raise SystemExit(f"no totals in {path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--workload", required=True, choices=sorted(WORKLOADS))
    ap.add_argument("--mode", default="callgrind", choices=["callgrind", "rss", "perf", "massif"])
    ap.add_argument("--duration", type=float, default=6.0)
    ap.add_argument("--connections", type=int, default=200, help="idle workload only")
    ap.add_argument("--target", default="kedge", choices=["kedge", "haproxy"],
                    help="process to measure: kedge in SNI mode, or HAProxy as bench.py configures it")
    ap.add_argument("--kedge", help="kedge binary to measure (default: BUILD/kedge), e.g. a saved baseline")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (callgrind/perf output)")
    ap.add_argument("--policy", help="the virtual cluster's policy as JSON (docs/policy.md), e.g. '{}'")
    ap.add_argument("--quotas", help="the virtual cluster's quotas as JSON (docs/policy.md), e.g. "
                                     "'{\"produce_bytes_per_second\": 1099511627776}'")
    ap.add_argument("--acls", type=int, metavar="N",
                    help="the virtual cluster's policy: bench.acl_policy(N), N ACL rules (the matching one last)")
    ap.add_argument("--fetch-version", type=int, choices=[12, 16],
                    help="Fetch version kload sends (12: by topic name, what a cluster with ACLs offers)")
    args = ap.parse_args()
    if args.acls is not None:
        if args.policy is not None:
            ap.error("--acls and --policy are exclusive")
        args.policy = json.dumps(bench.acl_policy(args.acls))
    build = os.path.abspath(args.build)
    kedge = os.path.abspath(args.kedge) if args.kedge else os.path.join(build, "kedge")
    kload = os.path.join(build, "bench", "kload")
    mock_bin = os.path.join(build, "tests", "integration", "mock_cluster_rdk212")
    work = tempfile.mkdtemp(prefix="kedge-profile-")
    subprocess.run(["bash", os.path.join(bench.ROOT, "tests", "integration", "make_certs.sh"),
                    os.path.join(work, "tls"), bench.DOMAIN], check=True, stdout=subprocess.DEVNULL)
    certs = {"cert": os.path.join(work, "tls", "server.pem"), "key": os.path.join(work, "tls", "server.key")}
    try:
        mock = bench.Mock(mock_bin, work)
        if args.workload.startswith("fetch"):
            topic, count, records, size = {"fetch": ("bench-fetch", 200, 16, 1024),
                                           "fetch_big": ("bench-fetch-big", 4, 64, 16384)}[args.workload]
            subprocess.run([kload, "--port", str(mock.port), "--workload", "fill", "--topic", topic, "--count",
                            str(count), "--records", str(records), "--record-bytes", str(size)],
                           check=True, capture_output=True)
        wrapper = []
        if args.mode == "callgrind":
            wrapper = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={work}/callgrind.out.%p"]
        elif args.mode == "massif":
            wrapper = ["valgrind", "--tool=massif", f"--massif-out-file={work}/massif.out"]
        if args.target == "haproxy":
            target = start_haproxy(work, mock, certs, wrapper)
        else:
            target = start_kedge(kedge, work, mock, certs, wrapper,
                                 policy=json.loads(args.policy) if args.policy is not None else None,
                                 quotas=json.loads(args.quotas) if args.quotas is not None else None)
        if args.mode == "callgrind":
            time.sleep(1.0)
            subprocess.run(["callgrind_control", "-z", str(target.pid)], check=True, capture_output=True)
        base_rss = bench.rss_kib(target.pid)
        perf = None
        if args.mode == "perf":
            perf = subprocess.Popen(["perf", "record", "-g", "-o", f"{work}/perf.data", "-p", str(target.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            bench.STARTED.append(perf)
            time.sleep(0.5)
        idle_proc, units, result = run_load(kload, target, args.workload, args.duration, args.connections,
                                            args.fetch_version)
        out = {"target": args.target, "workload": args.workload, "mode": args.mode}
        if idle_proc is not None:
            time.sleep(0.5)
            grown = bench.rss_kib(target.pid) - base_rss
            out["rss_bytes_per_conn"] = round(grown * 1024 / units)
            if args.mode == "massif":
                snapshot = f"{work}/massif.idle"
                subprocess.run(["vgdb", f"--pid={target.pid}", "detailed_snapshot", snapshot], check=True,
                               capture_output=True)
                with open(f"{work}/massif.idle.txt", "w") as f:
                    subprocess.run(["ms_print", snapshot], stdout=f, check=True)
                out["massif"] = f"{work}/massif.idle.txt"
        if args.mode == "callgrind":
            subprocess.run(["callgrind_control", "-d", str(target.pid)], check=True, capture_output=True)
            dumps = sorted(glob.glob(f"{work}/callgrind.out.{target.pid}.*"), key=os.path.getmtime)
            instructions = callgrind_total(dumps[-1])
            if args.workload == "idle":
                out["instructions_per_conn"] = round(instructions / units)
            elif units < 0:
                out["requests"] = -units
                out["instructions_per_request"] = round(instructions / -units)
            else:
                out["payload_MB"] = round(units / 1e6, 1)
                out["instructions_per_MB"] = round(instructions / (units / 1e6))
            out["callgrind_dump"] = dumps[-1]
        if idle_proc is not None:
            idle_proc.communicate(timeout=60)
        if perf is not None:
            perf.send_signal(2)
            perf.wait(30)
            bench.STARTED.remove(perf)
            report = subprocess.run(["perf", "report", "-i", f"{work}/perf.data", "--no-children", "--stdio",
                                     "--sort", "symbol", "-g", "none", "--percent-limit", "1"],
                                    capture_output=True, text=True).stdout
            print("\n".join(l for l in report.splitlines() if re.match(r"\s+\d", l)))
        if result:
            out["kload_payload_MBps"] = result.get("payload_MBps")
        print(json.dumps(out))
    finally:
        for p in list(bench.STARTED):
            bench.stop(p)
        if not args.keep and args.mode not in ("callgrind", "massif"):
            subprocess.run(["rm", "-rf", work])
        else:
            print(f"work dir kept: {work}", file=sys.stderr)


if __name__ == "__main__":
    main()
