"""Shared pieces of the issue-4 scenario tests (test_gateway_sasl.py, test_gateway_broker_churn.py,
test_gateway_two_kedges.py, test_gateway_restart.py): client argv builders, SASL stages in the dc namespace,
and checks over client output. Everything here starts or inspects real processes; nothing stands in for one.
"""
import os
import re
import subprocess

from test_topology_smoke import client_argv, summary_fields
from topology import TopologyError

HERE = os.path.dirname(os.path.abspath(__file__))
STAGE_BASE_PORT = 29000  # below Linux's ephemeral range (32768+), so never taken by a mock broker's listener


def tls_args(ca):
    return ["-X", f"ssl.ca.location={ca}", "-X", "ssl.endpoint.identification.algorithm=https"]


def ssl_args(ca):
    return ["-X", "security.protocol=SSL", *tls_args(ca)]


def sasl_ssl_args(ca, mechanism, user, password):
    return ["-X", "security.protocol=SASL_SSL", *tls_args(ca), "-X", f"sasl.mechanisms={mechanism}",
            "-X", f"sasl.username={user}", "-X", f"sasl.password={password}"]


def start_sasl_stages(topo, cluster, users, broker_ids=(1, 2, 3)):
    """Starts one sasl_stage.py per mock broker in dc on 127.0.0.1:STAGE_BASE_PORT+id, relaying to the broker's
    real listener, and makes the mock advertise the stage (`hostport`). Returns {id: "127.0.0.1:port"}."""
    stages = {}
    real = dict(zip(broker_ids, cluster.broker_addresses))
    for broker in broker_ids:
        port = STAGE_BASE_PORT + broker
        host, upstream_port = real[broker]
        argv = ["/usr/bin/python3", os.path.join(HERE, "sasl_stage.py"), "--listen", f"127.0.0.1:{port}",
                "--upstream", f"{host}:{upstream_port}", "--name", f"broker-{broker}",
                *[f"--user={name}:{password}" for name, password in users.items()]]
        topo.start_process("dc", argv, topo.log_path(f"sasl-stage-{broker}"), ready_port=port)
        cluster.command_ok(f"hostport {broker} 127.0.0.1 {port}")
        stages[broker] = f"127.0.0.1:{port}"
    return stages


def popen_in(topo, network, argv, stdin=None):
    return subprocess.Popen(topo.netns_argv(network, argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL, text=True)


def finish(topo, process, name, timeout=90, stdin=None):
    """Waits for a client; keeps its stderr in the log dir; returns (returncode, stdout, stderr)."""
    try:
        out, err = process.communicate(input=stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        err += f"\n(killed after {timeout}s)"
    with open(topo.log_path(f"client-{name}"), "w") as saved:
        saved.write(err)
    return process.returncode, out, err


def client_produce_argv(client, bootstrap, topic, count, prefix, timeout_ms, *extra):
    return client_argv(client, "produce", "--bootstrap", bootstrap, "--topic", topic, "--count", count,
                       "--prefix", prefix, "--timeout-ms", timeout_ms, *extra)


def client_consume_argv(client, bootstrap, topic, group, count, prefix, timeout_ms, *extra):
    return client_argv(client, "consume", "--bootstrap", bootstrap, "--topic", topic, "--group", group,
                       "--expect", count, "--prefix", prefix, "--timeout-ms", timeout_ms, *extra)


def produced_all(result, count):
    code, out, _ = result
    fields = summary_fields(out, "produce")
    return code == 0 and fields.get("ok") == "1" and fields.get("delivered") == str(count), out.strip()


def consumed_once(result, count):
    """Every one of count records exactly once (commit outcome reported separately by the caller)."""
    _, out, _ = result
    fields = summary_fields(out, "consume")
    return (fields.get("unique") == str(count) and fields.get("duplicates") == "0" and fields.get("bad") == "0",
            out.strip())


def kcat_keys(stdout, prefix):
    return [line.split("\t", 1)[0] for line in stdout.splitlines() if line.startswith(prefix + "-")]


def exactly_once(keys, prefix, count):
    """(ok, detail) for a list of consumed keys `prefix-<i>` that must hold each i < count exactly once."""
    seen = {}
    for key in keys:
        seen[key] = seen.get(key, 0) + 1
    expected = {f"{prefix}-{i}" for i in range(count)}
    missing = expected - set(seen)
    duplicates = sum(times - 1 for times in seen.values())
    foreign = set(seen) - expected
    return (not missing and not duplicates and not foreign,
            f"unique={len(set(seen) & expected)} missing={len(missing)} duplicates={duplicates} "
            f"unexpected={len(foreign)}")


CONNECT_PATTERN = re.compile(r"Connecting to (ipv[46]#\S+)")


def connected_addresses(stderr_text):
    """Addresses librdkafka (debug=broker) connected to."""
    return set(CONNECT_PATTERN.findall(stderr_text))


def require(condition, message):
    if not condition:
        raise TopologyError(message)
