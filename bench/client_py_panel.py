"""Benchmark the Engagement panel's rulebook on CPython and in Pyodide.

Builds deterministic plain data (10,000 threads, 100,000 events by default, shapes of
client_py/model.py), then times ``client_py.panel.build_threads``, ``build_panel``
without and with a query, and ``client_py.render.render_panel`` of the whole panel.
The same function of this file runs in-process on CPython and in Pyodide under Node.js
(the file is copied into Pyodide and imported there, with the client_py and tzdata
wheels that the extension ships), and a table compares the two.  Each phase is the best
of ``--repeat`` runs.  A hash of the rendered HTML shows both runtimes gave the same panel.

Usage::

    python bench/client_py_panel.py [--threads N] [--events N] [--repeat N] [--cpython-only]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
SEED = 20260615
QUERY = {"text": "pricing", "period": "30d"}
SETTINGS = {
    "time_zone": "Europe/Paris",
    "auto_insert": True,
    "notify_on_open": True,
    "blocklist": [],
    "insert_at": "last",
    "display_window_days": 14,
    "counter_reset_at": "2026-06-01T08:00:00Z",
}

_TOPICS = ("pricing", "renewal", "demo", "proposal", "follow-up", "intro", "contract",
           "onboarding", "quote", "meeting", "Q3 plan", "Café meeting", "invoice")
_FIRST = ("Ana", "Bruno", "Chloé", "Dmitri", "Emma", "Farid", "Grace", "Hiro", "Inès", "Jon")
_LAST = ("Martin", "Smith", "Müller", "García", "Rossi", "Nguyen", "Kowalski", "Dubois")
_DOMAINS = ("acme.com", "globex.io", "initech.co.uk", "umbrella.fr", "example.org",
            "mail.hooli.com", "ourco.com")
_PLACES = (("FR", "Île-de-France", "Paris"), ("US", "California", "San Francisco"),
           ("DE", "Berlin", "Berlin"), ("GB", "England", "London"), (None, None, None))
_VERDICTS = ("human", "gmail", "outlook", "gmail_prefetch", "apple_mpp", "scanner", "self",
             "duplicate")
_VERDICT_WEIGHTS = (50, 15, 5, 10, 10, 5, 3, 2)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat() + "Z"


def make_data(threads: int = 10_000, events: int = 100_000, seed: int = SEED) -> dict:
    """Messages, events and thread states as the server's API returns them."""
    rng = random.Random(seed)
    messages: list[dict] = []
    states: list[dict] = []
    for t in range(threads):
        thread_id = f"thread-{t:05d}"
        first_sent = NOW - timedelta(seconds=rng.randrange(40 * 86_400))
        for n in range(rng.choices((1, 2, 3), weights=(70, 20, 10))[0]):
            sent = min(first_sent + timedelta(hours=n * rng.randrange(1, 72)), NOW)
            recipients = []
            for _ in range(rng.choices((1, 2, 3), weights=(75, 18, 7))[0]):
                first, last = rng.choice(_FIRST), rng.choice(_LAST)
                address = f"{first.lower()}.{last.lower()}@{rng.choice(_DOMAINS)}"
                recipients.append({"name": f"{first} {last}" if rng.random() < 0.8 else "",
                                   "address": address})
            sequence = "Spring outreach" if rng.random() < 0.2 else None
            messages.append({
                "id": f"msg-{len(messages):06d}",
                "thread_id": thread_id,
                "subject": f"{rng.choice(_TOPICS).capitalize()} for {rng.choice(_LAST)} #{t}",
                "recipients": recipients,
                "mode": "manual" if rng.random() < 0.3 else "auto",
                "client": rng.choice(("gmail", "outlook")),
                "sequence": sequence,
                "step": rng.randrange(1, 5) if sequence else None,
                "sent_at": _iso(sent),
                "external": not all(r["address"].endswith("@ourco.com") for r in recipients),
            })
        if rng.random() < 0.1:
            states.append({
                "thread_id": thread_id,
                "pinned": rng.choice((True, False, None)),
                "viewed_at": _iso(NOW - timedelta(hours=rng.randrange(1, 400))),
            })

    event_list: list[dict] = []
    for e in range(events):
        # Skewed like real mail: 30% of the events land on 5% of the emails.
        hot = rng.random() < 0.3
        message = messages[rng.randrange(max(1, len(messages) // 20) if hot else len(messages))]
        sent = datetime.fromisoformat(message["sent_at"][:-1]).replace(tzinfo=timezone.utc)
        at = min(sent + timedelta(seconds=rng.randrange(20 * 86_400)), NOW)
        kind = "click" if rng.random() < 0.15 else "open"
        country, region, city = rng.choice(_PLACES)
        event_list.append({
            "id": f"evt-{e:07d}",
            "message_id": message["id"],
            "kind": kind,
            "at": _iso(at),
            "verdict": rng.choices(_VERDICTS, weights=_VERDICT_WEIGHTS)[0],
            "reason": "matched a known scanner network" if rng.random() < 0.05 else "",
            "country": country,
            "region": region,
            "city": city,
            "device": rng.choice(("desktop", "mobile", "tablet", "unknown")),
            "url": f"https://{rng.choice(_DOMAINS)}/p/{e % 97}?a=1&b=<2>" if kind == "click" else None,
            "implied": False,
        })
    return {"messages": messages, "events": event_list, "states": states}


def run_phases(threads: int = 10_000, events: int = 100_000, repeat: int = 3) -> dict:
    """Time each phase (best of ``repeat``) on this runtime; plain data out, for JSON."""
    import platform

    from client_py.panel import build_panel, build_threads
    from client_py.render import render_panel

    timings: dict[str, float] = {}
    results: dict[str, object] = {}

    def timed(name: str, call):
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            value = call()
            best = min(best, time.perf_counter() - started)
        timings[name] = best
        return value

    data = timed("make data", lambda: make_data(threads, events))
    args = (data["messages"], data["events"], data["states"], SETTINGS)
    built = timed("build_threads", lambda: build_threads(*args, now=NOW))
    panel = timed("build_panel, no query", lambda: build_panel(*args, query=None, now=NOW))
    searched = timed("build_panel, query", lambda: build_panel(*args, query=QUERY, now=NOW))
    html = timed("render_panel, whole panel", lambda: render_panel(panel, SETTINGS, now=NOW))
    results.update(
        threads=len(built),
        shown=panel["total_shown"],
        hidden_by_window=panel["hidden_by_window"],
        unread=panel["unread"],
        matching_query=searched["total_shown"],
        html_chars=len(html),
        html_sha256=hashlib.sha256(html.encode()).hexdigest()[:16],
    )
    return {
        "runtime": f"{sys.platform} {platform.python_implementation()} {platform.python_version()}",
        "timings": timings,
        "results": results,
    }


# Node side: boot Pyodide with the shipped wheels, import this file there, run the same
# function and print its JSON result as the only line on stdout.
_NODE_SCRIPT = """
import { readFileSync, writeSync } from "node:fs";
const config = JSON.parse(process.argv[process.argv.length - 1]);
const { bootPyodide } = await import(config.boot);
const { pyodide, timings } = await bootPyodide({
  indexURL: config.indexURL,
  wheels: config.wheels,
  pyodideOptions: { stdout: (line) => process.stderr.write(line + "\\n") },
});
pyodide.FS.mkdirTree("/bench");
pyodide.FS.writeFile("/bench/client_py_panel.py", readFileSync(config.bench));
const result = JSON.parse(pyodide.runPython(`
import json, sys
sys.path.insert(0, "/bench")
import client_py_panel
json.dumps(client_py_panel.run_phases(${config.threads}, ${config.events}, ${config.repeat}))
`));
result.boot = { "cold boot": timings.bootMs / 1000, "unpack wheels": timings.unpackMs / 1000 };
writeSync(1, JSON.stringify(result) + "\\n");
"""


def run_in_pyodide(root: Path, threads: int, events: int, repeat: int) -> dict:
    """Run :func:`run_phases` in Pyodide under Node.js, with freshly built wheels."""
    sys.path.insert(0, str(root / "tools"))
    from build_client_wheel import build_client_wheel
    from pyodide_wheels import ensure_wheels

    wheels = [build_client_wheel(), *ensure_wheels(include_tests=False)]
    config = {
        "boot": (root / "tools" / "pyodide_boot.mjs").as_uri(),
        "indexURL": (root / "node_modules" / "pyodide").as_uri() + "/",
        "wheels": [wheel.as_uri() for wheel in wheels],
        "bench": str(Path(__file__).resolve()),
        "threads": threads, "events": events, "repeat": repeat,
    }
    result = subprocess.run(
        ["node", "--input-type=module", "-e", _NODE_SCRIPT, "--", json.dumps(config)],
        cwd=root, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the Pyodide run failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def format_table(cpython: dict, pyodide: dict | None) -> str:
    """Seconds per phase on each runtime, and how many times slower Pyodide is."""
    head = f"{'phase':<28}{'CPython s':>12}{'Pyodide s':>12}{'ratio':>8}"
    lines = [f"CPython: {cpython['runtime']}"]
    if pyodide:
        lines.append(f"Pyodide: {pyodide['runtime']}")
    lines += [head, "-" * len(head)]
    for phase, seconds in cpython["timings"].items():
        row = f"{phase:<28}{seconds:>12.3f}"
        if pyodide:
            other = pyodide["timings"][phase]
            row += f"{other:>12.3f}{other / seconds:>7.1f}x"
        lines.append(row)
    if pyodide:
        for phase, seconds in pyodide["boot"].items():
            lines.append(f"{'Pyodide ' + phase:<28}{'':>12}{seconds:>12.3f}")
    lines.append("")
    lines.append("results: " + json.dumps(cpython["results"]))
    if pyodide:
        same = pyodide["results"] == cpython["results"]
        lines.append("same results in Pyodide: " + ("yes" if same else
                                                    "NO: " + json.dumps(pyodide["results"])))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cpython-only", action="store_true")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))

    cpython = run_phases(args.threads, args.events, args.repeat)
    pyodide = None if args.cpython_only else run_in_pyodide(root, args.threads, args.events, args.repeat)
    print(format_table(cpython, pyodide))
    same = pyodide is None or pyodide["results"] == cpython["results"]
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
