#!/usr/bin/env python3
"""kedge benchmark driver (started by bench/run.sh; see docs/performance.md for the method).

One run measures, interleaved round by round on this machine, with one certificate, one TLS 1.3
cipher suite (forced by the client) and one backend (the librdkafka 2.12 mock, plaintext):
  direct      kload -> mock broker (plaintext: the mock speaks no TLS)
  haproxy     kload -TLS-> HAProxy (mode tcp, ssl crt, use_backend by ssl_fc_sni) -> mock
  kedge-sni   kload -TLS-> kedge (SNI routing, rewriting) -> mock
  kedge-port  kload -> kedge port mode (plaintext), when this kedge build accepts the config
and, for the client-identity workloads, instances of the same proxies that authenticate clients:
  kedge-terminate          kedge terminating SASL (SCRAM-SHA-256, PLAIN) against a users file
  haproxy, kedge-sni (mTLS) HAProxy (`verify required`) and kedge (authentication mtls) requiring a client
                            certificate signed by the bench CA; their rows keep the plain paths' names
saves every figure of the run (and the facts of the machine and run) to results.json in its work directory, and
renders the Markdown report (docs/performance.md) from that file alone. `bench.py --render RESULTS_JSON --out FILE`
renders a saved run again without measuring anything. Every number in the report comes from a real run here.
"""
import argparse
import json
import os
import resource
import platform
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
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


SASL_USER = "bench"


