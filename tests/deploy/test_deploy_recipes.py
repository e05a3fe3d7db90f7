#!/usr/bin/python3
"""Checks the deployment recipes in deploy/ with the tools that read them.

  kustomize  `kubectl kustomize deploy/kubernetes` renders; the YAML (parsed with python3-yaml) has what
             docs/deployment.md promises: probes GET /readyz and /healthz on 9644, ports 9092/9644, non-root
             read-only container, config map + TLS secret volumes, LoadBalancer Service with the NLB and PROXY
             protocol annotations, HPA, PDB, and a kedge.json whose listener matches them (9092, PROXY protocol
             required, admin on 9644, TLS files from the Secret mount).
  systemd    `systemd-analyze verify` passes with no output on a copy of deploy/systemd/kedge.service whose
             /usr/local/bin/kedge is replaced by the built binary (verify requires ExecStart to exist).
  haproxy    `haproxy -c -f deploy/loadbalancer/haproxy.cfg` passes; every server line sends PROXY v2.
  container  deploy/container/Dockerfile copies every source folder the top-level CMakeLists.txt adds (no
             Docker engine runs here, so the build itself is not tried) and copies out build/kedge.

Usage: test_deploy_recipes.py kustomize|systemd|haproxy|container REPO_ROOT KEDGE_BINARY
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile


def fail(message):
    print(f"FAIL {message}", flush=True)
    return 1


def check(ok, message, detail=""):
    print(("PASS " if ok else "FAIL ") + message + (f": {detail}" if detail and not ok else ""), flush=True)
    return 0 if ok else 1


def kustomize(root, kedge):
    import yaml
    if shutil.which("kubectl") is None:
        return fail("kubectl not installed (scripts/install-deps.sh installs kubernetes-client)")
    rendered = subprocess.run(["kubectl", "kustomize", os.path.join(root, "deploy", "kubernetes")],
                              capture_output=True, text=True)
    if rendered.returncode != 0:
        return fail(f"kubectl kustomize: {rendered.stderr}")
    docs = {d["kind"]: d for d in yaml.safe_load_all(rendered.stdout) if d}
    failures = 0
    failures += check(set(docs) >= {"Deployment", "Service", "ConfigMap", "Secret", "HorizontalPodAutoscaler",
                                    "PodDisruptionBudget"}, "renders every kind", sorted(docs))
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    ready, live = container.get("readinessProbe", {}), container.get("livenessProbe", {})
    failures += check(ready.get("httpGet") == {"path": "/readyz", "port": 9644}, "readiness GET /readyz :9644", ready)
    failures += check(live.get("httpGet") == {"path": "/healthz", "port": 9644}, "liveness GET /healthz :9644", live)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    failures += check(ports == {"kafka": 9092, "admin": 9644}, "container ports kafka 9092, admin 9644", ports)
    sc = container["securityContext"]
    failures += check(sc.get("readOnlyRootFilesystem") is True and sc.get("runAsNonRoot") is True
                      and sc.get("allowPrivilegeEscalation") is False and sc["capabilities"]["drop"] == ["ALL"],
                      "container non-root, read-only root fs, no privilege escalation, no capabilities", sc)
    failures += check("requests" in container.get("resources", {}) and "limits" in container["resources"],
                      "resources set", container.get("resources"))
    volumes = {v["name"]: v for v in pod["volumes"]}
    config_map = docs["ConfigMap"]["metadata"]["name"]
    failures += check(volumes["config"]["configMap"]["name"] == config_map, "config volume is the generated ConfigMap",
                      volumes["config"])
    failures += check(volumes["tls"]["secret"]["secretName"] == docs["Secret"]["metadata"]["name"]
                      and docs["Secret"]["type"] == "kubernetes.io/tls", "TLS volume is the kubernetes.io/tls Secret")
    service = docs["Service"]
    annotations = service["metadata"].get("annotations", {})
    failures += check(service["spec"]["type"] == "LoadBalancer", "Service type LoadBalancer")
    failures += check(annotations.get("service.beta.kubernetes.io/aws-load-balancer-type") == "nlb"
                      and annotations.get("service.beta.kubernetes.io/aws-load-balancer-proxy-protocol") == "*",
                      "NLB + PROXY protocol annotations", annotations)
    failures += check([(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(9092, "kafka")],
                      "Service exposes 9092 only", service["spec"]["ports"])
    hpa, pdb = docs["HorizontalPodAutoscaler"], docs["PodDisruptionBudget"]
    failures += check(hpa["spec"]["scaleTargetRef"]["name"] == docs["Deployment"]["metadata"]["name"]
                      and hpa["spec"]["minReplicas"] >= 2, "HPA targets the Deployment, min 2", hpa["spec"])
    failures += check(pdb["spec"]["selector"]["matchLabels"] == docs["Deployment"]["spec"]["selector"]["matchLabels"],
                      "PDB selects the kedge pods")
    # The ConfigMap's kedge.json: the listener the Service/probes assume.
    config = json.loads(docs["ConfigMap"]["data"]["kedge.json"])
    listener = config["listeners"][0]
    failures += check(listener["bind"].endswith(":9092") and listener.get("proxy_protocol") == "required"
                      and config.get("admin", {}).get("bind") == "0.0.0.0:9644"
                      and listener["tls"]["cert"].startswith("/etc/kedge/tls/"),
                      "kedge.json: 9092 with PROXY protocol, admin on 9644, TLS from the Secret mount", config)
    return failures


def systemd(root, kedge):
    if shutil.which("systemd-analyze") is None:
        return fail("systemd-analyze not installed")
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(root, "deploy", "systemd", "kedge.service")) as f:
            unit = f.read()
        failures = check("/usr/local/bin/kedge run" in unit, "unit runs /usr/local/bin/kedge run")
        copy = os.path.join(tmp, "kedge.service")
        with open(copy, "w") as f:
            f.write(unit.replace("/usr/local/bin/kedge", os.path.abspath(kedge)))
        result = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True)
        output = (result.stdout + result.stderr).strip()
        failures += check(result.returncode == 0 and output == "", "systemd-analyze verify passes without warnings",
                          output)
        for directive in ("ProtectSystem=strict", "NoNewPrivileges=yes", "DynamicUser=yes",
                          "CapabilityBoundingSet=CAP_NET_BIND_SERVICE"):
            failures += check(re.search(rf"^{re.escape(directive)}$", unit, re.M) is not None, f"unit has {directive}")
    return failures


def haproxy(root, kedge):
    if shutil.which("haproxy") is None:
        return fail("haproxy not installed")
    path = os.path.join(root, "deploy", "loadbalancer", "haproxy.cfg")
    result = subprocess.run(["haproxy", "-c", "-f", path], capture_output=True, text=True)
    failures = check(result.returncode == 0, "haproxy -c accepts haproxy.cfg", result.stdout + result.stderr)
    with open(path) as f:
        text = f.read()
    servers = re.findall(r"^\s*server\s.*$", text, re.M)
    failures += check(servers and all("send-proxy-v2" in s for s in servers) and re.search(r"^\s*mode tcp", text, re.M),
                      "mode tcp, every server sends PROXY v2", servers)
    return failures


def container(root, kedge):
    with open(os.path.join(root, "CMakeLists.txt")) as f:
        cmake = f.read()
    # Folders added unconditionally; bench/ and tests/ sit behind options the Dockerfile turns off.
    unconditional = cmake.split("if(KEDGE_BUILD_BENCH)")[0]
    folders = re.findall(r"^add_subdirectory\((\w+)\)", unconditional, re.M)
    with open(os.path.join(root, "deploy", "container", "Dockerfile")) as f:
        dockerfile = f.read()
    copied = set(re.findall(r"^COPY (\w+)/ \1/$", dockerfile, re.M))
    failures = check(folders and set(folders) <= copied, "Dockerfile copies every source folder CMakeLists.txt adds",
                     f"missing {sorted(set(folders) - copied)}")
    failures += check("-DKEDGE_BUILD_TESTS=OFF" in dockerfile and "-DKEDGE_BUILD_BENCH=OFF" in dockerfile,
                      "Dockerfile builds without tests and benchmarks")
    failures += check("/src/build/kedge " in dockerfile, "the runtime stage copies build/kedge")
    return failures


def main():
    mode, root, kedge = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    failures = {"kustomize": kustomize, "systemd": systemd, "haproxy": haproxy,
                "container": container}[mode](root, kedge)
    print("ok" if failures == 0 else f"{failures} failed", flush=True)
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
