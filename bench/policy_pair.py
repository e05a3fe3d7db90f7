#!/usr/bin/env python3
"""What a policy with ACLs, or a namespace, costs in throughput (docs/policy.md "Cost", issue 18's benchmark;
docs/namespaces.md "Cost", issue 20's with --namespace).

Two kedge instances on the same mock broker, same certificate, same CPU (1), interleaved round by round with the
order alternating: `plain` (no policy) and `acls` (bench.acl_policy: 100 rules, the matching one last, so each
decision scans them all). kload drives Produce v10 and Fetch v16 (by topic id, resolved through the Metadata kedge
saw: what librdkafka 2.12 sends; --fetch-version 12 fetches by name) through each; both instances get the same
requests. Prints each round's MB/s and the acls/plain ratio per round,
then the median ratio and its range; JSON on the last line.

  /usr/bin/python3 bench/policy_pair.py --build build [--rounds 5] [--duration 4] [--rules 100] [--fetch-version 16]
  /usr/bin/python3 bench/policy_pair.py --build build --namespace team-a.   (the second instance has a namespace
      instead of ACLs: its clients' bench-produce / bench-fetch are the backend's team-a.bench-produce / -fetch,
      both filled alike)
  /usr/bin/python3 bench/policy_pair.py --build build --namespace team-a. --visible   (a visible namespace: its
      clients use team-a.bench-produce / -fetch themselves, and its confined ACLs decide every request)

A ratio whose per-round range straddles 1.0 is a tie on this shared 2-core machine.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

WORKLOADS = {
    "produce": ["--workload", "produce", "--topic", "bench-produce", "--connections", "4", "--pipeline", "8",
                "--records", "16", "--record-bytes", "1024"],
    "fetch": ["--workload", "fetch", "--topic", "bench-fetch", "--connections", "4", "--pipeline", "8",
              "--fetch-version", "16"],
}


def start_kedge(kedge, work, mock, certs, name, policy, namespace=None):
    port = bench.free_port()
    config = bench.kedge_config(port, mock, certs, "sni", policy=policy, namespace=namespace)
    path, ok, why = bench.kedge_validate(kedge, work, config, name)
    if not ok:
        raise SystemExit(f"{name}: kedge config rejected: {why}")
    p = bench.start(bench.pin(1) + [kedge, "run", "--config", path], os.path.join(work, f"{name}.log"))
    if not bench.wait_port(port, timeout=60):
        raise SystemExit(f"{name}: kedge did not start")
    return bench.Target(name, port, True, p)


def run(kload, target, workload, duration, topic_prefix=""):
    argv = bench.pin(0) + [kload, "--host", "127.0.0.1", "--port", str(target.port), "--tls", "--sni", bench.SNI,
                           "--ciphersuites", bench.CIPHER, "--duration", str(duration), "--warmup", "0.5"]
    args = list(WORKLOADS[workload])
    args[args.index("--topic") + 1] = topic_prefix + args[args.index("--topic") + 1]
    argv += args
    r = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 120)
    if not r.stdout.strip():
        raise SystemExit(f"{target.name} {workload}: kload printed nothing (exit {r.returncode}): {r.stderr[-400:]}")
    result = json.loads(r.stdout.strip().splitlines()[-1])
    if result.get("errors") or result.get("malformed") or result.get("fatal"):
        raise SystemExit(f"{target.name} {workload}: kload reported problems: {result}")
    return result["payload_MBps"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=float, default=4.0)
    ap.add_argument("--rules", type=int, default=100)
    ap.add_argument("--fetch-version", type=int, choices=(12, 16), default=16,
                    help="16: by topic id (kedge resolves it), 12: by name")
    ap.add_argument("--policy", help="the second instance's policy as JSON instead of the ACLs (e.g. '{}': the "
                                     "cost of routing requests at all)")
    ap.add_argument("--namespace", help="the second instance has this namespace prefix (and no policy unless --policy)")
    ap.add_argument("--visible", action="store_true", help="with --namespace: a visible one (clients use the prefix)")
    args = ap.parse_args()
    WORKLOADS["fetch"][-1] = str(args.fetch_version)
    build = os.path.abspath(args.build)
    kedge, kload = os.path.join(build, "kedge"), os.path.join(build, "bench", "kload")
    work = tempfile.mkdtemp(prefix="kedge-policy-pair-")
    subprocess.run(["bash", os.path.join(bench.ROOT, "tests", "integration", "make_certs.sh"),
                    os.path.join(work, "tls"), bench.DOMAIN], check=True, stdout=subprocess.DEVNULL)
    certs = {"cert": os.path.join(work, "tls", "server.pem"), "key": os.path.join(work, "tls", "server.key")}
    second = "namespace" if args.namespace else "acls"
    out = {"second": second, "rules": None if args.namespace else args.rules, "namespace": args.namespace,
           "visible": args.visible,
           "rounds": args.rounds, "duration_s": args.duration, "workloads": {}}
    try:
        mock = bench.Mock(os.path.join(build, "tests", "integration", "mock_cluster_rdk212"), work)
        if args.namespace:  # the namespaced instance's clients produce to and fetch from these
            for topic in ("bench-produce", "bench-fetch"):
                mock.create_topic(args.namespace + topic)
        for topic in ["bench-fetch"] + ([args.namespace + "bench-fetch"] if args.namespace else []):
            subprocess.run([kload, "--port", str(mock.port), "--workload", "fill", "--topic", topic, "--count",
                            "200", "--records", "16", "--record-bytes", "1024"], check=True, capture_output=True)
        plain = start_kedge(kedge, work, mock, certs, "plain", None)
        if args.namespace:
            policy = json.loads(args.policy) if args.policy is not None else None
            namespace = {"prefix": args.namespace, **({"visible": True} if args.visible else {})}
            acls = start_kedge(kedge, work, mock, certs, second, policy, namespace)
        else:
            policy = json.loads(args.policy) if args.policy is not None else bench.acl_policy(args.rules)
            acls = start_kedge(kedge, work, mock, certs, second, policy)
        for workload in WORKLOADS:
            rows = []
            for i in range(args.rounds):
                order = [plain, acls] if i % 2 == 0 else [acls, plain]
                prefix = {second: args.namespace} if args.visible else {}
                mbps = {t.name: run(kload, t, workload, args.duration, prefix.get(t.name, "")) for t in order}
                rows.append({"plain": mbps["plain"], second: mbps[second], "ratio": mbps[second] / mbps["plain"]})
                print(f"{workload} round {i + 1}: plain {mbps['plain']:.1f} MB/s, {second} {mbps[second]:.1f} MB/s, "
                      f"ratio {rows[-1]['ratio']:.3f}", flush=True)
            ratios = [r["ratio"] for r in rows]
            out["workloads"][workload] = {
                "rounds": rows, "ratio_median": statistics.median(ratios), "ratio_min": min(ratios),
                "ratio_max": max(ratios),
                "plain_median_MBps": statistics.median(r["plain"] for r in rows),
                f"{second}_median_MBps": statistics.median(r[second] for r in rows)}
            w = out["workloads"][workload]
            print(f"{workload}: {second}/plain median {w['ratio_median']:.3f} (range {w['ratio_min']:.3f}-"
                  f"{w['ratio_max']:.3f})", flush=True)
        print(json.dumps(out))
    finally:
        for p in list(bench.STARTED):
            bench.stop(p)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
