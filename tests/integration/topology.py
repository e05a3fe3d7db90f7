#!/usr/bin/python3
"""Network-namespace topology for kedge's integration tests (run as root, with /usr/bin/python3).

    <prefix>-dc   private Kafka network: librdkafka mock brokers on its 127.0.0.1 (the mock binds
                  INADDR_LOOPBACK only), and kedge beside them.
    <prefix>-a    client network a: veth to dc, gateway 10.<n>.1.1 (dc side), client 10.<n>.1.2.
    <prefix>-b    client network b: veth to dc, gateway 10.<n>.2.1 (dc side), client 10.<n>.2.2.

dc does not forward (a fresh namespace has ip_forward=0) and the client namespaces have no routes
beyond their own /24, so a and b can reach only the gateway addresses, never each other nor the brokers.

Each client namespace runs its own dnsmasq on its 127.0.0.1 answering every name under each configured
domain (default `kafka.example.com`) with the gateway address of that network; /etc/netns/<ns>/resolv.conf
says `nameserver 127.0.0.1`, which `ip netns exec` bind-mounts over /etc/resolv.conf, so getaddrinfo in
a client namespace resolves `bootstrap.kafka.example.com` and `broker-<id>.kafka.example.com` to its gateway.

Usage:
    with Topology() as topo:
        cluster = topo.start_mock_cluster("rdk212", brokers=3, topics={"orders": 6})
        kedge = topo.start_process("dc", [kedge, "run", "--config", cfg], topo.log_path("kedge"),
                                   ready_port=9092)
        result = topo.run_in("a", [tool_path("kclient_rdk212"), "metadata",
                                   "--bootstrap", "bootstrap.kafka.example.com:9092", "-X", ...])

Every name (namespaces, /etc/netns dirs, log folder) carries a per-run prefix `kt<pid>x<random>`, so runs can
overlap. Teardown (context exit, also on exceptions, SIGTERM and SIGINT) stops every process started here,
then anything left inside our namespaces (by pid), kills dnsmasq, deletes the namespaces and /etc/netns dirs.
`python3 topology.py --cleanup-stale` removes leftovers of runs whose owning pid no longer exists.
"""
import ctypes
import os
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

NETNS_RUN_DIR = "/run/netns"
NETNS_ETC_DIR = "/etc/netns"
CLONE_NEWNET = 0x40000000
PREFIX_PATTERN = re.compile(r"^kt(\d+)x[0-9a-f]+$")
HERE = os.path.dirname(os.path.abspath(__file__))


class TopologyError(RuntimeError):
    pass


def tool_path(name):
    """Path of an integration tool (`kclient_rdk212`, `mock_cluster_rdk20`, `pyclient.py`, `kcat`), or None.

    Binaries come from KEDGE_<NAME> (set by ctest, e.g. KEDGE_KCLIENT_RDK212), else from
    $KEDGE_BUILD_DIR/tests/integration or $KEDGE_BUILD_DIR/integration.
    """
    if name == "pyclient.py":
        return os.path.join(HERE, "pyclient.py")
    from_env = os.environ.get("KEDGE_" + name.upper().replace(".", "_"))
    if from_env:
        return from_env if os.access(from_env, os.X_OK) else None
    build_dir = os.environ.get("KEDGE_BUILD_DIR")
    if build_dir:
        for sub in ("tests/integration", "integration"):
            candidate = os.path.join(build_dir, sub, name)
            if os.access(candidate, os.X_OK):
                return candidate
    return shutil.which(name)


