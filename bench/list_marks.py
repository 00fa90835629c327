"""What the marks in Gmail's lists cost: the time until a 100-row list is marked, and
what every scroll of a virtualised list costs with the extension against without it.

Runs the real thing: the built extension in Debian's Chromium (headless), a real
Engage server (granian, SQLite, in a temporary folder) and the Gmail double of
tests/extension, whose thread list is built like Gmail's (tr.zA rows, ids on the
subject's span) and virtualised: every scroll throws the rows away and builds new
ones. The baseline is the same page in the same Chromium without the extension,
measured in the same run.

- Time to mark: a Sent list of 100 rows (all in the DOM), 30 of them tracked emails the
  extension has never asked about (new ones each round): from the list being drawn to
  the 30th mark, and how many requests that took. Then Gmail redrawing the same 100
  rows (cached): from the redraw to the marks being back, measured at the next frame.
- Scroll cost: a 1,000-row virtualised list (30 tracked) scrolled a screen at a time;
  for each step, the task that draws the new rows, with the mutation callbacks it
  triggers (the extension's marks included), until the next task: through rows the
  extension never saw (it asks the worker), again (cached), and without the extension.
  The baseline is the same page in the same browser, loaded from the double's own
  address, where the extension's content scripts do not run.

Usage::

    python bench/list_marks.py [--rounds N] [--steps N]
"""

from __future__ import annotations

import argparse
import os
import secrets
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
from tests.live_server import LiveServer, recipient_fetch  # noqa: E402

USER = "marks-bench@acme.example"
TRACKED = 30


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def row(name: str, values: list[float], baseline: list[float] | None = None) -> str:
    ratio = f"   x{statistics.median(values) / statistics.median(baseline):.2f} of no extension" if baseline else ""
    return (f"  {name:<40} {statistics.median(values):8.2f} {percentile(values, 0.9):8.2f} "
            f"{max(values):8.2f}   (n={len(values)}){ratio}")


def gmail_id() -> str:
    return "18" + secrets.token_hex(7)


def tracked_threads(server, token: str, count: int) -> list[dict]:
    """`count` tracked emails registered with the server, a third of them opened."""
    threads = []
    for i in range(count):
        thread_id = gmail_id()
        status, message, _ = server.request("POST", "/api/v1/messages", {
            "subject": f"Proposal {i}", "recipients": [harness.RAE], "thread_id": thread_id, "mode": "manual",
            "client": "gmail", "links": []}, token=token)
        assert status == 201, message
        if i % 3 == 0:
            recipient_fetch(message["pixel_url"])
        threads.append({"id": thread_id, "subject": f"Proposal {i}", "sent": True})
    return threads


def untracked(count: int) -> list[dict]:
    return [{"id": gmail_id(), "subject": f"Untracked {i}", "sent": True} for i in range(count)]


def show_all_rows(page, threads: list[dict], every_row: bool = True) -> float:
    """A fresh Sent list holding exactly `threads` (every row in the DOM, or a screen's
    worth); the time from drawing it to the next task, mutation callbacks included (ms)."""
    return page.evaluate("""async ([threads, everyRow]) => {
        for (const key of fakeGmail.threads().map(t => t.id)) fakeGmail.forget(key);
        fakeGmail.addThreads(threads);
        const channel = new MessageChannel();
        const nextTask = new Promise((resolve) => { channel.port1.onmessage = resolve; });
        const t0 = performance.now();
        fakeGmail.show('#sent');
        if (everyRow) {
            document.querySelector('.Cp').style.height = (threads.length * fakeGmail.rowHeight + 40) + 'px';
            fakeGmail.rerender();
        }
        channel.port2.postMessage(0);
        await nextTask;
        return performance.now() - t0;
    }""", [threads, every_row])


def time_to_mark(page, expected: int) -> float:
    """From now to `expected` marks in the list (ms), polled every frame in the page."""
    return page.evaluate("""async (expected) => {
        const t0 = performance.now();
        while (document.querySelectorAll('tr.zA [data-engage-mark]').length < expected) {
            await new Promise(requestAnimationFrame);
            if (performance.now() - t0 > 20000) throw new Error('marks did not appear');
        }
        return performance.now() - t0;
    }""", expected)


def redraw_to_marks(page) -> list[float]:
    return page.evaluate("""async () => {
        const out = [];
        for (let i = 0; i < 20; i++) {
            const t0 = performance.now();
            fakeGmail.rerender();
            const before = document.querySelectorAll('tr.zA [data-engage-mark]').length;
            await new Promise(requestAnimationFrame);
            out.push([performance.now() - t0, before, document.querySelectorAll('tr.zA [data-engage-mark]').length]);
        }
        return out;
    }""")


def scroll_steps(page, steps: int) -> list[float]:
    """Per scroll step: the drawing task and its mutation callbacks, to the next task (ms)."""
    return page.evaluate("""async (steps) => {
        const box = document.querySelector('.Cp');
        fakeGmail.scrollList(0);
        const channel = new MessageChannel();
        const nextTask = () => new Promise((resolve) => { channel.port1.onmessage = resolve; channel.port2.postMessage(0); });
        const out = [];
        let top = 0;
        for (let i = 0; i < steps; i++) {
            top = (top + box.clientHeight) % (box.scrollHeight - box.clientHeight);
            await new Promise(requestAnimationFrame);
            const t0 = performance.now();
            fakeGmail.scrollList(top);
            await nextTask();
            out.push(performance.now() - t0);
        }
        return out;
    }""", steps)