def make_identity(kedge, work):
    """What the client-identity paths need: a users file made by `kedge users add` (user SASL_USER,
    SCRAM-SHA-256, 4096 iterations: RFC 7677's minimum and Kafka's default) with the password in a file
    for kload, and a client certificate (EC P-256, CN=bench-client, clientAuth) signed by the bench CA."""
    d = os.path.join(work, "identity")
    os.makedirs(d, exist_ok=True)
    password = os.path.join(d, "bench.password")
    with open(os.open(password, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(secrets.token_urlsafe(24) + "\n")
    users = os.path.join(d, "users.json")
    r = subprocess.run([kedge, "users", "add", SASL_USER, "--file", users, "--mechanisms", "SCRAM-SHA-256",
                        "--iterations", "4096", "--password-file", password], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"kedge users add failed: {(r.stdout + r.stderr).strip()}")
    tls = os.path.join(work, "tls")
    key, csr, cert, ext = (os.path.join(d, n) for n in ("client.key", "client.csr", "client.pem", "client.ext"))
    with open(ext, "w") as f:
        f.write("basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n"
                "extendedKeyUsage = clientAuth\n")
    for argv in (["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key],
                 ["openssl", "req", "-new", "-key", key, "-subj", "/CN=bench-client", "-out", csr],
                 ["openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(tls, "ca.pem"), "-CAkey",
                  os.path.join(tls, "ca.key"), "-set_serial", "0x" + secrets.token_hex(15), "-sha256", "-days", "30",
                  "-extfile", ext, "-out", cert]):
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return {"users_file": users, "password_file": password, "client_cert": cert, "client_key": key,
            "ca_file": os.path.join(tls, "ca.pem")}


def start_identity_paths(kedge, work, mock, certs, identity, wanted):
    """The proxies of the client-identity workloads, for the path kinds in `wanted` ("sasl", "mtls"):
    {"kedge-terminate": Target} and {"haproxy": Target, "kedge-sni": Target} requiring client certificates."""
    sasl_paths, mtls_paths = {}, {}
    if "sasl" in wanted:
        terminate = {"mode": "terminate", "sasl": {"mechanisms": ["SCRAM-SHA-256", "PLAIN"],
                                                   "users_file": identity["users_file"]}}
        t, why = start_kedge(kedge, work, mock, certs, "sni", tag="-terminate", authentication=terminate)
        if t is None:
            raise SystemExit(f"kedge (SASL terminate) did not start: {why}")
        t.name = "kedge-terminate"
        t.kload_args = ["--sasl-user", SASL_USER, "--sasl-password-file", identity["password_file"]]
        sasl_paths["kedge-terminate"] = t
    if "mtls" in wanted:
        client = ["--cert", identity["client_cert"], "--key", identity["client_key"]]
        h = start_haproxy(work, mock, certs, tag="-mtls", client_ca=identity["ca_file"])
        mtls = {"mode": "terminate", "mtls": {"client_certificates": "required", "ca_file": identity["ca_file"]}}
        k, why = start_kedge(kedge, work, mock, certs, "sni", tag="-mtls", authentication=mtls)
        if k is None:
            raise SystemExit(f"kedge (mTLS required) did not start: {why}")
        for t in (h, k):
            t.kload_args = client
        mtls_paths = {"haproxy": h, "kedge-sni": k}
    return sasl_paths, mtls_paths


def workload_paths(paths, order, rnd, ksni, variants):
    """[(name in the results, Target, extra kload args)] of one workload in one round. `paths`: False = every
    path, True = the TLS paths, "rsa2048" / "mtls" = the TLS paths' instances in `variants[paths]` (same
    names), "sasl:MECH" = kedge-sni (passthrough: no SASL) and kedge-terminate authenticating with MECH, the
    first of the two alternating per round."""
    if isinstance(paths, str) and paths.startswith("sasl:"):
        terminate = variants["sasl"]["kedge-terminate"]
        pair = [("kedge-sni", ksni, []), ("kedge-terminate", terminate, ["--sasl", paths.split(":", 1)[1]])]
        return [(name, t, t.kload_args + extra) for name, t, extra in rotated(pair, rnd)]
    out = []
    for t in order:
        if paths and not t.tls:
            continue
        path = variants[paths].get(t.name) if paths in ("rsa2048", "mtls") else t
        if path is not None:
            out.append((t.name, path, path.kload_args))
    return out


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

    def create_topic(self, name, partitions=1):
        """A topic beside the four above (mock_cluster's `topic` command)."""
        self.p.stdin.write(f"topic {name} {partitions}\n".encode())
        self.p.stdin.flush()
        answer = self.p.stdout.readline().decode().strip()
        if not answer.startswith("ok"):
            raise SystemExit(f"mock cluster: topic {name}: {answer!r}")


class Target:
    """One path from kload to the broker."""

    def __init__(self, name, port, tls, proc=None, note=""):
        self.name, self.port, self.tls, self.proc, self.note = name, port, tls, proc, note
        self.kload_args = []  # what kload needs on this path (a client certificate, SASL credentials)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None


def haproxy_config(work, port, mock, pem, tag="", client_ca=None):
    # HAProxy's mTLS: the handshake fails unless the client presents a certificate that chains to client_ca.
    verify = f" verify required ca-file {client_ca}" if client_ca else ""
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
    bind 127.0.0.1:{port} ssl crt {pem}{verify}
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


def start_haproxy(work, mock, certs, tag="", client_ca=None):
    """`tag` keeps a second instance's files (e.g. one with another certificate) apart from the first's;
    `client_ca`: require client certificates signed by it."""
    pem = os.path.join(work, f"haproxy{tag}.pem")
    with open(pem, "w") as f:
        f.write(open(certs["cert"]).read() + open(certs["key"]).read())
    port = free_port()
    cfg = haproxy_config(work, port, mock, pem, tag, client_ca)
    log_path = os.path.join(work, f"haproxy{tag}.log")
    p = start(pin(1) + ["haproxy", "-db", "-f", cfg], log_path)
    if not wait_port(port):
        raise SystemExit("haproxy did not start: " + open(log_path).read()[-2000:])
    return Target("haproxy", port, True, p)


def acl_policy(rules=100):
    """A virtual-cluster policy with `rules` ACL rules (docs/policy.md "ACLs") that lets kload do everything it
    does: decoys for other teams' topics, groups and principals first, the rule that matches the bench topics
    last, so every decision scans the whole list (the worst case)."""
    acls = []
    for i in range(rules - 2):
        kind = i % 4
        if kind == 0:
            acls.append({"allow": ["Read", "Write"], "topics": [f"team-{i:03}-*"], "principals": [f"svc-{i:03}"]})
        elif kind == 1:
            acls.append({"deny": ["Write"], "topics": [f"archive-{i:03}"], "client_addresses": ["10.0.0.0/8"]})
        elif kind == 2:
            acls.append({"allow": ["Read"], "groups": [f"team-{i:03}-*"]})
        else:
            acls.append({"deny": ["All"], "topics": [f"secret-{i:03}-*"], "principals": ["*"]})
    acls.append({"deny": ["Delete"], "topics": ["bench-*"]})
    acls.append({"allow": ["Read", "Write"], "topics": ["bench-*"]})
    return {"acls": acls}


def kedge_config(port, mock, certs, mode, workers=None, authentication=None, policy=None, quotas=None,
                 namespace=None):
    """`authentication`: the virtual cluster's client authentication (docs/identity.md), which then admits
    every authenticated principal; the backend stays the mock without SASL, so kedge needs no service
    credentials upstream. `policy`, `quotas`: the virtual cluster's policy and quotas (docs/policy.md).
    `namespace`: its namespace (docs/namespaces.md)."""
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
    if authentication is not None:
        config["virtual_clusters"][0].update(authentication=authentication, principals=["*"])
    if policy is not None:
        config["virtual_clusters"][0]["policy"] = policy
    if quotas is not None:
        config["virtual_clusters"][0]["quotas"] = quotas
    if namespace is not None:
        config["virtual_clusters"][0]["namespace"] = namespace
    return config


def kedge_validate(kedge, work, config, name):
    path = os.path.join(work, f"{name}.json")
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
    r = subprocess.run([kedge, "validate", "--config", path], capture_output=True, text=True)
    return path, r.returncode == 0, (r.stdout + r.stderr).strip()


def start_kedge(kedge, work, mock, certs, mode, cpus="1", workers=None, tag="", authentication=None):
    port = free_port()
    name = f"kedge-{mode}" + (f"-w{workers}" if workers else "") + tag
    path, ok, why = kedge_validate(kedge, work, kedge_config(port, mock, certs, mode, workers, authentication), name)
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
    # Client identity (issue 17). A connection as an authenticating client opens it, against the same connection
    # through passthrough kedge-sni without the SASL round trips: the ratio is what SASL termination costs.
    ("sasl_scram", "Connections with SCRAM-SHA-256 (full TLS handshake, ApiVersions, SaslHandshake, client-first "
     "and client-final SaslAuthenticate, 1 Metadata, close), 8 concurrent; kedge-sni: the same without SASL",
     ["--workload", "session", "--topic", "bench-meta", "--connections", "8"], "sessions_per_s", "connections/s",
     "sasl:SCRAM-SHA-256"),
    ("sasl_plain", "Connections with PLAIN (full TLS handshake, ApiVersions, SaslHandshake, 1 SaslAuthenticate, "
     "1 Metadata, close), 8 concurrent; kedge-sni: the same without SASL",
     ["--workload", "session", "--topic", "bench-meta", "--connections", "8"], "sessions_per_s", "connections/s",
     "sasl:PLAIN"),
    # mTLS: separate HAProxy (`verify required ca-file`) and kedge (authentication mtls required) instances
    # demand a client certificate signed by the bench CA; kload presents one. The rows keep the paths' names.
    ("hs_full_mtls", "Full TLS handshakes with a client certificate required (EC P-256, signed by the bench CA; "
     "+1 ApiVersions round trip, close), 8 concurrent",
     ["--workload", "handshake", "--connections", "8"], "handshakes_per_s", "handshakes/s", "mtls"),
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
    """args: the workload's, then the path's (target.kload_args or more; the caller adds them)."""
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
    ap.add_argument("--build", help="build directory with kedge, kload, the mock and codec_bench (measuring runs)")
    ap.add_argument("--out", default=None,
                    help="report path (default docs/performance.md; with --only, partial.md in the work dir)")
    ap.add_argument("--render", metavar="RESULTS_JSON",
                    help="measure nothing: render the report from a saved results.json into --out")
    ap.add_argument("--facts-from", metavar="REPORT_MD",
                    help="with --render, for a results.json saved before it held the run's facts (machine, "
                         "commit, date, rounds): read them from the report that same run wrote")
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
    if args.render:
        if not args.out:
            ap.error("--render needs --out")
        with open(args.render) as f:
            data = json.load(f)
        if "run" not in data:
            if not args.facts_from:
                ap.error(f"{args.render} holds no run facts (saved before they were kept): add --facts-from "
                         f"with the report that run wrote")
            data["run"] = run_facts_from_report(args.facts_from)
            data["run"]["facts_from"] = os.path.basename(args.facts_from)
        render(data, args.out)
        log(f"report {args.out} rendered from {args.render}")
        return 0
    if not args.build:
        ap.error("--build is required to measure (or --render RESULTS_JSON to render a saved run)")
    if args.facts_from:
        ap.error("--facts-from goes with --render")
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
        # The client-identity paths, for the workloads that ask for them.
        kinds = {"sasl" if str(w[5]).startswith("sasl:") else w[5] for w in workloads}
        variants = {"rsa2048": rsa_paths, "mtls": {}, "sasl": {}}
        if kinds & {"sasl", "mtls"}:
            identity = make_identity(kedge, work)
            variants["sasl"], variants["mtls"] = start_identity_paths(kedge, work, mock, certs, identity, kinds)
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
                for name, path, extra in workload_paths(paths, order, rnd, ksni, variants):
                    r = run_kload(kload, path, wargs + extra, args.duration, args.warmup)
                    results.setdefault(key, {}).setdefault(name, []).append(r)
                    bad = r.get("fatal") or r.get("errors") or r.get("malformed") or r.get("rc")
                    log(f"  {key:10s} {name:10s} {metric}={r.get(metric)} p99={r.get('lat_p99_us')}us "
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
    steal_pct = 100.0 * (stolen_seconds() - stolen_at_start) / (elapsed * (os.cpu_count() or 1))
    save_and_render(args, work, facts, skipped, elapsed, steal_pct,
                    {"results": results, "idle": idle, "scaling": scaling, "rsa_speed": rsa_speeds,
                     "wakeups": wakeups, "micro": micro})
    problems = sum(1 for w in list(results.values()) + list(scaling.values()) for rs in w.values() for r in rs
                   if r.get("fatal") or r.get("errors") or r.get("malformed"))
    return 1 if problems else 0


def save_and_render(args, work, facts, skipped, elapsed, steal_pct, measured):
    """Writes the run's figures and facts to WORK/results.json, then renders the report from that file, exactly
    as `--render` would later. measured: results, idle ({n: ...}), scaling ({key: {workers: ...}}), rsa_speed,
    wakeups, micro."""
    run = dict(facts)
    run.update({
        "rounds": args.rounds, "duration_s": args.duration, "warmup_s": args.warmup, "layout": args.layout,
        "only": args.only, "elapsed_s": elapsed, "load_end": open("/proc/loadavg").read().split()[0],
        "steal_pct": steal_pct, "autogroup": autogroup_scheduling(), "skipped": skipped,
        "workloads": [{"key": k, "title": t, "metric": m, "unit": u} for k, t, _a, m, u, _p in WORKLOADS],
        "scaling_workloads": [{"key": k, "title": t, "metric": m, "unit": u} for k, t, _a, m, u, _c in SCALING],
    })
    data = dict(measured, run=run, idle={str(n): v for n, v in measured["idle"].items()},
                scaling={k: {str(w): rs for w, rs in per.items()} for k, per in measured["scaling"].items()})
    saved = os.path.join(work, "results.json")
    with open(saved, "w") as f:
        json.dump(data, f, indent=1)
    with open(saved) as f:
        render(json.load(f), args.out)
    log(f"raw results in {saved}; report {args.out}; {elapsed:.0f} s "
        f"(render again: bench/bench.py --render {saved} --out FILE)")


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
# The report. render() reads nothing but the saved results (the dict written to results.json), so every
# figure in the report is one that run measured, and `--render` can redo the report of a past run.

RATE_NOUN = {"MB/s": "MB", "req/s": "request", "handshakes/s": "handshake", "connections/s": "connection"}
RATE_GROUP = {"MB/s": "Throughput, MB/s of record payload", "req/s": "Metadata, requests/s",
              "handshakes/s": "TLS handshakes per second",
              "connections/s": "Connections per second (TLS handshake, SASL, Metadata, close)"}
# hs_full_mtls is a fair kedge/HAProxy comparison: both demand and verify the same client certificate against
# the same CA. sasl_* are not (HAProxy does not speak Kafka SASL): kedge against itself, in the identity section.
TARGET_KEYS = ("produce", "fetch", "fetch_big", "metadata", "hs_full", "hs_resumed", "hs_full_rsa", "hs_full_mtls")
SASL_KEYS = ("sasl_scram", "sasl_plain")
NOTES = "bench/performance_notes.md"


def run_facts_from_report(path):
    """The run facts of a results.json saved before they were kept in it, read back from the "Machine and
    versions" section (and the skipped list) of the Markdown report that the same run wrote."""
    with open(path) as f:
        text = f.read()

    def find(pattern):
        m = re.search(pattern, text, re.M)
        if not m:
            raise SystemExit(f"{path}: not a report of the old format (no match for {pattern!r})")
        return m
    run = {}
    m = find(r"^- CPU: (.*), (\d+) cores; RAM ([\d.]+) GiB; kernel (\S+)$")
    run.update(cpu=m[1], cores=int(m[2]), mem_gib=float(m[3]), kernel=m[4])
    m = find(r"^- (OpenSSL.*?); (HAProxy.*)$")
    run.update(openssl=m[1], haproxy=m[2])
    m = find(r"^- kedge (.*) at commit (.*?); backend:")
    run.update(kedge=m[1], commit=m[2])
    m = find(r"^- run: (.* UTC), (\d+) rounds, ([\d.]+) s measured per run after ([\d.]+) s warm-up, total "
             r"([\d.]+) min; 1-min load average at start (\S+), at end (\S+) .*over the whole run: ([\d.]+)% of all")
    run.update(date=m[1], rounds=int(m[2]), duration_s=float(m[3]), warmup_s=float(m[4]),
               elapsed_s=60 * float(m[5]), load_start=m[6], load_end=m[7], steal_pct=float(m[8]))
    run["layout"] = find(r"\(\d+ cores, `--layout ([\w-]+)`")[1]
    partial = re.search(r"^\*\*Partial run\*\* \(`--only ([^`]*)`\)", text, re.M)
    run["only"] = partial[1] if partial else ""
    run["autogroup"] = "`sched_autogroup_enabled` = 1" in text
    skipped = re.search(r"^### What this run could not measure\n\n((?:- .*\n)+)", text, re.M)
    run["skipped"] = [line[2:] for line in (skipped[1].splitlines() if skipped else [])
                      if line != "- nothing skipped"]
    return run


def workload_defs(run, saved_key, defined):
    """(key, title, metric, unit) per workload as the run defined them (older results: as defined now)."""
    if run.get(saved_key):
        return [(w["key"], w["title"], w["metric"], w["unit"]) for w in run[saved_key]]
    return [(w[0], w[1], w[3], w[4]) for w in defined]


def value_stats(runs, value):
    """summarize() of value(run) over runs; a run lacking a field (or with a zero rate) counts as missing."""
    out = []
    for r in runs:
        try:
            out.append(value(r))
        except (KeyError, TypeError, ZeroDivisionError):
            out.append(None)
    return summarize(out)


def cpu_per_unit(cpu_pct_field, metric, scale):
    """CPU time per unit of work of one run (a field in % of one core over the run, over the run's rate),
    times scale (1e3: ms, 1e6: µs)."""
    return lambda r: r[cpu_pct_field] / 100.0 / r[metric] * scale


def num(x, spec):
    return "–" if x is None else format(x, spec)


def prose(text, bullet=""):
    """A paragraph (or, with bullet "- ", a list item) wrapped like the hand-written docs."""
    return textwrap.fill(" ".join(text.split()), width=115, initial_indent=bullet,
                         subsequent_indent=" " * len(bullet), break_long_words=False, break_on_hyphens=False)


class Report:
    def __init__(self, data):
        self.data, self.run = data, data["run"]
        self.results = data.get("results", {})
        self.idle = sorted(((int(n), per) for n, per in data.get("idle", {}).items()), key=lambda x: x[0])
        self.defs = workload_defs(self.run, "workloads", WORKLOADS)
        self.metric = {key: metric for key, _t, metric, _u in self.defs}
        self.unit = {key: unit for key, _t, _m, unit in self.defs}
        self.paths = [p for p in ("direct", "haproxy", "kedge-sni", "kedge-port", "kedge-terminate")
                      if any(p in per for per in self.results.values())]
        self.L = []

    def runs(self, key, path):
        return [r for r in self.results.get(key, {}).get(path, []) if completed(r)]

    def med(self, key, path, metric):
        return summarize([r.get(metric) for r in self.runs(key, path)])

    def median_of(self, key, path, value):
        s = value_stats(self.runs(key, path), value)
        return s and s["median"]

    def per_round(self, key, metric):
        """(kedge, HAProxy) pairs of one metric, one per round: both ran in that round, back to back."""
        runs = self.results.get(key, {})
        return [(k[metric], h[metric]) for k, h in zip(runs.get("kedge-sni", []), runs.get("haproxy", []))
                if completed(k) and completed(h) and k.get(metric) and h.get(metric)]

    @staticmethod
    def spread(s, unit):
        """The lowest–highest of a summarize() result, or one dash."""
        return f"{fmt(s['min'], unit)}–{fmt(s['max'], unit)}" if s else "–"

    def errors(self, key, path):
        rs = self.results.get(key, {}).get(path, [])
        fatals = [r.get("fatal") for r in rs if r.get("fatal")]
        return f"{sum(r.get('errors', 0) + r.get('malformed', 0) for r in rs)}" + (f" ({fatals[0]})" if fatals else "")

    def kload_range(self, key):
        kl = [self.med(key, t, "kload_cpu_pct") for t in ("haproxy", "kedge-sni")]
        return kl, all(k and k["median"] >= 95 for k in kl)

    # -- sections ------------------------------------------------------------------------------
    def header(self):
        run, L = self.run, self.L
        L.append("# kedge performance\n")
        facts_from = (" (That results.json predates saved run facts: the machine, date and commit are read from the "
                      "report the same run wrote.)" if run.get("facts_from") else "")
        L.append(prose(
            f"kedge against HAProxy and against no proxy on one {run['cores']}-core machine. **Figures from the run "
            f"of {run['date']} at commit {run['commit']}, {run['rounds']} rounds**, rendered by bench/bench.py from "
            f"that run's results.json (do not edit by hand; `bench/bench.py --render` renders a saved run again)."
            f"{facts_from} The experiments behind the design: {NOTES}.") + "\n")
        if run.get("only"):
            L.append(f"**Partial run** (`--only {run['only']}`): only those parts were measured.\n")

    def setup(self):
        run, L = self.run, self.L
        L.append("## Setup\n")
        L.append(prose(f"**Machine**: {run['cpu']}, {run['cores']} cores, {run['mem_gib']} GiB RAM, kernel "
                       f"{run['kernel']}; {run['openssl']}; {run['haproxy'].split(' - ')[0]}.", "- "))
        L.append(prose(f"**This run**: {run['date']}, kedge {run['kedge'].removeprefix('kedge ')} at commit "
                       f"{run['commit']}, {run['elapsed_s'] / 60:.1f} min; 1-min load average {run['load_start']} at "
                       f"start, {run['load_end']} at end; hypervisor steal {run['steal_pct']:.1f}% of all CPU time.",
                       "- "))
        L.append(prose("""**Paths**, all in the same run. `direct`: kload → broker in plaintext (the mock broker has
            no TLS listener): the floor, no proxy and no TLS. `haproxy`: TLS, `mode tcp`, `use_backend` by
            `ssl_fc_sni`, `nbthread 1`; it does not parse Kafka. `kedge-sni`: TLS, routed by SNI, Kafka-aware
            (rewrites Metadata, walks Produce v10 / Fetch v16 responses for KIP-951 NodeEndpoints, clamps
            ApiVersions). `kedge-port`: kedge's plaintext port mode.""", "- "))
        if any(key in self.results for key in SASL_KEYS + ("hs_full_mtls",)):
            L.append(prose("""**Client identity paths** (own instances, on CPU 1 like the others).
                `kedge-terminate`: kedge-sni's configuration plus `authentication` `terminate` on the virtual
                cluster with SASL SCRAM-SHA-256 and PLAIN against a users file made by `kedge users add` at set-up
                (one user, 4096 iterations) and `principals` `["*"]`; the backend is the same mock without SASL, so
                kedge uses no service credentials. For `hs_full_mtls`, HAProxy with `verify required ca-file` on
                its bind line and kedge with `authentication` `terminate`, `mtls` `required` and the bench CA as
                `ca_file`; their rows keep the names haproxy and kedge-sni.""", "- "))
        L.append(prose(f"""**Backend and client**: one librdkafka 2.12.0 mock broker
            (tests/integration/mock_cluster.c). kload (bench/kload.cpp): one thread, epoll, speaks Kafka itself,
            always to broker 1, checks every response's error codes (the errors column). TLS 1.3 with `{CIPHER}`
            forced by the client, an EC P-256 certificate, the chain not verified; the RSA-2048 workload has its
            own HAProxy and kedge with an RSA-2048 certificate.""", "- "))
        if run["layout"] == "proxy-alone":
            L.append(prose("""**CPUs** (`--layout proxy-alone`): kload and the broker share CPU 0, the proxy has CPU 1
                to itself. CPU 0 then sets every rate, and a proxy's cost shows in its CPU % only.""", "- "))
        else:
            L.append(prose(f"""**CPUs** (`--layout backend-shares-proxy-cpu`, the default): kload alone on CPU 0; the
                proxy under test and the broker share CPU 1, so every cycle the proxy spends is one the broker does
                not get, and throughput shows the proxy's cost (`direct`: the broker alone on CPU 1). Why this
                layout: {NOTES}, "Benchmark method".""", "- "))
        L.append(prose(f"""**Rounds**: {run['rounds']}; each runs every workload on every path, the path that goes
            first rotating per round; {run['duration_s']:g} s measured per run after {run['warmup_s']:g} s
            warm-up. Tables give the median and, under "rounds", the lowest and highest run; ratios are of
            medians. *proxy CPU %*, *kload CPU %*: the process's utime+stime over the run, in % of one core (kload
            near 100%: the client set the rate). p99: per request, from send to response.""", "- "))
        self.conditions()
        L.append("- **Workloads** (the names used below):")
        for key, title, _m, _u in self.defs:
            if key in self.results:
                L.append(f"  - `{key}`: {title}")
        L.append("")

    def targets(self):
        """The targets and their status; the logic (thresholds, rounding, per-round counts) is the report's
        contract: changing it changes what "met" means across reports."""
        run, L = self.run, self.L
        L.append("## Targets\n")
        L.append(prose("The ratio is of the medians. \"rounds\" gives the lowest and highest ratio of one round's two "
                       "runs, which ran back to back.") + "\n")
        if run["steal_pct"] >= 5:
            L.append(f"**The hypervisor took {run['steal_pct']:.0f}% of the CPUs' time during this run** (steal): "
                     f"every path ran slower and less evenly than on a quiet host, so these ratios are noisier than "
                     f"usual.\n")
        L.append("| target | measured | status |")
        L.append("|---|---|---|")
        for key, _t, metric, unit in self.defs:
            if key not in self.results or key not in TARGET_KEYS:
                continue
            k, h = self.med(key, "kedge-sni", metric), self.med(key, "haproxy", metric)
            if not (k and h):
                continue
            ratio = k["median"] / h["median"]
            kl, client_bound = self.kload_range(key)
            why = (f" (client-bound: kload at {min(k['median'] for k in kl):.0f}–{max(k['median'] for k in kl):.0f}% "
                   f"of CPU 0)" if client_bound else "")
            shown = f"{ratio:.3f}" if 0.995 <= ratio < 1.005 else f"{ratio:.2f}"  # no "1.00× NOT met"
            rounds = [a / b for a, b in self.per_round(key, metric)]
            spread = (f" (rounds {min(rounds):.2f}–{max(rounds):.2f}×, kedge ahead in {sum(r >= 1 for r in rounds)} "
                      f"of {len(rounds)})" if rounds else "")
            L.append(f"| {key} kedge ≥ 1.0× HAProxy ({unit}) | {shown}×{spread} | "
                     f"{'met' if ratio >= 1.0 else 'NOT met'}{why} |")
        if "ping" in self.results:
            k, h = self.med("ping", "kedge-sni", "lat_p99_us"), self.med("ping", "haproxy", "lat_p99_us")
            if k and h:
                pairs = self.per_round("ping", "lat_p99_us")
                lower = f" (kedge lower in {sum(a <= b for a, b in pairs)} of {len(pairs)} rounds)" if pairs else ""
                L.append(f"| ping p99 kedge ≤ HAProxy | {k['median']:.0f} µs vs {h['median']:.0f} µs{lower} | "
                         f"{'met' if k['median'] <= h['median'] else 'NOT met'} |")
        for n, per in self.idle:
            k = summarize([m.get("bytes_per_conn") for m in per.get("kedge-sni", [])])
            h = summarize([m.get("bytes_per_conn") for m in per.get("haproxy", [])])
            if k and h:
                L.append(f"| memory/idle conn kedge ≤ HAProxy (N={n:,}) | {k['median']:,.0f} B vs "
                         f"{h['median']:,.0f} B | {'met' if k['median'] <= h['median'] else 'NOT met'} |")
        L.append("")
        throughput = [key for key in TARGET_KEYS if self.unit.get(key) == "MB/s" and self.both_proxies_ran(key)]
        limits = [(", ".join(throughput), self.throughput_limit(throughput))] if throughput else []
        limits += [(key, self.limit(key)) for key in list(TARGET_KEYS) + ["ping", "memory"] if key not in throughput]
        limits = [(key, text) for key, text in limits if text]
        if limits:
            L.append("**What limits each row** (medians of this run):\n")
            for key, text in limits:
                L.append(prose(f"**{key}**: {text}", "- "))
            L.append("")

    # -- what limits each target row: mechanism in words, figures from this run -------------------
    def both_proxies_ran(self, key):
        return bool(self.runs(key, "kedge-sni") and self.runs(key, "haproxy"))

    def limit(self, key):
        """What limits one target row: the mechanism in words, the figures from this run."""
        if key == "ping":
            return self.ping_limit()
        if key == "memory":
            return self.memory_limit()
        if not self.both_proxies_ran(key):
            return ""
        metric, unit = self.metric[key], self.unit[key]
        if unit == "MB/s":
            return self.throughput_limit([key])
        noun = RATE_NOUN.get(unit, "unit")
        scale, shown = (1e6, "µs") if unit == "req/s" else (1e3, "ms")
        proxy, client = ({t: self.median_of(key, t, cpu_per_unit(field, metric, scale))
                          for t in ("kedge-sni", "haproxy")} for field in ("proxy_cpu_pct", "kload_cpu_pct"))
        kl, _client_bound = self.kload_range(key)
        kload = f"{min(k['median'] for k in kl):.0f}–{max(k['median'] for k in kl):.0f}%" if all(kl) else "–"
        cost = (f"per {noun} kedge used {num(proxy['kedge-sni'], '.2f')} {shown} of CPU and HAProxy "
                f"{num(proxy['haproxy'], '.2f')} {shown}")
        if self.run["layout"] == "proxy-alone":
            return (f"CPU 0, shared by kload and the broker, sets the rate in this layout; the proxies' cost shows in "
                    f"their CPU: {cost}.")
        if key == "metadata":
            return self.metadata_limit(cost)
        # The side that spends more CPU per handshake, each on its own core, is the one that limits.
        side = [c is not None and p is not None and c > p for c, p in
                ((client["kedge-sni"], proxy["kedge-sni"]), (client["haproxy"], proxy["haproxy"]))]
        lead = "The client's CPU" if all(side) else "The proxy's CPU" if not any(side) else \
            "Both the client's and the proxy's CPU"
        detail = {"hs_full": " (the client verifies the ECDSA signature, runs X25519 and decodes the certificate)",
                  "hs_resumed": " (no certificate and no signature on either side)",
                  "hs_full_mtls": " (beyond `hs_full`, the client signs its CertificateVerify and the proxy decodes "
                                  "the client's certificate and verifies its chain and signature)"}.get(key, "")
        sign = self.data.get("rsa_speed", {}).get("rsa2048")
        if key == "hs_full_rsa":
            detail = " (the proxy signs once per handshake" + (
                f"; one core here makes {sign[0]:,.0f} RSA-2048 signatures per second" if sign else "") + ")"
        return (f"{lead}{detail}: per handshake kedge used {num(proxy['kedge-sni'], '.2f')} ms of CPU 1 and HAProxy "
                f"{num(proxy['haproxy'], '.2f')} ms; kload used {num(client['kedge-sni'], '.2f')} ms of CPU 0 behind "
                f"kedge and {num(client['haproxy'], '.2f')} ms behind HAProxy, running at {kload}.")

    def throughput_limit(self, keys):
        """One text for the MB/s rows: the same CPU limits them."""
        per_mb = {t: " / ".join(num(self.median_of(key, t, cpu_per_unit("proxy_cpu_pct", self.metric[key], 1e3)),
                                    ".2f") for key in keys) for t in ("kedge-sni", "haproxy")}
        cost = (f"per MB kedge used {per_mb['kedge-sni']} ms of CPU and HAProxy {per_mb['haproxy']} ms "
                f"({' / '.join(keys)})")
        if self.run["layout"] == "proxy-alone":
            return (f"CPU 0, shared by kload and the broker, sets the rate in this layout; the proxies' cost shows in "
                    f"their CPU: {cost}.")
        kl = [k["median"] for key in keys for k in self.kload_range(key)[0] if k]
        bound = [key for key in keys if self.kload_range(key)[1]]
        return (f"CPU 1, which the proxy shares with the broker: {cost}"
                + (f", while kload ran at {min(kl):.0f}–{max(kl):.0f}% of CPU 0" if kl else "")
                + (f" and set the rate of {', '.join(bound)}" if bound else "")
                + ". Where the proxy's CPU goes: \"Gateway I/O path\" below.")

    def metadata_limit(self, cost):
        text = ("Wake-ups: the broker shares the proxy's CPU, and a proxy woken by the broker's write preempts it, "
                "forwards the few responses written so far and sleeps again")
        w = self.data.get("wakeups") or {}
        other, batch = w.get("SCHED_OTHER (default)", {}), w.get("SCHED_BATCH", {})
        def med(pol, t, f):
            s = summarize([r.get(f) for r in pol.get(t, [])])
            return s and s["median"]
        if not (other and batch):
            return f"{text}; {cost} (the SCHED_BATCH comparison was not run)."
        rate = (med(batch, "kedge-sni", "requests_per_s") or 0) / (med(batch, "haproxy", "requests_per_s") or 1)
        return (f"{text}. Under the default policy kedge slept "
                f"{num(med(other, 'kedge-sni', 'proxy_sleeps_per_request'), '.3f')} times and used "
                f"{num(med(other, 'kedge-sni', 'proxy_us_per_request'), '.2f')} µs of CPU per request (HAProxy "
                f"{num(med(other, 'haproxy', 'proxy_sleeps_per_request'), '.3f')} and "
                f"{num(med(other, 'haproxy', 'proxy_us_per_request'), '.2f')} µs); under `SCHED_BATCH`, which lets "
                f"the broker finish its burst, {num(med(batch, 'kedge-sni', 'proxy_us_per_request'), '.2f')} against "
                f"{num(med(batch, 'haproxy', 'proxy_us_per_request'), '.2f')} µs at {rate:.2f}× HAProxy's rate "
                f"(\"Metadata wake-ups (SCHED_BATCH)\"; remedies tried and dropped: {NOTES}).")

    def ping_limit(self):
        d = self.med("ping", "direct", "lat_p99_us")
        k, h = self.med("ping", "kedge-sni", "lat_p99_us"), self.med("ping", "haproxy", "lat_p99_us")
        if not (d and k and h):
            return ""
        return ("Scheduling: with one request in flight every hop waits for the next process to wake, and a proxy "
                "adds two loopback hops and a TLS record each way. Added p99 over direct: kedge "
                f"{k['median'] - d['median']:.0f} µs, HAProxy {h['median'] - d['median']:.0f} µs.")

    def memory_limit(self):
        if not self.idle:
            return ""
        n, per = self.idle[-1]
        sni, port = (summarize([m.get("bytes_per_conn") for m in per.get(t, [])]) for t in ("kedge-sni", "kedge-port"))
        if not (sni and port):
            return ""
        return (f"The TLS session: without TLS (kedge-port) an idle connection costs kedge {port['median']:,.0f} B, so "
                f"{sni['median'] - port['median']:,.0f} B of its {sni['median']:,.0f} B (N={n:,}) is the TLS "
                f"connection's state. kedge holds no codec state on an idle connection and has OpenSSL release its "
                f"record buffers (`SSL_MODE_RELEASE_BUFFERS`).")

    def results_tables(self):
        L = self.L
        L.append("## Results\n")
        units = []
        for key, _t, _m, unit in self.defs:
            if key in self.results and key != "ping" and unit not in units:
                units.append(unit)
        for unit in units:
            keys = [key for key, _t, _m, u in self.defs if u == unit and key in self.results and key != "ping"]
            L.append(f"### {RATE_GROUP.get(unit, unit)}\n")
            with_direct = any("direct" in self.results[key] for key in keys)
            L.append(f"| workload | path | {unit} median | rounds |{' × direct |' if with_direct else ''} "
                     f"proxy CPU % | kload CPU % | p99 µs | errors |")
            L.append("|---|---|---|---|" + ("---|" if with_direct else "") + "---|---|---|---|")
            for key in keys:
                metric, first = self.metric[key], True
                d = self.med(key, "direct", metric)
                for t in self.paths:
                    if t not in self.results[key]:
                        continue
                    s, cpu, kcpu, p99 = (self.med(key, t, m) for m in (metric, "proxy_cpu_pct", "kload_cpu_pct",
                                                                        "lat_p99_us"))
                    vs_direct = (f" {s['median'] / d['median']:.2f} |" if s and d else " – |") if with_direct else ""
                    L.append(f"| {'`' + key + '`' if first else ''} | {t} | {fmt(s and s['median'], unit)} | "
                             f"{self.spread(s, unit)} |{vs_direct} "
                             f"{fmt(cpu['median'], '%') if cpu else '–'} | "
                             f"{fmt(kcpu['median'], '%') if kcpu else '–'} | "
                             f"{fmt(p99 and p99['median'], 'us')} | {self.errors(key, t)} |")
                    first = False
            L.append("")
        if "ping" in self.results:
            L.append("### Latency: ApiVersions ping-pong, 1 connection, 1 request in flight\n")
            L.append("| path | p50 µs | p99 µs | p99 rounds | p99.9 µs | added p99 vs direct µs | errors |")
            L.append("|---|---|---|---|---|---|---|")
            d99 = self.med("ping", "direct", "lat_p99_us")
            for t in self.paths:
                if t not in self.results["ping"]:
                    continue
                p50, p99, p999 = (self.med("ping", t, m) for m in ("lat_p50_us", "lat_p99_us", "lat_p999_us"))
                added = (p99["median"] - d99["median"]) if (p99 and d99 and t != "direct") else None
                L.append(f"| {t} | {fmt(p50 and p50['median'], 'us')} | {fmt(p99 and p99['median'], 'us')} | "
                         f"{self.spread(p99, 'us')} | "
                         f"{fmt(p999 and p999['median'], 'us')} | {fmt(added, 'us') if added is not None else '–'} | "
                         f"{self.errors('ping', t)} |")
            L.append("")

    def paired(self, key_a, path_a, key_b, path_b, metric):
        """(a, b) values of one metric, one pair per round (both runs of that round completed)."""
        a_runs, b_runs = (self.results.get(k, {}).get(p, []) for k, p in ((key_a, path_a), (key_b, path_b)))
        return [(a[metric], b[metric]) for a, b in zip(a_runs, b_runs)
                if completed(a) and completed(b) and a.get(metric) and b.get(metric)]

    def ratio_text(self, key_a, path_a, key_b, path_b, metric):
        """'**0.91×** (rounds 0.88–0.95×)': a's median over b's, and the per-round ratios' range."""
        a, b = self.med(key_a, path_a, metric), self.med(key_b, path_b, metric)
        if not (a and b):
            return None
        rounds = [x / y for x, y in self.paired(key_a, path_a, key_b, path_b, metric)]
        spread = f" (rounds {min(rounds):.2f}–{max(rounds):.2f}×)" if rounds else ""
        return f"**{a['median'] / b['median']:.2f}×**{spread}"

    def identity_costs(self):
        """What client identity costs: SASL termination against the same connection passed through, and full
        handshakes with a client certificate against the same handshakes without."""
        sasl = [key for key in SASL_KEYS if key in self.results]
        mtls = "hs_full_mtls" in self.results and "hs_full" in self.results
        if not (sasl or mtls):
            return
        L = self.L
        L.append("### What client identity costs\n")
        per_ms = lambda field, metric: cpu_per_unit(field, metric, 1e3)  # noqa: E731
        if sasl:
            L.append(prose("""Each connection is what an authenticating client does before its first real request:
                full TLS 1.3 handshake, ApiVersions, the SASL exchange, one Metadata, close. kload's SCRAM client
                (RFC 5802, on kedge's identity/scram.h primitives) checks the server's signature in server-final,
                and every SaslAuthenticate must answer error code 0. `kedge-sni` runs the same connection without
                the SASL requests (passthrough; the mock asks for no authentication). kload derives SaltedPassword
                (PBKDF2, 4096 iterations) once per salt and reuses it, as real clients may not: a client that runs
                PBKDF2 per connection spends that CPU itself, the gateway does not. kedge's SCRAM check is HMACs
                over the stored keys; PLAIN runs PBKDF2 on kedge's thread pool (same CPU here). *connection p50 /
                p99*: from connect() to the Metadata response.""") + "\n")
            L.append("| workload | path | connections/s median | rounds | kedge CPU ms per connection | "
                     "kload CPU ms per connection | connection p50 ms | connection p99 ms | errors |")
            L.append("|---|---|---|---|---|---|---|---|---|")
            for key in sasl:
                metric, first = self.metric[key], True
                for t in ("kedge-sni", "kedge-terminate"):
                    if t not in self.results[key]:
                        continue
                    s = self.med(key, t, metric)
                    p50, p99 = (self.med(key, t, m) for m in ("session_p50_us", "session_p99_us"))
                    L.append(f"| {'`' + key + '`' if first else ''} | {t} | {fmt(s and s['median'], self.unit[key])} | "
                             f"{self.spread(s, self.unit[key])} | "
                             f"{num(self.median_of(key, t, per_ms('proxy_cpu_pct', metric)), '.3f')} | "
                             f"{num(self.median_of(key, t, per_ms('kload_cpu_pct', metric)), '.3f')} | "
                             f"{num(p50 and p50['median'] / 1e3, '.2f')} | {num(p99 and p99['median'] / 1e3, '.2f')} | "
                             f"{self.errors(key, t)} |")
                    first = False
            L.append("")
            lines = []
            for key in sasl:
                metric = self.metric[key]
                ratio = self.ratio_text(key, "kedge-terminate", key, "kedge-sni", metric)
                term, passed = (self.median_of(key, t, per_ms("proxy_cpu_pct", metric))
                                for t in ("kedge-terminate", "kedge-sni"))
                if ratio:
                    extra = (f"; kedge's CPU per connection {term - passed:+.3f} ms"
                             if term is not None and passed is not None else "")
                    lines.append(prose(f"`{key}`: {ratio}{extra}.", "- "))
            if lines:
                L.append("Connections per second, terminate / passthrough (no target: kedge against itself):\n")
                L.extend(lines)
                L.append("")
        if mtls:
            L.append(prose("""Full handshakes per second with a client certificate required (`hs_full_mtls`) against the
                same handshakes without (`hs_full`), each proxy against itself; kload's certificate is EC P-256,
                signed by the bench CA, and kload fails a run in which a full handshake was not asked for it.
                CPU in ms per handshake.""") + "\n")
            L.append("| path | hs_full median | hs_full_mtls median | mTLS / without | proxy CPU ms without → with | "
                     "kload CPU ms without → with | errors (mTLS) |")
            L.append("|---|---|---|---|---|---|---|")
            metric = self.metric["hs_full_mtls"]
            for t in ("haproxy", "kedge-sni"):
                plain, with_mtls = self.med("hs_full", t, metric), self.med("hs_full_mtls", t, metric)
                if not with_mtls:
                    continue
                cpu = [num(self.median_of(k, t, per_ms(f, metric)), ".3f") for f in ("proxy_cpu_pct", "kload_cpu_pct")
                       for k in ("hs_full", "hs_full_mtls")]
                L.append(f"| {t} | {fmt(plain and plain['median'], 'handshakes/s')} | "
                         f"{fmt(with_mtls['median'], 'handshakes/s')} | "
                         f"{self.ratio_text('hs_full_mtls', t, 'hs_full', t, metric) or '–'} | {cpu[0]} → {cpu[1]} | "
                         f"{cpu[2]} → {cpu[3]} | {self.errors('hs_full_mtls', t)} |")
            both = self.ratio_text("hs_full_mtls", "kedge-sni", "hs_full_mtls", "haproxy", metric)
            L.append("")
            if both:
                L.append(prose(f"kedge / HAProxy with mTLS: {both} (the Targets row).") + "\n")

    def idle_memory(self):
        if not self.idle:
            return
        L = self.L
        L.append("### Resident memory per idle TLS connection\n")
        L.append(prose("A fresh proxy; N connections each complete the handshake and one ApiVersions round trip, then "
                       "stay idle; (proxy RSS after − before) / N, in bytes. Each connection holds two proxy sockets "
                       "(client and broker); kernel socket buffers are not in RSS.") + "\n")
        L.append("| path | " + " | ".join(f"N = {n:,}: median | rounds" for n, _ in self.idle) + " |")
        L.append("|---|" + "---|---|" * len(self.idle))
        for t in self.paths:
            cells = []
            for _n, per in self.idle:
                ms = per.get(t)
                s = summarize([m.get("bytes_per_conn") for m in ms]) if ms else None
                if s:
                    cells.append(f"{s['median']:,.0f} | {s['min']:,.0f}–{s['max']:,.0f}")
                elif ms:
                    cells.append(f"failed: {ms[0].get('fatal', '?')[:80]} | ")
                else:
                    cells.append("– | –")
            if any(t in per for _n, per in self.idle):
                L.append(f"| {t} | " + " | ".join(cells) + " |")
        L.append("")

    def wakeups(self):
        w = self.data.get("wakeups")
        if not w:
            return
        L = self.L
        L.append("### Metadata wake-ups (SCHED_BATCH)\n")
        L.append(prose("""The `metadata` workload again, interleaved, under the default policy and with every
            proxy thread under `SCHED_BATCH`, whose wake-ups do not preempt the broker running on the same CPU (used
            nowhere else). The difference is the share of a proxy's CPU spent waking up beside its broker.
            *Sleeps*: the proxy's voluntary context switches; *preempted*: the broker's involuntary ones.""")
                 + "\n")
        L.append("| policy | path | req/s median | rounds | proxy CPU µs per request | proxy sleeps per request | "
                 "broker preempted per request |")
        L.append("|---|---|---|---|---|---|---|")
        for label, per in w.items():
            for t, rs in per.items():
                rate, us, sleeps, pre = (summarize([r.get(k) for r in rs]) for k in (
                    "requests_per_s", "proxy_us_per_request", "proxy_sleeps_per_request",
                    "mock_preempted_per_request"))
                if rate:
                    L.append(f"| {label} | {t} | {rate['median']:,.0f} | {rate['min']:,.0f}–{rate['max']:,.0f} | "
                             f"{num(us and us['median'], '.2f')} | {num(sleeps and sleeps['median'], '.3f')} | "
                             f"{num(pre and pre['median'], '.3f')} |")
            k, h = (summarize([r.get("requests_per_s") for r in per.get(n, [])]) for n in ("kedge-sni", "haproxy"))
            if k and h:
                L.append(f"| {label} | kedge/HAProxy | **{k['median'] / h['median']:.2f}×** | | | | |")
        L.append("")

    def scaling(self):
        scaling = self.data.get("scaling")
        if not scaling:
            return
        L, run = self.L, self.run
        cores = run["cores"]
        speed = self.data.get("rsa_speed") or {}
        L.append("### kedge worker loops: `workers` 1 → 2\n")
        rsa = (f" One core here signs {speed['rsa2048'][0]:,.0f} RSA-2048 and {speed['rsa4096'][0]:,.0f} RSA-4096 "
               f"per second (`openssl speed`)." if "rsa2048" in speed and "rsa4096" in speed else "")
        L.append(prose(f"""Full handshakes with an RSA certificate (the server signs, the client only verifies: with
            RSA-2048 the client's share is still comparable to kedge's, RSA-4096 is there to make kedge the
            bottleneck) and TLS Produce over 16 connections.{rsa}
            **Own layout**: kedge may use both CPUs, kload and the broker stay on CPU 0; kedge restarted per run.
            CPU in % of one core ({cores} cores = {100 * cores}%), kedge's busiest threads in brackets; *other*:
            the rest of the machine (niced). *Used of left*: kedge + kload + broker against what other processes
            left{'' if run['autogroup'] else ' (niced ones yield)'}; *full*: 90% or more, the machine rather than
            kedge alone was the limit.""") + "\n")
        L.append("| workload | workers | rate median | rounds | kedge CPU % (threads) | kload CPU % | broker CPU % | "
                 "other CPU % (niced) | used of left % | errors |")
        L.append("|---|---|---|---|---|---|---|---|---|---|")
        ratios = []
        for key, _title, metric, unit in workload_defs(run, "scaling_workloads", SCALING):
            per = {int(w): rs for w, rs in scaling.get(key, {}).items()}
            if not per:
                continue
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
                # Was the machine (rather than kedge) the limit? What the benchmark's processes used against what
                # other processes left (niced ones count when the kernel shares CPU fairly between sessions).
                others = summarize([r.get("cpu_other_pct", 0) + (r.get("cpu_niced_pct", 0) if run["autogroup"] else 0)
                                    for r in rs])
                ours = summarize([r.get("cpu_kedge_pct", 0) + r.get("cpu_kload_pct", 0) + r.get("cpu_mock_pct", 0)
                                  for r in rs])
                used = "–"
                if others and ours:
                    left = 100 * cores - others["median"]
                    used = f"{ours['median']:.0f} of {left:.0f}" + (" **full**" if ours["median"] >= 0.9 * left else "")
                pc = lambda x: f"{x['median']:.0f}" if x else "–"  # noqa: E731
                L.append(f"| {'`' + key + '` (' + unit + ')' if workers == min(per) else ''} | {workers} | "
                         f"{fmt(s and s['median'], unit)} | {self.spread(s, unit)} | {pc(kedge_cpu)} ({threads}) | "
                         f"{pc(kload_cpu)} | {pc(mock_cpu)} | {pc(other)} ({pc(niced)}) | "
                         f"{used} | {errs}{' (' + fatals[0] + ')' if fatals else ''} |")
            if medians.get(1) and medians.get(2):
                ratios.append(f"`{key}` **{medians[2] / medians[1]:.2f}×**")
        L.append("")
        if ratios:
            L.append(prose("workers 2 / workers 1: " + ", ".join(ratios) + ".") + "\n")

    def micro(self):
        micro, L = self.data.get("micro") or {}, self.L
        L.append("### Rewrite micro-benchmark (kafka_codec, bench/codec_bench.cpp)\n")
        if "skipped" in micro or not micro:
            L.append(f"Skipped: {micro.get('skipped', 'no figures')}.\n")
            return
        L.append(prose("CPU time per response fed through `ResponseProcessor::feed` in 64 KiB slices, as the gateway "
                       "does; median of 3 repetitions. *in flight 1*: the connection is idle after each response; "
                       "*2*: another response is already expected.") + "\n")
        cases = {}
        for name, agg in micro.items():
            base, _, arg = name.partition("/in_flight:")
            cases.setdefault(base.removeprefix("BM_"), {})[arg] = agg.get("median") or {}
        L.append("| case | in flight 1 | in flight 2 | throughput (in flight 1) |")
        L.append("|---|---|---|---|")

        def t(m):
            if not m or m.get("real_time") is None:
                return "–"
            x, unit = m["real_time"], m.get("time_unit", "").replace("us", "µs")
            return f"{x:,.0f} {unit}" if x >= 100 else f"{x:.1f} {unit}" if x >= 10 else f"{x:.2f} {unit}"
        for case, per in cases.items():
            bps = per.get("1", {}).get("bytes_per_second")
            L.append(f"| `{case}` | {t(per.get('1'))} | {t(per.get('2'))} | "
                     f"{f'{bps / 1e9:,.1f} GB/s' if bps else '–'} |")
        L.append("")

    def io_path(self):
        L = self.L
        L.append("## Gateway I/O path\n")
        L.append(prose(f"""What kedge does with each byte, which is what the throughput rows measure. Measurements,
            profiles and the alternatives tried: {NOTES}, "Gateway I/O path" and "Codec".""") + "\n")
        for item in (
                """TLS goes through a buffer-less BIO (gateway/tls_bio.h): OpenSSL takes ciphertext straight from the
                loop's socket read buffer, and the records it writes are gathered in the loop's 64 KiB send buffer and
                leave with one write per burst.""",
                """Response bytes leave in full 16 KiB TLS records whatever the codec's spans; requests leave for the
                broker with one write per read burst; port mode stages plaintext the same way.""",
                """A response to rewrite that is whole in one read is walked in place; Fetch v16+ responses larger
                than `limits.fetch_buffer_bytes` stream, only the KIP-951 tag section held; Metadata is walked only as
                far as Brokers, and a repeated broker list reuses its last rewrite.""",
                """An idle connection holds no codec state (and OpenSSL no record buffers); a connection's in-flight
                state goes back to a per-loop pool."""):
            L.append(prose(item, "- "))
        L.append("")

    def conditions(self):
        """Per-workload steal when there was any, and what the run could not measure (Setup list items)."""
        L, run = self.L, self.run
        steal = {key: summarize([r.get("steal_pct") for rs in self.results.get(key, {}).values() for r in rs])
                 for key, _t, _m, _u in self.defs}
        steal = {key: s for key, s in steal.items() if s}
        if steal and max(s["max"] for s in steal.values()) >= 0.05:
            L.append(prose("**Hypervisor steal** during each workload's runs, median (highest run): " + ", ".join(
                f"{key} {s['median']:.1f}% ({s['max']:.1f}%)" for key, s in steal.items()) + ".", "- "))
        if run["skipped"]:
            L.append(prose("**Not measured**: " + "; ".join(run["skipped"]) + ".", "- "))


def render(data, out):
    r = Report(data)
    r.header()
    r.setup()
    r.targets()
    r.results_tables()
    r.identity_costs()
    r.idle_memory()
    r.wakeups()
    r.scaling()
    r.micro()
    r.io_path()
    # Sections other scripts measure (bench/http_front.py: "HTTP/WebSocket front") follow KEPT_MARKER in the
    # report; a new rendering keeps them as they are.
    kept = ""
    if os.path.exists(out):
        with open(out) as f:
            old = f.read()
        if KEPT_MARKER in old:
            kept = "\n\n" + old[old.index(KEPT_MARKER):].rstrip("\n") + "\n"
    with open(out, "w") as f:
        f.write("\n".join(r.L).rstrip("\n") + kept if kept else "\n".join(r.L))


KEPT_MARKER = "<!-- Below: sections measured by other scripts, kept as they are by bench.py --render. -->"

if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        for p in list(STARTED):
            stop(p)
