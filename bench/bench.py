#!/usr/bin/env python3
"""kedge benchmark driver (started by bench/run.sh; see docs/performance.md for the method).

One run measures, interleaved round by round on this machine, with one certificate, one TLS 1.3
cipher suite (forced by the client) and one backend (the librdkafka 2.12 mock, plaintext):
  direct      kload -> mock broker (plaintext: the mock speaks no TLS)
  haproxy     kload -TLS-> HAProxy (mode tcp, ssl crt, use_backend by ssl_fc_sni) -> mock
  kedge-sni   kload -TLS-> kedge (SNI routing, rewriting) -> mock
  kedge-port  kload -> kedge port mode (plaintext), when this kedge build accepts the config
and writes the Markdown report (docs/performance.md). Every number comes from a real run here.
"""
import argparse
import json
import os
import resource
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DOMAIN = "kafka.example.com"
SNI = f"broker-1.{DOMAIN}"
CIPHER = "TLS_AES_128_GCM_SHA256"
PORT_MODE_BASE = 19100
# A proxy holds two sockets per client connection; leave room for listeners, logs, the mock's fds.
FD_LIMIT = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
MAX_PROXY_CONNS = max(100, (FD_LIMIT - 400) // 2)

# Processes we started, stopped on exit (by their own pid only).
STARTED = []


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def pin(cpu):
    """taskset prefix; empty on a 1-CPU machine."""
    return ["taskset", "-c", str(cpu)] if os.cpu_count() and os.cpu_count() >= 2 else []


# Where the mock broker runs (kload is on CPU 0 and the proxy on CPU 1 in both layouts):
#   backend-shares-proxy-cpu (default): the mock shares CPU 1 with the proxy. Every cycle a proxy spends is a
#     cycle the backend does not get, so throughput shows the proxy's cost; kload has CPU 0 to itself and is
#     not the bottleneck.
#   proxy-alone: the mock shares CPU 0 with kload and the proxy has CPU 1 to itself. Neither proxy is then the
#     bottleneck (CPU 0 is), and throughput mostly shows how a proxy's wake-ups and record sizes load CPU 0.
LAYOUTS = {"backend-shares-proxy-cpu": 1, "proxy-alone": 0}
MOCK_CPU = 1


def repin(pid, cpu):
    """Moves every thread of a running process to one CPU."""
    if os.cpu_count() and os.cpu_count() >= 2:
        subprocess.run(["taskset", "-a", "-p", "-c", str(cpu), str(pid)], check=True, stdout=subprocess.DEVNULL)


def start(argv, log_path, stdin=None, stdout=None):
    out = open(log_path, "wb")
    p = subprocess.Popen(argv, stdin=stdin, stdout=stdout or out, stderr=out)
    STARTED.append(p)
    return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in STARTED:
        STARTED.remove(p)


def cpu_seconds(pid):
    """utime+stime of a process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def kedge_threads_cpu(pid):
    """utime+stime per thread of a process, in seconds: {tid: seconds}."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended between listdir and open
        out[tid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def context_switches(pid):
    """(voluntary, involuntary) context switches summed over a process's threads: a voluntary one is the
    thread going to sleep (epoll_wait with nothing ready), an involuntary one is the thread preempted."""
    voluntary = involuntary = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        voluntary += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        involuntary += int(line.split()[1])
        except OSError:
            continue  # the thread ended between listdir and open
    return voluntary, involuntary


def set_policy(pid, policy):
    """Scheduling policy of every thread of a process (os.SCHED_OTHER or os.SCHED_BATCH)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setscheduler(int(tid), policy, os.sched_param(0))
        except OSError:
            continue


def autogroup_scheduling():
    """True when the kernel shares CPU fairly between sessions (sched_autogroup): then a niced process in
    another session does NOT yield to ours, its session still gets its fair share."""
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            return f.read().strip() == "1"
    except OSError:
        return False


def cpu_time_counters():
    """The machine-wide CPU time counters of /proc/stat's first line, by name, in CPU seconds (all CPUs)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:9]]
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    return {name: t / os.sysconf("SC_CLK_TCK") for name, t in zip(names, ticks)}


def machine_busy_seconds():
    """(CPU seconds all cores spent busy at nice <= 0: user+system+irq+softirq+steal, CPU seconds spent in
    niced (nice > 0) processes)."""
    c = cpu_time_counters()
    return c["user"] + c["system"] + c["irq"] + c["softirq"] + c["steal"], c["nice"]


def stolen_seconds():
    """CPU seconds the hypervisor ran something else while this VM's CPUs wanted to run ("steal"). It slows
    every path at random, so the report gives it per run."""
    return cpu_time_counters()["steal"]


def rsa_speed():
    """{"rsa2048": (signs/s, verifies/s), "rsa4096": (...)} from `openssl speed` on one core (CPU 1)."""
    r = subprocess.run(pin(1) + ["openssl", "speed", "-seconds", "1", "rsa2048", "rsa4096"],
                       capture_output=True, text=True)
    out = {}
    for bits, sign, verify in re.findall(r"^rsa\s+(\d+) bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", r.stdout, re.M):
        out[f"rsa{bits}"] = (float(sign), float(verify))
    return out


def make_rsa_cert(work, bits):
    """A self-signed RSA leaf for *.DOMAIN (kload does not verify the chain). An RSA signature (the
    server's, once per full handshake) costs far more than an RSA verification (the client's)."""
    key, cert = os.path.join(work, "tls", f"rsa{bits}.key"), os.path.join(work, "tls", f"rsa{bits}.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", f"rsa:{bits}", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "30", "-subj", f"/CN=*.{DOMAIN}",
                    "-addext", f"subjectAltName=DNS:*.{DOMAIN},DNS:{DOMAIN}"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return {"cert": cert, "key": key}


# ----------------------------------------------------------------------------------------------
class Mock:
    def __init__(self, binary, work):
        self.p = start(pin(MOCK_CPU) + [binary, "--brokers", "1", "--topic",
                                 "bench-produce:1,bench-fetch:1,bench-fetch-big:1,bench-meta:1"],
                       os.path.join(work, "mock.log"), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.p.stdout.readline().decode().strip()
        if not line.startswith("BOOTSTRAP "):
            raise SystemExit(f"mock cluster did not start: {line!r}")
        self.host, port = line.split()[1].split(",")[0].rsplit(":", 1)
        self.port = int(port)


class Target:
    """One path from kload to the broker."""

    def __init__(self, name, port, tls, proc=None, note=""):
        self.name, self.port, self.tls, self.proc, self.note = name, port, tls, proc, note

    @property
    def pid(self):
        return self.proc.pid if self.proc else None


def haproxy_config(work, port, mock, pem, tag=""):
    cfg = f"""# generated by bench/bench.py
global
    nbthread 1
    maxconn {MAX_PROXY_CONNS}
    tune.ssl.default-dh-param 2048
    ssl-default-bind-ciphersuites {CIPHER}
    ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
    mode tcp
    timeout connect 10s
    timeout client 300s
    timeout server 300s
    maxconn {MAX_PROXY_CONNS}
frontend kafka_tls
    bind 127.0.0.1:{port} ssl crt {pem}
    tcp-request inspect-delay 5s
    use_backend broker_1 if {{ ssl_fc_sni -i {SNI} }}
    use_backend bootstrap if {{ ssl_fc_sni -i bootstrap.{DOMAIN} }}
backend broker_1
    server b1 {mock.host}:{mock.port}
backend bootstrap
    server b1 {mock.host}:{mock.port}
"""
    path = os.path.join(work, f"haproxy{tag}.cfg")
    with open(path, "w") as f:
        f.write(cfg)
    return path


def start_haproxy(work, mock, certs, tag=""):
    """`tag` keeps a second instance's files (e.g. one with another certificate) apart from the first's."""
    pem = os.path.join(work, f"haproxy{tag}.pem")
    with open(pem, "w") as f:
        f.write(open(certs["cert"]).read() + open(certs["key"]).read())
    port = free_port()
    cfg = haproxy_config(work, port, mock, pem, tag)
    log_path = os.path.join(work, f"haproxy{tag}.log")
    p = start(pin(1) + ["haproxy", "-db", "-f", cfg], log_path)
    if not wait_port(port):
        raise SystemExit("haproxy did not start: " + open(log_path).read()[-2000:])
    return Target("haproxy", port, True, p)


def kedge_config(port, mock, certs, mode, workers=None):
    if mode == "sni":
        listener = {"name": "bench", "bind": f"127.0.0.1:{port}", "advertised_port": port,
                    "tls": {"cert": certs["cert"], "key": certs["key"]}}
    else:
        listener = {"name": "bench", "bind": f"127.0.0.1:{port}",
                    "routing": {"mode": "port", "virtual_cluster": "alpha", "advertised_host": "127.0.0.1",
                                "broker_port_base": PORT_MODE_BASE,
                                # a small pool: each pool port is a listening socket per worker, and 9,800
                                # idle connections already need 19,600 of the 20,000 descriptors here
                                "max_node_id": 15}}
    config = {
        "listeners": [listener],
        "virtual_clusters": [{"name": "alpha", "hostnames": {"format": "subdomain", "domain": DOMAIN},
                              "backend": {"bootstrap_servers": [f"{mock.host}:{mock.port}"]}}],
        "log": {"level": "warn"},
        # Several kedge processes run at once here (SNI and port mode): no admin API, whose default
        # 127.0.0.1:9644 only one of them could bind.
        "admin": {"enabled": False},
    }
    if workers is not None:
        config["workers"] = workers
    return config


def kedge_validate(kedge, work, config, name):
    path = os.path.join(work, f"{name}.json")
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
    r = subprocess.run([kedge, "validate", "--config", path], capture_output=True, text=True)
    return path, r.returncode == 0, (r.stdout + r.stderr).strip()


def start_kedge(kedge, work, mock, certs, mode, cpus="1", workers=None, tag=""):
    port = free_port()
    name = f"kedge-{mode}" + (f"-w{workers}" if workers else "") + tag
    path, ok, why = kedge_validate(kedge, work, kedge_config(port, mock, certs, mode, workers), name)
    if not ok:
        return None, why
    prefix = ["taskset", "-c", cpus] if os.cpu_count() >= 2 else []
    p = start(prefix + [kedge, "run", "--config", path], os.path.join(work, f"{name}.log"))
    data_port = port if mode == "sni" else PORT_MODE_BASE + 1
    if not wait_port(port) or (mode == "port" and not wait_port(data_port)):
        stop(p)
        return None, "did not start: " + open(os.path.join(work, f"{name}.log")).read()[-500:]
    return Target(name, data_port, mode == "sni", p), ""


# ----------------------------------------------------------------------------------------------
WORKLOADS = [
    # key, title, kload args, metric, unit, paths: False = every path, True = the TLS paths,
    # "rsa2048" = the TLS paths served with an RSA-2048 certificate
    ("produce", "Produce, 16 KiB record batches (16 x 1 KiB records), 4 connections x 8 pipelined",
     ["--workload", "produce", "--topic", "bench-produce", "--connections", "4", "--pipeline", "8",
      "--records", "16", "--record-bytes", "1024"], "payload_MBps", "MB/s", False),
    ("fetch", "Fetch, 16 KiB batches from offset 0 in a loop, 4 connections x 8 pipelined",
     ["--workload", "fetch", "--topic", "bench-fetch", "--connections", "4", "--pipeline", "8"],
     "payload_MBps", "MB/s", False),
    ("fetch_big", "Fetch, 1 MiB per response (64 x 16 KiB records per batch), 2 connections x 4 pipelined",
     ["--workload", "fetch", "--topic", "bench-fetch-big", "--connections", "2", "--pipeline", "4"],
     "payload_MBps", "MB/s", False),
    ("metadata", "Metadata v12 (1 topic), 4 connections x 16 pipelined",
     ["--workload", "metadata", "--topic", "bench-meta", "--connections", "4", "--pipeline", "16"],
     "requests_per_s", "req/s", False),
    ("ping", "ApiVersions ping-pong, 1 connection, 1 in flight (latency)",
     ["--workload", "ping", "--connections", "1", "--pipeline", "1"], "lat_p99_us", "us", False),
    ("hs_full", "Full TLS handshakes (+1 ApiVersions round trip, close), 8 concurrent",
     ["--workload", "handshake", "--connections", "8"], "handshakes_per_s", "handshakes/s", True),
    ("hs_resumed", "Resumed TLS 1.3 handshakes (session tickets), 8 concurrent",
     ["--workload", "handshake", "--connections", "8", "--resume"], "handshakes_per_s", "handshakes/s", True),
    # With the EC P-256 certificate the client's half of a full handshake (ECDSA verify, certificate
    # decoding) costs kload more than the server's half costs a proxy, so kload on CPU 0 sets the rate. With
    # RSA-2048 the server's signature dominates and the proxy's CPU does. Separate HAProxy and kedge
    # instances serve this certificate; the row keeps their names.
    ("hs_full_rsa", "Full TLS handshakes, RSA-2048 certificate (+1 ApiVersions round trip, close), 8 concurrent",
     ["--workload", "handshake", "--connections", "8"], "handshakes_per_s", "handshakes/s", "rsa2048"),
]

# Worker-loop scaling (kedge "workers" 1 -> 2). Workloads where kedge, not the load generator or the mock,
# is the bottleneck: the CPU of every process is recorded so the report shows who was.
#   key, title, kload args, metric, unit, certificate ("rsa2048", "rsa4096", or "ec" = the EC P-256 one)
SCALING = [
    ("hs_full_rsa2048", "Full TLS handshakes, RSA-2048 certificate (+1 ApiVersions round trip, close), "
     "16 concurrent", ["--workload", "handshake", "--connections", "16"], "handshakes_per_s", "handshakes/s",
     "rsa2048"),
    ("hs_full_rsa4096", "Full TLS handshakes, RSA-4096 certificate (+1 ApiVersions round trip, close), "
     "16 concurrent", ["--workload", "handshake", "--connections", "16"], "handshakes_per_s", "handshakes/s",
     "rsa4096"),
    # 16 connections: with 32, the mock itself closed connections now and then (seen without any proxy too).
    ("produce_many", "TLS Produce, 16 KiB batches (16 x 1 KiB records), 16 connections x 4 pipelined",
     ["--workload", "produce", "--topic", "bench-produce", "--connections", "16", "--pipeline", "4",
      "--records", "16", "--record-bytes", "1024"], "payload_MBps", "MB/s", "ec"),
]
SCALING_KEYS = {w[0] for w in SCALING}


def run_kload(kload, target, args, duration, warmup):
    argv = pin(0) + [kload, "--host", "127.0.0.1", "--port", str(target.port), "--duration", str(duration),
                     "--warmup", str(warmup)] + args
    if target.tls:
        argv += ["--tls", "--sni", SNI, "--ciphersuites", CIPHER]
    cpu0 = cpu_seconds(target.pid) if target.pid else None
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    stolen0, wall0 = stolen_seconds(), time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=duration + warmup + 60)
    stolen, wall = stolen_seconds() - stolen0, time.monotonic() - wall0
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu1 = cpu_seconds(target.pid) if target.pid else None
    try:
        result = json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        result = {"fatal": f"kload rc={r.returncode}: {r.stderr.strip()[-300:]}", "errors": 0}
    result["rc"] = r.returncode
    if cpu0 is not None:
        # Whole-run CPU of the proxy (warm-up included) over the whole run's wall time.
        result["proxy_cpu_s"] = cpu1 - cpu0
        result["proxy_cpu_pct"] = 100.0 * (cpu1 - cpu0) / (duration + warmup)
    # kload's own CPU (it is the only child run meanwhile): near 100% means the client, not the path, set the rate.
    kload_s = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)
    result["kload_cpu_s"] = kload_s
    result["kload_cpu_pct"] = 100.0 * kload_s / (duration + warmup)
    result["steal_pct"] = 100.0 * stolen / (wall * (os.cpu_count() or 1))
    return result


def measure_idle(kload, target, n):
    """Proxy RSS growth per idle TLS connection (after handshake + one round trip)."""
    base = rss_kib(target.pid)
    argv = pin(0) + [kload, "--host", "127.0.0.1", "--port", str(target.port), "--workload", "idle",
                     "--connections", str(n), "--ramp", "4"]
    if target.tls:
        argv += ["--tls", "--sni", SNI, "--ciphersuites", CIPHER]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    ok = line == f"READY {n}"
    time.sleep(0.5)
    grown = rss_kib(target.pid) - base
    out, err = p.communicate(timeout=60)  # closes kload's stdin: it closes its connections and exits
    if not ok:
        return {"fatal": f"idle {n}: {line!r} {out[-200:]} {err[-200:]}"}
    return {"bytes_per_conn": grown * 1024.0 / n, "rss_base_kib": base, "rss_grown_kib": grown}


def run_scaled(kload, target, args, duration, warmup, mock_pid):
    """run_kload plus the CPU every process used during the run, as % of one core over the run's wall
    time (this machine has os.cpu_count() cores, so the total is 100 x that): kedge (and its busiest
    threads), kload (the waited-for child's rusage), the mock, and everything else on the machine."""
    kedge0, threads0, mock0 = cpu_seconds(target.pid), kedge_threads_cpu(target.pid), cpu_seconds(mock_pid)
    busy0, wall0 = machine_busy_seconds(), time.monotonic()
    r = run_kload(kload, target, args, duration, warmup)
    wall = time.monotonic() - wall0
    busy1 = machine_busy_seconds()
    kedge_s, mock_s = cpu_seconds(target.pid) - kedge0, cpu_seconds(mock_pid) - mock0
    threads1 = kedge_threads_cpu(target.pid)
    kload_s = r["kload_cpu_s"]  # run_kload's rusage of its one child
    pct = lambda seconds: 100.0 * seconds / wall  # noqa: E731
    r["cpu_kedge_pct"], r["cpu_kload_pct"], r["cpu_mock_pct"] = pct(kedge_s), pct(kload_s), pct(mock_s)
    r["cpu_other_pct"] = max(0.0, pct((busy1[0] - busy0[0]) - kedge_s - kload_s - mock_s))
    r["cpu_niced_pct"] = pct(busy1[1] - busy0[1])
    r["cpu_kedge_threads_pct"] = sorted((pct(v - threads0.get(tid, 0.0)) for tid, v in threads1.items()),
                                        reverse=True)
    return r


def run_scaling(args, kedge, kload, work, mock, certs, skipped):
    """kedge with workers=1 and workers=2, restarted per round in rotating order, on CPUs 0,1.
    Returns ({workload: {workers: [result per round]}}, openssl RSA speed on one core)."""
    scaling = {}
    _, ok, why = kedge_validate(kedge, work, kedge_config(free_port(), mock, certs, "sni", workers=2), "probe-w2")
    if not ok:
        line = f"kedge workers 1 -> 2: not available in this build ({why.splitlines()[-1] if why else 'rejected'})"
        log(line)
        skipped.append(line)
        return scaling, {}
    if (os.cpu_count() or 1) < 2:
        skipped.append("kedge workers 1 -> 2: this machine has one CPU")
        return scaling, {}
    cert_sets = {"ec": certs, "rsa2048": make_rsa_cert(work, 2048), "rsa4096": make_rsa_cert(work, 4096)}
    speed = rsa_speed()
    repin(mock.p.pid, 0)  # this section's own layout: kedge may use both CPUs, kload and the mock stay on CPU 0
    try:
        scaling_rounds(args, kedge, kload, work, mock, cert_sets, skipped, scaling)
    finally:
        repin(mock.p.pid, MOCK_CPU)
    return scaling, speed


def scaling_rounds(args, kedge, kload, work, mock, cert_sets, skipped, scaling):
    for rnd in range(args.rounds):
        for workers in ((1, 2) if rnd % 2 == 0 else (2, 1)):
            for key, _title, wargs, metric, _unit, cert in SCALING:
                tw, why = start_kedge(kedge, work, mock, cert_sets[cert], "sni", cpus="0,1", workers=workers)
                if tw is None:
                    skipped.append(f"kedge workers={workers} ({key}): {why}")
                    continue
                r = run_scaled(kload, tw, wargs, args.duration, args.warmup, mock.p.pid)
                stop(tw.proc)
                scaling.setdefault(key, {}).setdefault(workers, []).append(r)
                bad = r.get("fatal") or r.get("errors") or r.get("malformed") or r.get("rc")
                log(f"  scaling {key:12s} workers={workers} {metric}={r.get(metric)} "
                    f"cpu% kedge={r['cpu_kedge_pct']:.0f} (threads "
                    f"{'/'.join(f'{t:.0f}' for t in r['cpu_kedge_threads_pct'][:3])}) "
                    f"kload={r['cpu_kload_pct']:.0f} mock={r['cpu_mock_pct']:.0f} other={r['cpu_other_pct']:.0f} "
                    f"niced={r['cpu_niced_pct']:.0f}"
                    + (f" PROBLEM: {r.get('fatal')} errors={r.get('errors')} rc={r.get('rc')}" if bad else ""))


WAKEUP_POLICIES = (("SCHED_OTHER (default)", os.SCHED_OTHER), ("SCHED_BATCH", os.SCHED_BATCH))


def run_wakeups(args, kload, proxies, mock):
    """The Metadata workload with both proxies under the default policy and then under SCHED_BATCH (a waking
    SCHED_BATCH thread does not preempt the running one, here the broker on the same CPU). Per run: rate,
    proxy CPU per request, proxy sleeps and broker preemptions per request. {policy: {target: [result]}}."""
    key, _title, wargs, _metric, _unit, _paths = next(w for w in WORKLOADS if w[0] == "metadata")
    out = {}
    try:
        for label, policy in WAKEUP_POLICIES:
            for t in proxies:
                set_policy(t.pid, policy)
            for rnd in range(args.rounds):
                for t in rotated(proxies, rnd):
                    proxy0, mock0 = context_switches(t.pid), context_switches(mock.p.pid)
                    r = run_kload(kload, t, wargs, args.duration, args.warmup)
                    proxy1, mock1 = context_switches(t.pid), context_switches(mock.p.pid)
                    # Counters span warm-up and measurement; so does this request count (the warm-up runs at
                    # the measured rate), so ratios per request stay comparable between targets.
                    requests = (r.get("requests_per_s") or 0) * (args.duration + args.warmup)
                    if requests > 0:
                        r["proxy_us_per_request"] = 1e6 * r["proxy_cpu_s"] / requests
                        r["proxy_sleeps_per_request"] = (proxy1[0] - proxy0[0]) / requests
                        r["mock_preempted_per_request"] = (mock1[1] - mock0[1]) / requests
                    out.setdefault(label, {}).setdefault(t.name, []).append(r)
                    log(f"  wakeups {label:22s} {t.name:10s} req/s={r.get('requests_per_s')} "
                        f"proxy_us/req={r.get('proxy_us_per_request', 0):.2f} "
                        f"sleeps/req={r.get('proxy_sleeps_per_request', 0):.3f} "
                        f"mock_preempted/req={r.get('mock_preempted_per_request', 0):.3f}")
    finally:
        for t in proxies:
            set_policy(t.pid, os.SCHED_OTHER)
    return out


# ----------------------------------------------------------------------------------------------
def machine_facts(kedge):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    def cmd(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True).stdout.strip() or \
                subprocess.run(argv, capture_output=True, text=True).stderr.strip()
        except OSError:
            return "?"
    commit = cmd(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = cmd(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])
    return {
        "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
        "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "openssl": cmd(["openssl", "version"]),
        "haproxy": cmd(["haproxy", "-v"]).splitlines()[0] if cmd(["haproxy", "-v"]) else "?",
        "kedge": cmd([kedge, "--version"]), "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_start": open("/proc/loadavg").read().split()[0],
    }


def pinning_text(layout):
    if layout == "proxy-alone":
        return """- **CPU pinning** (2 cores, `--layout proxy-alone`): the mock broker and kload share CPU 0
  (`taskset -c 0`); the proxy under test has CPU 1 to itself (`taskset -c 1`). `direct` therefore leaves CPU 1
  idle. Neither proxy is then the bottleneck: throughput is bound by CPU 0 (client + mock), and the proxy's
  cost shows only in **proxy CPU %** (its utime+stime over the run): lower is better at equal throughput."""
    return """- **CPU pinning** (2 cores, `--layout backend-shares-proxy-cpu`, the default): kload has CPU 0 to itself
  (`taskset -c 0`); the proxy under test and the mock broker share CPU 1 (`taskset -c 1`), so every cycle the
  proxy spends is one the broker does not get and throughput shows the proxy's cost. `direct` gives the mock
  CPU 1 alone. **kload CPU %** (its utime+stime over the run) shows whether the client set the rate; **proxy
  CPU %** is the proxy's. (`--layout proxy-alone` puts the mock on CPU 0 with kload instead; see the notes for why the default
  changed.)"""


def completed(r):
    """A run that produced figures: kload neither died nor exited non-zero (errors are counted separately)."""
    return not (r.get("fatal") or r.get("rc"))


def rotated(items, rnd):
    """items with the one that goes first moved on by one per round, so no path always runs first."""
    return items[rnd % len(items):] + items[:rnd % len(items)]


def summarize(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def fmt(x, unit):
    if x is None:
        return "–"
    if unit in ("us",):
        return f"{x:.0f}"
    if x >= 1000:
        return f"{x:,.0f}"
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--out", default=None,
                    help="report path (default docs/performance.md; with --only, partial.md in the work dir)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--layout", choices=sorted(LAYOUTS), default="backend-shares-proxy-cpu",
                    help="which CPU the mock broker shares (see LAYOUTS)")
    ap.add_argument("--duration", type=float, default=4.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--idle", default="1000,10000")
    ap.add_argument("--only", default="",
                    help="comma-separated parts to run: workload keys, idle, scaling, micro (a partial run "
                         "never writes docs/performance.md unless --out says so)")
    args = ap.parse_args()
    global MOCK_CPU
    MOCK_CPU = LAYOUTS[args.layout]
    only = set(filter(None, args.only.split(",")))
    unknown = only - {w[0] for w in WORKLOADS} - {"idle", "scaling", "micro", "wakeups"}
    if unknown:
        ap.error(f"--only: unknown part(s) {sorted(unknown)}; known: "
                 f"{', '.join([w[0] for w in WORKLOADS] + ['idle', 'scaling', 'micro', 'wakeups'])}")

    kedge = os.path.join(args.build, "kedge")
    kload = os.path.join(args.build, "bench", "kload")
    mock_bin = os.path.join(args.build, "tests", "integration", "mock_cluster_rdk212")
    codec_bench = os.path.join(args.build, "bench", "codec_bench")
    work = tempfile.mkdtemp(prefix="kedge-bench-")
    log(f"work dir {work}")
    if args.out is None:
        args.out = os.path.join(work, "partial.md") if only else os.path.join(ROOT, "docs", "performance.md")
    subprocess.run(["bash", os.path.join(ROOT, "tests", "integration", "make_certs.sh"), os.path.join(work, "tls"),
                    DOMAIN], check=True, stdout=subprocess.DEVNULL)
    certs = {"cert": os.path.join(work, "tls", "server.pem"), "key": os.path.join(work, "tls", "server.key")}
    facts = machine_facts(kedge)
    skipped = []
    results = {}   # workload -> target -> [result per round]
    idle = {}      # n -> target -> [bytes per conn]
    scaling, rsa_speeds, wakeups = {}, {}, {}
    started_at, stolen_at_start = time.time(), stolen_seconds()
    try:
        mock = Mock(mock_bin, work)
        log(f"mock broker 1 at {mock.host}:{mock.port}")
        direct = Target("direct", mock.port, False)
        # Data the fetch workloads read back: < 5 MB per partition (the mock trims its log above that).
        for topic, count, records, size in (("bench-fetch", 200, 16, 1024), ("bench-fetch-big", 4, 64, 16384)):
            r = subprocess.run([kload, "--port", str(mock.port), "--workload", "fill", "--topic", topic, "--count",
                                str(count), "--records", str(records), "--record-bytes", str(size)],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise SystemExit(f"fill {topic} failed: {r.stdout} {r.stderr}")
        haproxy = start_haproxy(work, mock, certs)
        ksni, why = start_kedge(kedge, work, mock, certs, "sni")
        if ksni is None:
            raise SystemExit(f"kedge (SNI mode) did not start: {why}")
        kport, why = start_kedge(kedge, work, mock, certs, "port")
        targets = [direct, haproxy, ksni]
        if kport is None:
            line = f"kedge port mode: not available in this build ({why.splitlines()[-1] if why else 'rejected'})"
            log(line)
            skipped.append(line)
        else:
            targets.append(kport)
        idle_sizes = []
        for n in [int(x) for x in args.idle.split(",") if x and (not only or "idle" in only)]:
            if n > MAX_PROXY_CONNS:
                line = (f"idle connections: {n:,} requested, but the open-files limit here is {FD_LIMIT:,} "
                        f"(hard limit, not raisable in this container) and a proxy needs 2 sockets per "
                        f"connection: measured at {MAX_PROXY_CONNS:,} instead")
                log(line)
                skipped.append(line)
                n = MAX_PROXY_CONNS
            idle_sizes.append(n)
        workloads = [w for w in WORKLOADS if not only or w[0] in only]
        # TLS paths with the RSA-2048 certificate, for the workloads that ask for it (same names in the report).
        rsa_paths = {}
        if any(w[5] == "rsa2048" for w in workloads):
            rsa_certs = make_rsa_cert(work, 2048)
            rsa_paths["haproxy"] = start_haproxy(work, mock, rsa_certs, tag="-rsa2048")
            krsa, why = start_kedge(kedge, work, mock, rsa_certs, "sni", tag="-rsa2048")
            if krsa is None:
                raise SystemExit(f"kedge (SNI mode, RSA-2048 certificate) did not start: {why}")
            rsa_paths["kedge-sni"] = krsa
        for rnd in range(args.rounds if workloads or not only or "idle" in only else 0):
            order = rotated(targets, rnd)
            log(f"round {rnd + 1}/{args.rounds}: order {[t.name for t in order]}")
            for key, _title, wargs, metric, unit, paths in workloads:
                for t in order:
                    if paths and not t.tls:
                        continue
                    path = rsa_paths.get(t.name) if paths == "rsa2048" else t
                    if path is None:
                        continue
                    r = run_kload(kload, path, wargs, args.duration, args.warmup)
                    results.setdefault(key, {}).setdefault(t.name, []).append(r)
                    bad = r.get("fatal") or r.get("errors") or r.get("malformed") or r.get("rc")
                    log(f"  {key:10s} {t.name:10s} {metric}={r.get(metric)} p99={r.get('lat_p99_us')}us "
                        f"proxy_cpu={r.get('proxy_cpu_pct', 0):.0f}% kload_cpu={r.get('kload_cpu_pct', 0):.0f}% "
                        f"errors={r.get('errors')}"
                        + (f" PROBLEM: {r.get('fatal')} rc={r.get('rc')}" if bad else ""))
            # Idle memory: fresh proxy processes, so memory freed by the throughput runs is not reused.
            if not only or "idle" in only:
                for n in idle_sizes:
                    for t in [x for x in order if x.proc]:
                        fresh = restart(t, work, mock, certs, kedge)
                        m = measure_idle(kload, fresh, n)
                        idle.setdefault(n, {}).setdefault(t.name, []).append(m)
                        log(f"  idle {n:6d} {t.name:10s} {m}")
                        # keep the object identity: targets list refers to t
                        t.proc = fresh.proc
                        t.port = fresh.port
        if not only or "wakeups" in only:
            wakeups = run_wakeups(args, kload, [haproxy, ksni], mock)
        if not only or "scaling" in only:
            scaling, rsa_speeds = run_scaling(args, kedge, kload, work, mock, certs, skipped)
    finally:
        for p in list(STARTED):
            stop(p)
    micro = run_micro(codec_bench) if not only or "micro" in only else {"skipped": "not run (--only)"}
    elapsed = time.time() - started_at
    facts["steal_pct"] = 100.0 * (stolen_seconds() - stolen_at_start) / (elapsed * (os.cpu_count() or 1))
    write_report(args, facts, results, idle, scaling, rsa_speeds, skipped, micro, elapsed, wakeups)
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump({"results": results, "idle": {str(k): v for k, v in idle.items()},
                   "scaling": {k: {str(w): rs for w, rs in per.items()} for k, per in scaling.items()},
                   "rsa_speed": rsa_speeds,
                   "wakeups": wakeups,
                   "micro": micro}, f, indent=1)
    log(f"raw results in {work}/results.json; report {args.out}; {elapsed:.0f} s")
    problems = sum(1 for w in list(results.values()) + list(scaling.values()) for rs in w.values() for r in rs
                   if r.get("fatal") or r.get("errors") or r.get("malformed"))
    return 1 if problems else 0


def restart(t, work, mock, certs, kedge):
    stop(t.proc)
    if t.name == "haproxy":
        return start_haproxy(work, mock, certs)
    mode = "sni" if t.name.startswith("kedge-sni") else "port"
    nt, why = start_kedge(kedge, work, mock, certs, mode)
    if nt is None:
        raise SystemExit(f"restart {t.name}: {why}")
    return nt


def run_micro(binary):
    if not os.path.exists(binary):
        return {"skipped": "codec_bench not built (libbenchmark-dev missing)"}
    argv = pin(1) + [binary, "--benchmark_format=json", "--benchmark_repetitions=3",
                     "--benchmark_report_aggregates_only=true"]
    r = subprocess.run(argv, capture_output=True, text=True)
    try:
        data = json.loads(r.stdout)
    except json.JSONDecodeError:
        return {"skipped": f"codec_bench failed: {r.stderr[-300:]}"}
    out = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") in ("median", "stddev"):
            name = b["run_name"]
            out.setdefault(name, {})[b["aggregate_name"]] = {
                "real_time": b["real_time"], "time_unit": b["time_unit"],
                "bytes_per_second": b.get("bytes_per_second")}
    return out


# ----------------------------------------------------------------------------------------------
def write_wakeups(L, wakeups):
    """The Metadata workload under both scheduling policies: how much of a proxy's CPU is waking up."""
    L.append("### Metadata: what waking up costs a proxy next to its broker\n")
    L.append("""The Metadata workload again, both proxies first under the default policy and then with every thread
switched to `SCHED_BATCH` (`sched_setscheduler`), interleaved, same rounds. In this layout the broker runs on
the proxy's CPU. A default-policy proxy woken by the broker's write usually preempts the broker at once,
handles the few responses written so far and sleeps again. A `SCHED_BATCH` thread that wakes does not preempt
the running thread, so the broker finishes its burst first. *Sleeps* are the proxy's voluntary context
switches and *broker preempted* the mock's involuntary ones, both per request. Not a setting either proxy is
run with elsewhere in this report. It shows which share of each proxy's CPU per request is this back-and-forth,
which a broker on another host does not cause.
""")
    L.append("| policy | path | req/s median | min–max | proxy µs CPU per request | proxy sleeps per request | "
             "broker preempted per request |")
    L.append("|---|---|---|---|---|---|---|")
    def cell(s, spec):
        return format(s["median"], spec) if s else "–"
    for label, per in wakeups.items():
        for t, rs in per.items():
            rate, us, sleeps, pre = (summarize([r.get(k) for r in rs]) for k in (
                "requests_per_s", "proxy_us_per_request", "proxy_sleeps_per_request", "mock_preempted_per_request"))
            if rate:
                L.append(f"| {label} | {t} | {rate['median']:,.0f} | {rate['min']:,.0f}–{rate['max']:,.0f} | "
                         f"{cell(us, '.2f')} | {cell(sleeps, '.3f')} | {cell(pre, '.3f')} |")
        k, h = (summarize([r.get("requests_per_s") for r in per.get(n, [])]) for n in ("kedge-sni", "haproxy"))
        if k and h:
            L.append(f"| {label} | kedge/HAProxy | **{k['median'] / h['median']:.2f}×** | | | | |")
    L.append("")


def write_scaling(L, args, scaling, speed):
    """The workers 1 -> 2 section: throughput, ratio, and the CPU of every process per configuration."""
    cores = os.cpu_count() or 1
    rsa_speed = (f" One core here (`openssl speed`, single-threaded): RSA-2048 {speed['rsa2048'][0]:,.0f} signs/s, "
                 f"{speed['rsa2048'][1]:,.0f} verifies/s; RSA-4096 {speed['rsa4096'][0]:,.0f} signs/s, "
                 f"{speed['rsa4096'][1]:,.0f} verifies/s."
                 if "rsa2048" in speed and "rsa4096" in speed else "")
    autogroup = autogroup_scheduling()
    autogroup_note = (": the kernel here shares CPU fairly between sessions (`sched_autogroup_enabled` = 1), so "
                      "niced work in another session still takes its session's share; a busy neighbour leaves "
                      "this benchmark about one core" if autogroup else ", which yield CPU to these")
    L.append("### kedge worker loops: `workers` 1 → 2\n")
    L.append(f"""kedge runs `workers` event loops, each accepting on its own SO_REUSEPORT socket. To show what a second
loop buys, these workloads are chosen so that **kedge** is the bottleneck, not kload or the mock:
- **Full handshakes with an RSA certificate**: the server signs once per full handshake, the client only
  verifies (cheap for RSA; the chain is not verified); the mock sees one accept and one ApiVersions per
  connection. With RSA-2048 the client's share (key exchange, TCP connect/close, ticket handling) is still
  comparable to kedge's, so kload on CPU 0 limits what a second kedge core can add; RSA-4096 makes kedge
  clearly the bottleneck. Both are shown.{rsa_speed}
- **TLS Produce over 16 connections**: many connections spread across both accept sockets; kedge decrypts,
  frames and forwards; the mock appends. This one is shown to see where the CPU goes; whether kedge is its
  bottleneck is read from the CPU columns.

**Pinning in this step** (differs from the rest of the report): kedge may run on **both CPUs**
(`taskset -c 0,1`); kload and the mock stay on CPU 0 (`taskset -c 0`), so with 2 workers kedge's second loop
shares CPU 0 with them. kedge is restarted for every run; the order of workers=1 / workers=2 alternates per
round. CPU columns are utime+stime over the run's wall time in % of one core (this machine: {cores} cores =
{100 * cores}%): kedge (all threads; its busiest threads in brackets), kload (its rusage), the mock broker, and
**other** = every other process at normal priority on the machine (from /proc/stat), which this shared machine
does not control, and in brackets niced processes (nice > 0, e.g. other builds){autogroup_note}.
{args.rounds} run(s) per configuration; medians, min–max.
""")
    for key, title, _a, metric, unit, _cert in SCALING:
        per = scaling.get(key)
        if not per:
            continue
        L.append(f"#### {title}\n")
        L.append(f"| workers | {unit} median | min–max | kedge CPU % (threads) | kload CPU % | mock CPU % | "
                 f"other CPU % (niced) | errors |")
        L.append("|---|---|---|---|---|---|---|---|")
        medians = {}
        for workers in sorted(per):
            rs = [r for r in per[workers] if completed(r)]
            s = summarize([r.get(metric) for r in rs])
            col = lambda name: summarize([r.get(name) for r in rs])  # noqa: E731
            kedge_cpu, kload_cpu, mock_cpu, other, niced = (col(c) for c in (
                "cpu_kedge_pct", "cpu_kload_pct", "cpu_mock_pct", "cpu_other_pct", "cpu_niced_pct"))
            # Busiest threads of the median-throughput run.
            mid = sorted(rs, key=lambda r: r.get(metric) or 0)[len(rs) // 2] if rs else {}
            threads = "/".join(f"{t:.0f}" for t in mid.get("cpu_kedge_threads_pct", [])[:workers + 1])
            errs = sum(r.get("errors", 0) + r.get("malformed", 0) for r in per[workers])
            fatals = [r.get("fatal") for r in per[workers] if r.get("fatal")]
            medians[workers] = s and s["median"]
            pc = lambda x: f"{x['median']:.0f}" if x else "–"  # noqa: E731
            L.append(f"| {workers} | {fmt(s and s['median'], unit)} | {fmt(s and s['min'], unit)}–"
                     f"{fmt(s and s['max'], unit)} | {pc(kedge_cpu)} ({threads}) | {pc(kload_cpu)} | "
                     f"{pc(mock_cpu)} | {pc(other)} ({pc(niced)}) | {errs}{' (' + fatals[0] + ')' if fatals else ''} |")
        notes = []
        if medians.get(1) and medians.get(2):
            notes.append(f"workers 2 / workers 1 = **{medians[2] / medians[1]:.2f}×**")
        # Was the machine (rather than kedge) the limit? Compare what the benchmark's processes used with
        # what other processes left over.
        for workers in sorted(per):
            rs = [r for r in per[workers] if completed(r)]
            other = summarize([r.get("cpu_other_pct", 0) + (r.get("cpu_niced_pct", 0) if autogroup else 0)
                               for r in rs])
            ours = summarize([r.get("cpu_kedge_pct", 0) + r.get("cpu_kload_pct", 0) + r.get("cpu_mock_pct", 0)
                              for r in rs])
            if other and ours:
                left = 100 * cores - other["median"]
                notes.append(f"workers={workers}: other processes{'' if autogroup else ' (not niced)'} left "
                             f"{left:.0f}% of {100 * cores}%, "
                             f"kedge + kload "
                             f"+ mock used {ours['median']:.0f}%"
                             + (" (all of it: the machine, not kedge alone, was the limit)"
                                if ours["median"] >= 0.9 * left else ""))
        L.append("\n" + "; ".join(notes) + "\n" if notes else "")


def write_report(args, facts, results, idle, scaling, rsa_speeds, skipped, micro, elapsed, wakeups):
    L = []
    L.append("# kedge performance\n")
    L.append("Generated by `bash bench/run.sh` (bench/bench.py). Do not edit by hand: rerun the script. The last "
             "section is copied from bench/performance_notes.md.\n")
    if args.only:
        L.append(f"**Partial run** (`--only {args.only}`): only those parts were measured.\n")
    L.append("## Machine and versions\n")
    L.append(f"- CPU: {facts['cpu']}, {facts['cores']} cores; RAM {facts['mem_gib']} GiB; kernel {facts['kernel']}")
    L.append(f"- {facts['openssl']}; {facts['haproxy']}")
    L.append(f"- kedge {facts['kedge']} at commit {facts['commit']}; backend: librdkafka 2.12.0 mock cluster "
             f"(1 broker, tests/integration/mock_cluster.c)")
    L.append(f"- run: {facts['date']}, {args.rounds} rounds, {args.duration:g} s measured per run after "
             f"{args.warmup:g} s warm-up, total {elapsed / 60:.1f} min; 1-min load average at start "
             f"{facts['load_start']}, at end {open('/proc/loadavg').read().split()[0]} (other processes on this "
             f"machine widen the min–max ranges); CPU time taken by the hypervisor (steal) over the whole run: "
             f"{facts['steal_pct']:.1f}% of all CPUs\n")
    L.append("## Method\n")
    L.append(f"""- **Paths** (same machine, same run, interleaved: each round runs every workload on every path, and the
  path that goes first rotates per round):
  - `direct`: kload → mock broker. **Plaintext**: the librdkafka mock has no TLS listener, so this is the floor
    without any proxy and without TLS.
  - `haproxy`: kload → HAProxy ({facts['haproxy'].split(' - ')[0]}, generated config: `mode tcp`, `bind ... ssl crt`
    with the same certificate, `use_backend` by `ssl_fc_sni`, `nbthread 1`) → mock. HAProxy does not parse Kafka.
  - `kedge-sni`: kload → kedge (TLS, SNI `{SNI}`, Kafka-aware: rewrites Metadata, walks Produce v10 /
    Fetch v16 responses for KIP-951 NodeEndpoints — Fetch responses over 64 KiB stream with only their final tag
    section held —, clamps ApiVersions) → mock.
  - `kedge-port` (plaintext port mode), when the build has it.
- **TLS**: TLS 1.3, `{CIPHER}` forced by the client for every TLS path, one EC P-256 certificate
  (tests/integration/make_certs.sh), and an RSA-2048 one for the RSA handshake workload (served by a second HAProxy
  and a second kedge). The client does not verify the chain (not measured).
- **Load generator**: bench/kload.cpp, one thread, epoll, speaks Kafka itself, pins broker 1 (never follows
  Metadata). Produce v10 with one RecordBatch v2 (CRC-32C) per request, acks=1; Fetch v16 by topic id cycling
  through the batches present; Metadata v12; ApiVersions v2 (the mock's highest). Every response's error codes
  are checked; a run with any error is flagged in the log and counted below.
{pinning_text(args.layout)}
  The `workers` 1 → 2 step is the exception: kedge gets both CPUs there (see its section).
- **Numbers**: median of {args.rounds} runs, with min–max. Ratios are of medians. Latency: per-request
  send→response time in kload; "added p99" = path p99 − direct p99.
- **Idle memory**: fresh proxy process; N TLS connections each complete the handshake and one ApiVersions round
  trip, then stay idle; (proxy RSS after − before) / N. Each client connection holds two proxy sockets (client
  + broker); kernel socket buffers are not in RSS. `ulimit -n` is raised by run.sh.
""")
    targets_seen = []
    for w in results.values():
        for t in w:
            if t not in targets_seen:
                targets_seen.append(t)

    def med(key, target, metric):
        s = summarize([r.get(metric) for r in results.get(key, {}).get(target, [])
                       if completed(r)])
        return s

    def per_round(key, metric):
        """(kedge, HAProxy) pairs of one metric, one per round: both ran in that round, back to back."""
        runs = results.get(key, {})
        return [(k[metric], h[metric]) for k, h in zip(runs.get("kedge-sni", []), runs.get("haproxy", []))
                if completed(k) and completed(h) and k.get(metric) and h.get(metric)]

    L.append("## Results\n")
    summary_rows = []
    for key, title, _a, metric, unit, _tls in WORKLOADS:
        if key not in results:
            continue
        L.append(f"### {title}\n")
        if key == "ping":
            L.append("| path | p50 µs | p99 µs (min–max) | p99.9 µs | added p99 vs direct µs | errors |")
            L.append("|---|---|---|---|---|---|")
            d99 = med(key, "direct", "lat_p99_us")
            for t in targets_seen:
                if t not in results[key]:
                    continue
                p50, p99, p999 = (med(key, t, m) for m in ("lat_p50_us", "lat_p99_us", "lat_p999_us"))
                errs = sum(r.get("errors", 0) + r.get("malformed", 0) for r in results[key][t])
                added = (p99["median"] - d99["median"]) if (p99 and d99 and t != "direct") else None
                L.append(f"| {t} | {fmt(p50 and p50['median'], 'us')} | {fmt(p99 and p99['median'], 'us')} "
                         f"({fmt(p99 and p99['min'], 'us')}–{fmt(p99 and p99['max'], 'us')}) | "
                         f"{fmt(p999 and p999['median'], 'us')} | {fmt(added, 'us') if added is not None else '–'} | {errs} |")
            L.append("")
            continue
        L.append(f"| path | {unit} median | min–max | proxy CPU % | kload CPU % | p99 µs | errors |")
        L.append("|---|---|---|---|---|---|---|")
        for t in targets_seen:
            if t not in results[key]:
                continue
            s = med(key, t, metric)
            cpu = med(key, t, "proxy_cpu_pct")
            kcpu = med(key, t, "kload_cpu_pct")
            p99 = med(key, t, "lat_p99_us")
            errs = sum(r.get("errors", 0) + r.get("malformed", 0) for r in results[key][t])
            fatals = [r.get("fatal") for r in results[key][t] if r.get("fatal")]
            L.append(f"| {t} | {fmt(s and s['median'], unit)} | {fmt(s and s['min'], unit)}–{fmt(s and s['max'], unit)} | "
                     f"{fmt(cpu and cpu['median'], '%') if cpu else '–'} | "
                     f"{fmt(kcpu and kcpu['median'], '%') if kcpu else '–'} | {fmt(p99 and p99['median'], 'us')} | "
                     f"{errs}{' (' + fatals[0] + ')' if fatals else ''} |")
        ratios = []
        k, h, d = med(key, "kedge-sni", metric), med(key, "haproxy", metric), med(key, "direct", metric)
        if k and h:
            ratios.append(f"kedge/HAProxy = **{k['median'] / h['median']:.2f}×**")
        if k and d:
            ratios.append(f"kedge/direct = {k['median'] / d['median']:.2f}×")
        kc, hc = med(key, "kedge-sni", "proxy_cpu_pct"), med(key, "haproxy", "proxy_cpu_pct")
        if kc and hc and hc["median"] > 0 and k and h:
            per_k = kc["median"] / k["median"]
            per_h = hc["median"] / h["median"]
            ratios.append(f"proxy CPU per unit of work kedge/HAProxy = {per_k / per_h:.2f}×")
        steal = summarize([r.get("steal_pct") for rs in results[key].values() for r in rs])
        if steal:
            ratios.append(f"hypervisor steal during these runs {steal['median']:.1f}% (max {steal['max']:.1f}%)")
        L.append("\n" + "; ".join(ratios) + "\n" if ratios else "")
        if k and h:
            summary_rows.append((key, metric, k["median"] / h["median"], unit))
    if idle:
        L.append("### Resident memory per idle TLS connection (proxy RSS growth / N)\n")
        L.append("| path | N | bytes/conn median | min–max |")
        L.append("|---|---|---|---|")
        for n, per in sorted(idle.items()):
            for t, ms in per.items():
                s = summarize([m.get("bytes_per_conn") for m in ms])
                if s:
                    L.append(f"| {t} | {n:,} | {s['median']:,.0f} | {s['min']:,.0f}–{s['max']:,.0f} |")
                else:
                    L.append(f"| {t} | {n:,} | failed: {ms[0].get('fatal', '?')[:120]} | |")
        L.append("")
    if wakeups:
        write_wakeups(L, wakeups)
    if scaling:
        write_scaling(L, args, scaling, rsa_speeds)
    L.append("### What this run could not measure\n")
    if not skipped:
        L.append("- nothing skipped")
    for line in skipped:
        L.append(f"- {line}")
    L.append("")
    L.append("## Rewrite micro-benchmark (kafka_codec, bench/codec_bench.cpp, Google Benchmark)\n")
    if "skipped" in micro:
        L.append(f"- skipped: {micro['skipped']}\n")
    else:
        L.append("Each case feeds the whole response through `ResponseProcessor::feed` in 64 KiB slices, as the "
                 "gateway does; 3 repetitions.\n")
        L.append("| case | median time per response | stddev | throughput |")
        L.append("|---|---|---|---|")
        for name, agg in micro.items():
            m = agg.get("median") or {}
            sd = agg.get("stddev")
            bps = m.get("bytes_per_second")
            rng = f"{sd['real_time']:,.2f}" if sd else "–"
            tput = f"{bps / 1e9:.2f} GB/s" if bps else "–"
            L.append(f"| `{name}` | {m.get('real_time', 0):,.1f} {m.get('time_unit', '')} | {rng} | {tput} |")
        L.append("")
    L.append("## Targets\n")
    L.append("The ratio is of the medians. \"rounds\" gives the lowest and highest ratio of one round's two runs, "
             "which ran back to back.\n")
    if facts["steal_pct"] >= 5:
        L.append(f"**The hypervisor took {facts['steal_pct']:.0f}% of the CPUs' time during this run** (steal): "
                 f"every path ran slower and less evenly than on a quiet host, so these ratios are noisier than "
                 f"usual.\n")
    L.append("| target | measured | status |")
    L.append("|---|---|---|")
    for key, metric, ratio, unit in summary_rows:
        if key in ("produce", "fetch", "fetch_big", "metadata", "hs_full", "hs_resumed", "hs_full_rsa"):
            kl = [med(key, t, "kload_cpu_pct") for t in ("haproxy", "kedge-sni")]
            client_bound = all(k and k["median"] >= 95 for k in kl)
            why = (f" (client-bound: kload at {min(k['median'] for k in kl):.0f}–{max(k['median'] for k in kl):.0f}% "
                   f"of CPU 0)" if client_bound else "")
            shown = f"{ratio:.3f}" if 0.995 <= ratio < 1.005 else f"{ratio:.2f}"  # no "1.00× NOT met"
            rounds = [k / h for k, h in per_round(key, metric)]
            spread = (f" (rounds {min(rounds):.2f}–{max(rounds):.2f}×, kedge ahead in {sum(r >= 1 for r in rounds)} "
                      f"of {len(rounds)})" if rounds else "")
            L.append(f"| {key} kedge ≥ 1.0× HAProxy ({unit}) | {shown}×{spread} | "
                     f"{'met' if ratio >= 1.0 else 'NOT met'}{why} |")
    if "ping" in results:
        k, h = med("ping", "kedge-sni", "lat_p99_us"), med("ping", "haproxy", "lat_p99_us")
        if k and h:
            pairs = per_round("ping", "lat_p99_us")
            lower = f" (kedge lower in {sum(a <= b for a, b in pairs)} of {len(pairs)} rounds)" if pairs else ""
            L.append(f"| ping p99 kedge ≤ HAProxy | {k['median']:.0f} µs vs {h['median']:.0f} µs{lower} | "
                     f"{'met' if k['median'] <= h['median'] else 'NOT met'} |")
    for n, per in sorted(idle.items()):
        k = summarize([m.get("bytes_per_conn") for m in per.get("kedge-sni", [])])
        h = summarize([m.get("bytes_per_conn") for m in per.get("haproxy", [])])
        if k and h:
            L.append(f"| memory/idle conn kedge ≤ HAProxy (N={n:,}) | {k['median']:,.0f} B vs {h['median']:,.0f} B | "
                     f"{'met' if k['median'] <= h['median'] else 'NOT met'} |")
    L.append("")
    # Hand-written explanations (not measured by this run) live beside the generator, so a rerun keeps them.
    notes = os.path.join(HERE, "performance_notes.md")
    if os.path.exists(notes):
        with open(notes) as f:
            L.append(f.read())
    with open(args.out, "w") as f:
        f.write("\n".join(L))


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        for p in list(STARTED):
            stop(p)