def requests_made(context) -> int:
    return (harness.diagnostics(context).get("marks") or {}).get("requests", 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="100-row lists of new tracked emails")
    parser.add_argument("--steps", type=int, default=60, help="scroll steps through the 1,000-row list")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    extension_dir, _zip = build_extension.build()
    fake = harness.FakeGmail()
    results: dict = {"mark": [], "requests": [], "draw": [], "draw_plain": [], "redraw": []}
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(instance=Path(tmp), database_url=f"sqlite:///{tmp}/engage.db")
        server.migrate()
        token = server.create_user(email=USER, org="Bench", domains=("acme.example",), password=PASSWORD)
        server.start()
        try:
            with sync_playwright() as playwright:
                with tempfile.TemporaryDirectory() as profile:
                    context = harness.launch(playwright, extension_dir, Path(profile), fake)
                    try:
                        harness.wait_python_ready(context, harness.options_page(context))
                        harness.sign_in(context, server.url, USER, PASSWORD)
                        page = harness.open_gmail(context, "#sent")
                        # The baseline: the same page in the same browser where the
                        # extension does not run (its content scripts match Gmail's
                        # address only, not the double's own).
                        plain_page = context.new_page()
                        plain_page.goto(f"{fake.url}/mail/u/0/#sent")
                        plain_page.wait_for_function("document.documentElement.dataset.fakeGmailReady === 'true'")
                        for _ in range(args.rounds):
                            threads = tracked_threads(server, token, TRACKED) + untracked(100 - TRACKED)
                            threads.sort(key=lambda t: t["id"])
                            before = requests_made(context)
                            page.bring_to_front()
                            results["draw"].append(show_all_rows(page, threads))
                            results["mark"].append(time_to_mark(page, TRACKED))
                            page.wait_for_timeout(200)
                            results["requests"].append(requests_made(context) - before)
                            plain_page.bring_to_front()
                            results["draw_plain"].append(show_all_rows(plain_page, threads))
                        page.bring_to_front()
                        redraws = redraw_to_marks(page)
                        results["redraw"] = [ms for ms, _, _ in redraws]
                        results["redraw_marks_at_frame"] = min(after for _, _, after in redraws)
                        # 1,000 rows, virtualised (a screen's worth in the DOM): the last
                        # round's tracked rows among 970 the extension never saw.
                        bulk = threads[:TRACKED] + untracked(1000 - TRACKED)
                        bulk.sort(key=lambda t: t["id"])
                        show_all_rows(page, bulk, every_row=False)
                        page.wait_for_timeout(500)
                        before = requests_made(context)
                        results["scroll_cold"] = scroll_steps(page, args.steps)
                        page.wait_for_timeout(300)
                        results["scroll_requests"] = requests_made(context) - before
                        plain_page.bring_to_front()
                        show_all_rows(plain_page, bulk, every_row=False)
                        # Cached rows against no extension, in alternating chunks: the
                        # machine's load changes by the second, both sides see the same.
                        results["scroll_warm"], results["scroll_plain"] = [], []
                        chunk = max(1, args.steps // 4)
                        for _ in range(4):
                            page.bring_to_front()
                            results["scroll_warm"] += scroll_steps(page, chunk)
                            plain_page.bring_to_front()
                            results["scroll_plain"] += scroll_steps(plain_page, chunk)
                    finally:
                        context.close()
        finally:
            server.stop()
            fake.close()

    load = os.getloadavg()[0]
    print(f"Marks in Gmail's list, Chromium headless, load average {load:.1f}, {args.rounds} rounds of 100 rows"
          f" ({TRACKED} tracked), {args.steps} scroll steps through 1,000 rows")
    print(f"  {'milliseconds':<40} {'median':>8} {'p90':>8} {'max':>8}")
    print(row("draw 100 rows, no extension", results["draw_plain"]))
    print(row("draw 100 rows, with the extension", results["draw"], results["draw_plain"]))
    print(row("rows drawn -> 30 marks (cold, via server)", results["mark"]))
    print(f"  requests per 100-row list: {statistics.median(results['requests']):.0f}"
          f" (max {max(results['requests'])})")
    print(row("Gmail redraws 100 rows -> next frame", results["redraw"]))
    print(f"  marks present at the first frame after each redraw: {results['redraw_marks_at_frame']} of {TRACKED}")
    print(row("scroll step, no extension", results["scroll_plain"]))
    print(row("scroll step, extension, rows never seen", results["scroll_cold"], results["scroll_plain"]))
    print(row("scroll step, extension, rows seen before", results["scroll_warm"], results["scroll_plain"]))
    print(f"  requests while scrolling through rows never seen ({args.steps} screens): {results['scroll_requests']}")
    plain, cold = statistics.median(results["scroll_plain"]), statistics.median(results["scroll_cold"])
    print(f"SUMMARY | Gmail list: 100 rows marked (cold, median) / scroll step with vs without extension | "
          f"{statistics.median(results['mark']):.0f} ms / {cold:.1f} vs {plain:.1f} ms | {cold / plain:.2f}x | "
          f"1 request per page | load {load:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
