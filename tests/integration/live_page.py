#!/usr/bin/python3
"""Drives docs/http-live.html in headless Chromium over the Chrome DevTools Protocol; run inside a client
namespace by test_gateway_http_live.py.

    live_page.py CA WS_URL TOPIC OFFSET WORK_DIR

1. Trust: Chromium on Linux trusts the roots of the user's NSS database ($HOME/.pki/nssdb). HOME is WORK_DIR, and
   certutil (libnss3-tools) adds CA there as a trusted CA ("C,,"), so the page's wss:// connection to kedge is
   verified against the test CA as a browser's would be: no --ignore-certificate-errors.
2. Chromium starts headless (--remote-debugging-port=0: it writes the port it chose to DevToolsActivePort) on
   file://<repo>/docs/http-live.html?url=WS_URL&topic=TOPIC&offset=OFFSET. A file:// page sends `Origin: null`;
   the cluster's allowed_origins is empty, so kedge accepts any origin.
3. The page's target is found at http://127.0.0.1:PORT/json/list and driven through its webSocketDebuggerUrl with
   Runtime.evaluate. Prints {"subscribed": ...} once `window.kedgeSubscribed` is set (or {"error": ...} if it is
   not within SUBSCRIBE_TIMEOUT_S, with the page's status line and `window.kedgeError`).
4. Then reads one line from stdin, {"expect": N, "timeout_s": T}, and polls `JSON.stringify(window.kedgeRecords)`
   until it holds N records (at most T seconds), waits LINGER_S more (a record pushed twice would arrive then), and
   prints {"records": [...], "rows": <tr rows in tbody#records>, "status": <the status line>, "error": ...}.

Chromium runs in a session of its own; that process group (Chromium and its helpers, nothing else) is stopped
whatever happens.
"""
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE = os.path.join(REPO, "docs", "http-live.html")
CHROMIUM = "/usr/bin/chromium"
CERTUTIL = "/usr/bin/certutil"
SUBSCRIBE_TIMEOUT_S = 30
LINGER_S = 1.5


def say(line):
    print(json.dumps(line), flush=True)


def trust_ca(home, ca):
    nssdb = os.path.join(home, ".pki", "nssdb")
    os.makedirs(nssdb, exist_ok=True)
    subprocess.run([CERTUTIL, "-N", "-d", f"sql:{nssdb}", "--empty-password"], check=True, capture_output=True)
    subprocess.run([CERTUTIL, "-A", "-d", f"sql:{nssdb}", "-n", "kedge-test-ca", "-t", "C,,", "-i", ca], check=True,
                   capture_output=True)


def start_chromium(home, url):
    profile = os.path.join(home, "profile")
    os.makedirs(profile, exist_ok=True)
    argv = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--remote-debugging-port=0", f"--user-data-dir={profile}", url]
    log = open(os.path.join(home, "chromium.log"), "wb")
    env = dict(os.environ, HOME=home)
    process = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env,
                               start_new_session=True)
    return process, os.path.join(profile, "DevToolsActivePort")


def devtools_port(port_file, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        try:
            with open(port_file) as f:
                first = f.readline().strip()
            if first.isdigit():
                return int(first)
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("chromium wrote no DevToolsActivePort")


def page_target(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as answer:
                for target in json.load(answer):
                    if target.get("type") == "page" and target.get("url", "").startswith("file://"):
                        return target["webSocketDebuggerUrl"]
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("no page target in /json/list")


class Page:
    """One CDP session on the page target: evaluate(expression) -> the expression's value (returnByValue)."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0

    async def evaluate(self, expression):
        self.next_id += 1
        request_id = self.next_id
        await self.ws.send(json.dumps({"id": request_id, "method": "Runtime.evaluate",
                                       "params": {"expression": expression, "returnByValue": True}}))
        while True:
            reply = json.loads(await self.ws.recv())
            if reply.get("id") != request_id:
                continue  # an event
            if "error" in reply:
                raise RuntimeError(f"Runtime.evaluate: {reply['error']}")
            result = reply["result"]
            if "exceptionDetails" in result:
                raise RuntimeError(f"{expression}: {result['exceptionDetails'].get('text')}")
            return result["result"].get("value")


async def drive(debugger_url):
    import websockets
    loop = asyncio.get_running_loop()
    async with websockets.connect(debugger_url, max_size=None) as ws:
        page = Page(ws)
        deadline = loop.time() + SUBSCRIBE_TIMEOUT_S
        subscribed = None
        while loop.time() < deadline:
            subscribed = await page.evaluate("JSON.stringify(window.kedgeSubscribed ?? null)")
            if subscribed not in (None, "null"):
                break
            await asyncio.sleep(0.1)
        if subscribed in (None, "null"):
            say({"error": "window.kedgeSubscribed not set",
                 "status": await page.evaluate("document.getElementById('status').textContent"),
                 "kedgeError": await page.evaluate("JSON.stringify(window.kedgeError ?? null)")})
            return
        say({"subscribed": json.loads(subscribed)})

        order = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
        expect, timeout_s = order["expect"], order["timeout_s"]
        deadline = loop.time() + timeout_s
        records = []
        while loop.time() < deadline:
            records = json.loads(await page.evaluate("JSON.stringify(window.kedgeRecords)"))
            if len(records) >= expect:
                await asyncio.sleep(LINGER_S)
                records = json.loads(await page.evaluate("JSON.stringify(window.kedgeRecords)"))
                break
            await asyncio.sleep(0.2)
        say({"records": records,
             "rows": await page.evaluate("document.querySelectorAll('#records tr').length"),
             "status": await page.evaluate("document.getElementById('status').textContent"),
             "kedgeError": await page.evaluate("JSON.stringify(window.kedgeError ?? null)")})


def main():
    ca, ws_url, topic, offset, work_dir = sys.argv[1:6]
    trust_ca(work_dir, ca)
    query = urllib.parse.urlencode({"url": ws_url, "topic": topic, "offset": offset})
    process, port_file = start_chromium(work_dir, f"file://{PAGE}?{query}")
    try:
        port = devtools_port(port_file, process)
        asyncio.run(drive(page_target(port)))
    except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
        say({"error": str(error)})
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)  # its own session: chromium and its helpers only
            process.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
