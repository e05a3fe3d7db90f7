#!/usr/bin/python3
"""Captures the PROXY headers HAProxy 2.6 sends (send-proxy, send-proxy-v2 with TLVs)."""
import socket, subprocess, sys, time, os
out = sys.argv[1]
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
cases = {
  "haproxy-v1-tcp4.bin": ("127.0.0.1", "send-proxy"),
  "haproxy-v2-tcp4.bin": ("127.0.0.1", "send-proxy-v2"),
  "haproxy-v2-tcp4-tlvs.bin": ("127.0.0.1", "send-proxy-v2 proxy-v2-options unique-id,authority,crc32c"),
  "haproxy-v1-tcp6.bin": ("::1", "send-proxy"),
  "haproxy-v2-tcp6.bin": ("::1", "send-proxy-v2"),
}
for name, (family_host, opt) in cases.items():
    back = free_port(); front = free_port()
    fam = socket.AF_INET6 if ":" in family_host else socket.AF_INET
    ls = socket.socket(socket.AF_INET); ls.bind(("127.0.0.1", back)); ls.listen(1)
    bind = f"[{family_host}]:{front}" if fam == socket.AF_INET6 else f"{family_host}:{front}"
    cfg = f"""global
  log stderr local0
defaults
  mode tcp
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend f
  bind {bind}
  unique-id-format kedge-capture-id
  default_backend b
backend b
  server s 127.0.0.1:{back} {opt}
"""
    open("h.cfg", "w").write(cfg)
    hp = subprocess.Popen(["haproxy", "-f", "h.cfg", "-db"])
    time.sleep(0.5)
    c = socket.socket(fam); c.connect((family_host, front)); c.sendall(b"\x16hello")
    conn, _ = ls.accept(); conn.settimeout(2)
    data = b""
    while not data.endswith(b"\x16hello"):
        chunk = conn.recv(4096)
        if not chunk: break
        data += chunk
    header = data[:-len(b"\x16hello")]
    open(os.path.join(out, name), "wb").write(header)
    print(name, len(header), header[:60])
    c.close(); conn.close(); ls.close(); hp.terminate(); hp.wait()