def _run(argv, check=True, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise TopologyError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


_libc = ctypes.CDLL(None, use_errno=True)


def call_in_netns(ns_name, function, *args):
    """Runs function(*args) on a fresh thread that has joined network namespace ns_name; returns its result.

    setns(CLONE_NEWNET) changes only the calling thread, so sockets made inside `function` live in ns_name
    while the rest of the process stays put. The mount namespace is NOT changed: name resolution there
    still reads the host's /etc/resolv.conf (use run_in for DNS checks).
    """
    outcome = {}

    def body():
        try:
            fd = os.open(os.path.join(NETNS_RUN_DIR, ns_name), os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns({ns_name})")
            finally:
                os.close(fd)
            outcome["value"] = function(*args)
        except BaseException as error:  # re-raised on the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=body, name=f"netns-{ns_name}")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def tcp_connect_result(host, port, timeout=1.0):
    """'connected' or the error name (ECONNREFUSED, ENETUNREACH, timeout, ...) of one TCP connect."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return "connected"
    except socket.timeout:
        return "timeout"
    except OSError as error:
        return os.strerror(error.errno) if error.errno else str(error)


def make_test_pki(directory, dns_names, common_name="kedge-test-gateway"):
    """Creates a throwaway CA and one server certificate for dns_names (e.g. ["*.kafka.example.com"]) with the
    openssl CLI (EC P-256, 1 day). Returns {"ca": ca.pem, "cert": server.crt, "key": server.key,
    "pem": server.pem (cert + key, the form haproxy wants)}; clients use -X ssl.ca.location=<ca>.
    Per RFC 6125 §6.4.3 a wildcard covers exactly one label, so list every level you connect to."""
    os.makedirs(directory, exist_ok=True)
    path = {name: os.path.join(directory, file) for name, file in (
        ("ca", "ca.pem"), ("ca_key", "ca.key"), ("key", "server.key"), ("csr", "server.csr"),
        ("cert", "server.crt"), ("pem", "server.pem"), ("ext", "server.ext"))}
    _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-keyout", path["ca_key"], "-out", path["ca"], "-days", "1", "-subj", "/CN=kedge-test-ca",
          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    _run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-keyout", path["key"], "-out", path["csr"], "-subj", f"/CN={common_name}"])
    with open(path["ext"], "w") as ext:
        ext.write("subjectAltName=" + ",".join(f"DNS:{name}" for name in dns_names) + "\n"
                  "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    _run(["openssl", "x509", "-req", "-in", path["csr"], "-CA", path["ca"], "-CAkey", path["ca_key"],
          "-CAcreateserial", "-out", path["cert"], "-days", "1", "-extfile", path["ext"]])
    with open(path["pem"], "w") as pem:
        for part in ("cert", "key"):
            with open(path[part]) as source:
                pem.write(source.read())
    return {name: path[name] for name in ("ca", "cert", "key", "pem")}


class Process:
    """A process started inside a namespace; output goes to log_path."""

    def __init__(self, ns, argv, log_path, popen):
        self.ns, self.argv, self.log_path, self.popen = ns, argv, log_path, popen

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as log:
                return log.read()
        except OSError:
            return ""

    def stop(self, grace_seconds=5.0):
        """SIGTERM, then SIGKILL after grace_seconds; returns the exit status."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(grace_seconds)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode


class MockCluster(Process):
    """A mock_cluster_<version> process; `command()` drives it over its stdin (see mock_cluster.c)."""

    def __init__(self, ns, argv, log_path, popen, version):
        super().__init__(ns, argv, log_path, popen)
        self.version = version
        self.bootstrap = None
        self._pending = b""

    def _read_line(self, timeout):
        deadline = time.monotonic() + timeout
        stream = self.popen.stdout
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TopologyError(f"mock cluster {self.version}: no answer within {timeout}s")
            ready, _, _ = select.select([stream], [], [], remaining)
            if ready:
                chunk = os.read(stream.fileno(), 4096)
                if not chunk:
                    raise TopologyError(f"mock cluster {self.version} exited: {self.log_text()[-2000:]}")
                self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode()

    def wait_ready(self, timeout=15.0):
        line = self._read_line(timeout)
        if not line.startswith("BOOTSTRAP "):
            raise TopologyError(f"mock cluster {self.version}: unexpected first line {line!r}")
        self.bootstrap = line[len("BOOTSTRAP "):].strip()

    @property
    def broker_addresses(self):
        """[(host, port)] in broker-id order 1..N, as the mock reports them."""
        return [(host, int(port)) for host, port in (item.rsplit(":", 1) for item in self.bootstrap.split(","))]

    def command(self, line, timeout=10.0):
        """Sends one command; returns the answer line (`ok...` or `error ...`)."""
        self.popen.stdin.write((line + "\n").encode())
        self.popen.stdin.flush()
        return self._read_line(timeout)

    def command_ok(self, line, timeout=10.0):
        answer = self.command(line, timeout)
        if not answer.startswith("ok"):
            raise TopologyError(f"mock cluster {self.version}: {line!r} -> {answer!r}")
        return answer

    def stop(self, grace_seconds=5.0):
        if self.popen.poll() is None and self.popen.stdin and not self.popen.stdin.closed:
            try:
                self.popen.stdin.close()  # EOF = orderly shutdown
                self.popen.wait(grace_seconds)
            except (OSError, subprocess.TimeoutExpired):
                pass
        return super().stop(grace_seconds)


class Topology:
    """Context manager owning the namespaces, veths, dnsmasq instances and processes of one test run."""

    CLIENT_NETWORKS = ("a", "b")

    def __init__(self, domains=("kafka.example.com",), keep_logs=False, log_dir=None):
        self.prefix = f"kt{os.getpid()}x{secrets.token_hex(2)}"
        # The /16 only has to be unique inside this run (namespaces isolate runs), but a per-run
        # value makes captures from concurrent runs easier to tell apart.
        self.subnet = 16 + int(self.prefix[-4:], 16) % 200
        self.domains = tuple(domains)
        self.keep_logs = keep_logs
        self.log_dir = log_dir or tempfile.mkdtemp(prefix=f"{self.prefix}-")
        self.namespaces = {name: f"{self.prefix}-{name}" for name in ("dc",) + self.CLIENT_NETWORKS}
        self.processes = []
        self._created_namespaces = []
        self._previous_handlers = {}

    # ----- addressing ---------------------------------------------------------------------------
    def _network_index(self, network):
        return self.CLIENT_NETWORKS.index(network) + 1

    def gateway_ip(self, network):
        """kedge's address on client network `network` (the dc end of the veth)."""
        return f"10.{self.subnet}.{self._network_index(network)}.1"

    def client_ip(self, network):
        return f"10.{self.subnet}.{self._network_index(network)}.2"

    def ns(self, name):
        """Full namespace name for 'dc', 'a' or 'b' (a full name is returned unchanged)."""
        return self.namespaces.get(name, name)

    def log_path(self, name):
        return os.path.join(self.log_dir, f"{name}.log")

    # ----- lifecycle ----------------------------------------------------------------------------
    def __enter__(self):
        for signo in (signal.SIGTERM, signal.SIGINT):
            self._previous_handlers[signo] = signal.signal(signo, self._on_signal)
        try:
            self._build()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc):
        self.teardown()
        return False

    @staticmethod
    def _on_signal(signo, _frame):
        raise SystemExit(128 + signo)  # unwinds through __exit__, so teardown runs

    def _build(self):
        for name in self.namespaces.values():
            _run(["ip", "netns", "add", name])
            self._created_namespaces.append(name)
            _run(["ip", "-n", name, "link", "set", "lo", "up"])
        dc = self.namespaces["dc"]
        for network in self.CLIENT_NETWORKS:
            client = self.namespaces[network]
            # Created inside dc with the peer moved straight into the client namespace, so the
            # interface names never exist in the host namespace (no clash between concurrent runs).
            _run(["ip", "-n", dc, "link", "add", f"to-{network}", "type", "veth", "peer", "name", "to-dc",
                  "netns", client])
            _run(["ip", "-n", dc, "addr", "add", f"{self.gateway_ip(network)}/24", "dev", f"to-{network}"])
            _run(["ip", "-n", client, "addr", "add", f"{self.client_ip(network)}/24", "dev", "to-dc"])
            _run(["ip", "-n", dc, "link", "set", f"to-{network}", "up"])
            _run(["ip", "-n", client, "link", "set", "to-dc", "up"])
            self._start_dns(network)

    def _start_dns(self, network):
        ns = self.namespaces[network]
        etc_dir = os.path.join(NETNS_ETC_DIR, ns)
        os.makedirs(etc_dir, exist_ok=True)
        with open(os.path.join(etc_dir, "resolv.conf"), "w") as resolv:
            resolv.write("nameserver 127.0.0.1\n")
        argv = ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--listen-address=127.0.0.1",
                "--bind-interfaces", f"--pid-file={os.path.join(self.log_dir, f'dnsmasq-{network}.pid')}",
                "--user=root", "--log-queries", f"--log-facility={self.log_path(f'dnsmasq-{network}')}"]
        argv += [f"--address=/{domain}/{self.gateway_ip(network)}" for domain in self.domains]
        self.start_process(network, argv, self.log_path(f"dnsmasq-{network}-stderr"), ready_port=53)

    def teardown(self):
        for process in reversed(self.processes):
            try:
                process.stop()
            except Exception as error:  # keep tearing down
                print(f"topology: stopping {process.argv[0]}: {error}", file=sys.stderr)
        self.processes.clear()
        for name in self._created_namespaces:
            self._kill_leftovers(name)
            _run(["ip", "netns", "del", name], check=False)
            shutil.rmtree(os.path.join(NETNS_ETC_DIR, name), ignore_errors=True)
        self._created_namespaces.clear()
        if not self.keep_logs:
            shutil.rmtree(self.log_dir, ignore_errors=True)
        for signo, handler in self._previous_handlers.items():
            signal.signal(signo, handler)
        self._previous_handlers.clear()

    @staticmethod
    def _kill_leftovers(ns_name):
        """SIGKILLs, by pid, whatever still runs in one of OUR namespaces (e.g. a client a test leaked)."""
        pids = _run(["ip", "netns", "pids", ns_name], check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass

    # ----- processes ----------------------------------------------------------------------------
    def netns_argv(self, ns, argv):
        return ["ip", "netns", "exec", self.ns(ns)] + [str(arg) for arg in argv]

    def run_in(self, ns, argv, timeout=60, check=False, env=None, input=None):
        """Runs argv inside namespace ns ('dc', 'a', 'b') to completion; returns CompletedProcess (text)."""
        result = subprocess.run(self.netns_argv(ns, argv), capture_output=True, text=True, timeout=timeout,
                                env=env, input=input)
        if check and result.returncode != 0:
            raise TopologyError(f"[{ns}] {' '.join(map(str, argv))} -> {result.returncode}\n{result.stdout}"
                                f"\n{result.stderr}")
        return result

    def start_process(self, ns, argv, log_path, ready_port=None, ready_host="127.0.0.1", ready_timeout=15.0,
                      env=None, stdin=subprocess.DEVNULL, stdout=None, process_class=Process, **extra):
        """Starts argv in namespace ns with stdout+stderr appended to log_path; stopped at teardown.

        With ready_port, waits until a TCP connect to ready_host:ready_port succeeds *inside ns* (kedge's
        listener, dnsmasq's port 53), and raises TopologyError with the log tail if the process exits or
        the deadline passes first. `ip netns exec` execs argv, so the Popen pid is the program itself.
        """
        log = open(log_path, "ab")
        popen = subprocess.Popen(self.netns_argv(ns, argv), stdin=stdin,
                                 stdout=stdout if stdout is not None else log, stderr=log, env=env)
        log.close()
        process = process_class(self.ns(ns), argv, log_path, popen, **extra)
        self.processes.append(process)
        if ready_port is not None:
            self.wait_for_port(ns, ready_port, ready_host, ready_timeout, process)
        return process

    def wait_for_port(self, ns, port, host="127.0.0.1", timeout=15.0, process=None):
        deadline = time.monotonic() + timeout
        while True:
            if process is not None and not process.alive():
                raise TopologyError(f"{process.argv[0]} exited with {process.popen.returncode} before "
                                    f"{host}:{port} was ready:\n{process.log_text()[-3000:]}")
            if call_in_netns(self.ns(ns), tcp_connect_result, host, port, 0.5) == "connected":
                return
            if time.monotonic() > deadline:
                tail = process.log_text()[-3000:] if process is not None else ""
                raise TopologyError(f"[{ns}] {host}:{port} not ready after {timeout}s\n{tail}")
            time.sleep(0.05)

    def start_mock_cluster(self, version="rdk212", brokers=3, topics=None, ns="dc"):
        """Starts mock_cluster_<version> in ns (default dc); topics = {name: partitions} or
        {name: (partitions, replication)}. Returns a MockCluster with .bootstrap set."""
        binary = tool_path(f"mock_cluster_{version}")
        if binary is None:
            raise TopologyError(f"mock_cluster_{version} not built (set KEDGE_MOCK_CLUSTER_{version.upper()})")
        argv = [binary, "--brokers", str(brokers)]
        for name, spec in (topics or {}).items():
            spec = spec if isinstance(spec, tuple) else (spec,)
            argv += ["--topic", ":".join([name] + [str(item) for item in spec])]
        tag = f"mock-{version}-{len(self.processes)}"
        argv += ["--ready-file", os.path.join(self.log_dir, f"{tag}.ready")]
        cluster = self.start_process(ns, argv, self.log_path(tag), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     process_class=MockCluster, version=version)
        cluster.wait_ready()
        return cluster


def remove_stale_topologies():
    """Deletes namespaces and /etc/netns dirs named kt<pid>x... whose pid is gone; returns their names."""
    names = set(os.listdir(NETNS_RUN_DIR)) if os.path.isdir(NETNS_RUN_DIR) else set()
    names |= set(os.listdir(NETNS_ETC_DIR)) if os.path.isdir(NETNS_ETC_DIR) else set()
    removed = []
    for name in sorted(names):
        prefix, _, _ = name.rpartition("-")
        match = PREFIX_PATTERN.match(prefix)
        if not match or os.path.exists(f"/proc/{match.group(1)}"):
            continue
        if os.path.exists(os.path.join(NETNS_RUN_DIR, name)):
            Topology._kill_leftovers(name)
            _run(["ip", "netns", "del", name], check=False)
        shutil.rmtree(os.path.join(NETNS_ETC_DIR, name), ignore_errors=True)
        removed.append(name)
    return removed


if __name__ == "__main__":
    if sys.argv[1:] == ["--cleanup-stale"]:
        for stale in remove_stale_topologies():
            print(f"removed {stale}")
    else:
        print(__doc__)
        sys.exit(2)
