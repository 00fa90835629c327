"""What the Gmail extension costs the user: the delay tracking adds to sending (warm),
and Pyodide's cold start in the extension's offscreen document.

Runs the real thing: the built extension in Debian's Chromium (headless), a real
Engage server (granian, SQLite, in a temporary folder), and the Gmail double of
tests/extension (its compose DOM, Trusted Types CSP, Send acting on mouseup, and
Gmail's editor: it sends its own copy of the body, which the extension updates by
announcing its edit with InboxSDK's key event, a task later, and waiting for the
editor to take it).

- Cold start: ``--launches`` fresh browser profiles; for each, the time from the
  service worker creating the offscreen document to client_py being importable (as the
  extension measures it), split into Pyodide's boot, unpacking the wheels and
  importing client_py.
- Send path, warm: ``--sends`` emails to an external recipient and as many to a
  colleague (decided by client_py, not tracked: the baseline, measured in the same
  run, so the machine's load is in both), after two warm-up sends. Each tracked email
  has its pixel in the draft before Send, as a user's has (content/draft_pixel.js:
  it goes in when the recipient makes the email tracked); at Send it is registered
  with the server, its links planned by client_py (one call, ``prepare_send``) and
  rewritten in the DOM. "Held" is what the user waits: from the click to Gmail
  getting its click, as the content script measures it; the worker's share is split
  into client_py (decision, body facts and plan in one call), the server round trip
  and putting the server's tracked links into the plan. Measured with the editor-modelling page (``draft``, Gmail as it is)
  and with the page that reads innerHTML at Send (``dom``); "announce" is the share
  from the DOM edit to Gmail getting its click (two tasks: the key event, the editor's
  read).

Usage::

    python bench/extension_latency.py [--sends N] [--launches N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import build_extension  # noqa: E402
from tests.extension import harness  # noqa: E402
from tests.fixtures.addresses import PASSWORD  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402


class Session:
    """Just enough of tests/extension/conftest.py's ExtensionSession for harness.Compose."""

    def __init__(self, context, gmail, fake):
        self.context, self.gmail, self.fake = context, gmail, fake


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def row(name: str, values: list[float]) -> str:
    return (f"  {name:<34} {statistics.median(values):8.1f} {percentile(values, 0.9):8.1f} "
            f"{max(values):8.1f}   (n={len(values)})")


def cold_starts(playwright, extension_dir: Path, fake, launches: int) -> list[dict]:
    results = []
    for _ in range(launches):
        with tempfile.TemporaryDirectory() as profile:
            context = harness.launch(playwright, extension_dir, Path(profile), fake)
            try:
                page = context.pages[0] if context.pages else context.new_page()
                python = harness.wait_python_ready(context, page)
                results.append({"cold": python["coldStartMs"], **python["timings"]})
            finally:
                context.close()
    return results


def sends(session, count: int, to, subject: str) -> list[dict]:
    outcomes = []
    for i in range(count):
        compose = harness.Compose.new(session, to=[to], subject=f"{subject} {i}",
                                      body='<div dir="ltr">See <a href="https://acme.example/x">this</a>.</div>')
        compose.wait_toggle(tracked=to is harness.RAE)
        sent, outcome = compose.send()
        if outcome["applied"]:
            # What Gmail sent is the tracked body the writer saw: the editor took the edit.
            assert sent["html"] == sent["dom"] and harness.pixel_of(sent["html"]), "the edit did not reach Gmail"
            assert not outcome["workerTimings"]["replanned"], "client_py was asked twice at Send"
        outcomes.append(outcome)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=20)
    parser.add_argument("--launches", type=int, default=3)
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    extension_dir, _zip = build_extension.build()
    fake = harness.FakeGmail()
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(instance=Path(tmp), database_url=f"sqlite:///{tmp}/engage.db")
        server.migrate()
        server.create_user(email="bench@acme.example", org="Bench", domains=("acme.example",), password=PASSWORD)
        server.start()
        try:
            with sync_playwright() as playwright:
                cold = cold_starts(playwright, extension_dir, fake, args.launches)
                with tempfile.TemporaryDirectory() as profile:
                    context = harness.launch(playwright, extension_dir, Path(profile), fake)
                    try:
                        harness.wait_python_ready(context, harness.options_page(context))
                        harness.sign_in(context, server.url, "bench@acme.example", PASSWORD)
                        runs = {}
                        for editor in harness.EDITOR_MODES:
                            session = Session(context, harness.open_gmail(context, editor=editor), fake)
                            sends(session, 2, harness.RAE, "Warm-up")
                            runs[editor] = (sends(session, args.sends, harness.RAE, f"Tracked ({editor})"),
                                            sends(session, args.sends, harness.BOB, f"Internal ({editor})"))
                            session.gmail.close()
                    finally:
                        context.close()
        finally:
            server.stop()
            fake.close()

    for tracked, untracked in runs.values():
        assert all(o["applied"] for o in tracked), "a tracked send was not tracked"
        assert not any(o["applied"] for o in untracked), "an internal send was tracked"
    print(f"Engage extension, Chromium headless, {len(cold)} cold starts, {args.sends} warm sends each way"
          f" per Gmail editor")
    print(f"  {'milliseconds':<34} {'median':>8} {'p90':>8} {'max':>8}")
    print("Pyodide cold start in the offscreen document")
    print(row("offscreen created -> client_py ready", [c["cold"] for c in cold]))
    print(row("  Pyodide boot (loadPyodide)", [c["bootMs"] for c in cold]))
    print(row("  unpack client_py + tzdata wheels", [c["unpackMs"] for c in cold]))
    print(row("  import client_py (engage_bridge)", [c["importMs"] for c in cold]))
    for editor, (tracked, untracked) in runs.items():
        what = "Gmail's editor (sends its saved copy)" if editor == "draft" else "innerHTML read at Send"
        print(f"Send path, warm, {editor} page ({what}): added before Gmail sends")
        print(row("tracked: held from the click", [o["holdFromPressMs"] for o in tracked]))
        print(row("  worker: client_py prepare_send", [o["workerTimings"]["analyzeMs"] for o in tracked]))
        print(row("  worker: POST /messages", [o["workerTimings"]["registerMs"] for o in tracked]))
        print(row("  worker: tracked links into plan", [o["workerTimings"]["planMs"] for o in tracked]))
        print(row("  announce: edit -> Gmail's click", [o["holdFromPressMs"] - o["editedMs"] for o in tracked]))
        print(row("not tracked (internal): held", [o["holdFromPressMs"] for o in untracked]))
        held = statistics.median(o["holdFromPressMs"] for o in tracked)
        base = statistics.median(o["holdFromPressMs"] for o in untracked)
        print(f"  tracked / not tracked (medians)    {held / base:8.1f}x   tracking adds {held - base:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
