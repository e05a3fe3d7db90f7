"""Helpers for tests that run the real kedge binary as a process.

Used by the loopback tests (test_gateway_local.py) and the namespace tests.
Nothing here fakes kedge: it writes a real config, real certificates (via
make_certs.sh and the openssl CLI) and starts `kedge run`.
"""
import json
import os
import socket
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def make_certs(directory, *domains):
    subprocess.run(["bash", os.path.join(HERE, "make_certs.sh"), directory, *domains], check=True,
                   stdout=subprocess.DEVNULL)
    return {
        "ca": os.path.join(directory, "ca.pem"),
        "cert": os.path.join(directory, "server.pem"),
        "key": os.path.join(directory, "server.key"),
        "wrong_ca": os.path.join(directory, "wrong-ca.pem"),
    }


def closed_by_peer(sock, within=5):
    """True once the peer closes (EOF or reset) within `within` seconds; False if it keeps the connection open."""
    sock.settimeout(within)
    try:
        while True:
            if not sock.recv(4096):
                return True
    except socket.timeout:
        return False
    except OSError:
        return True


def write_config(path, config):
    # The admin API defaults to 127.0.0.1:9644; tests let the kernel pick a
    # port so concurrent kedge processes never clash (see admin_address).
    config.setdefault("admin", {"bind": "127.0.0.1:0"})
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
    return path


def wait_for_port(host, port, timeout=10.0, prefix=None):
    """Waits until a TCP connect to host:port succeeds (optionally inside a netns via `prefix`)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if prefix is None:
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.05)
        else:
            probe = "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=0.5)"
            rc = subprocess.run(prefix + ["/usr/bin/python3", "-c", probe, host, str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
            if rc == 0:
                return True
            time.sleep(0.1)
    return False


def admin_address(log_text):
    """host:port of the admin API, from kedge's startup line "admin API on http://HOST:PORT"."""
    for line in log_text.splitlines():
        marker = "admin API on http://"
        if marker in line:
            return line.split(marker, 1)[1].split()[0]
    return None


class KedgeProcess:
    """`kedge run --config FILE` with its log captured to a file."""

    def __init__(self, binary, config_path, log_path, prefix=None, log_level=None):
        self.binary = binary
        self.config_path = config_path
        self.log_path = log_path
        self.prefix = prefix or []
        self.log_level = log_level
        self.proc = None

    def start(self, wait_host=None, wait_port=None):
        argv = self.prefix + [self.binary, "run", "--config", self.config_path]
        if self.log_level:
            argv += ["--log-level", self.log_level]
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log_file, stderr=subprocess.STDOUT)
        if wait_port is not None:
            if not wait_for_port(wait_host, wait_port, prefix=self.prefix or None):
                self.stop()
                raise RuntimeError("kedge did not start listening; log:\n" + self.log())
        return self

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def stop(self, timeout=10):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        return self.proc.returncode


class Checks:
    """Collects named checks and prints the closing 'N passed, M failed' line."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {name}" + (f" ({detail})" if detail else ""), flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 and self.passed > 0 else 1


def start_kedge_in_topology(topo, kedge_binary, clusters, domain="kafka.example.com", port=9092,
                            log_level="debug", limits=None, cluster_options=None, top_level=None):
    """Starts kedge in the topology's dc namespace in front of `clusters`.

    clusters: [(name, format, bootstrap_servers_csv)], e.g. [("alpha", "subdomain", mock.bootstrap)].
    cluster_options: optional {name: {key: value}}, extra keys merged into that cluster's virtual_clusters[]
    entry (e.g. {"alpha": {"policy": {"read_only": True}}}).
    top_level: optional {key: value} merged into the config's top level (e.g. {"audit": {"file": "audit.jsonl"}}).
    Writes a dev CA + wildcard certificate and the config into topo.log_dir; returns (process, certs).
    """
    certs = make_certs(os.path.join(topo.log_dir, "tls"), domain)
    config = {
        "listeners": [{"name": "hub", "bind": f"0.0.0.0:{port}", "advertised_port": port,
                       "tls": {"cert": "tls/server.pem", "key": "tls/server.key"}}],
        "virtual_clusters": [
            {"name": name, "hostnames": {"format": fmt, "domain": domain},
             "backend": {"bootstrap_servers": bootstrap.split(",")}}
            for name, fmt, bootstrap in clusters
        ],
        "log": {"level": log_level},
    }
    if limits:
        config["limits"] = dict(limits)
    for entry in config["virtual_clusters"]:
        entry.update((cluster_options or {}).get(entry["name"], {}))
    config.update(top_level or {})
    config_path = write_config(os.path.join(topo.log_dir, "kedge.json"), config)
    process = topo.start_process("dc", [kedge_binary, "run", "--config", config_path], topo.log_path("kedge"),
                                 ready_port=port)
    return process, certs, config_path
