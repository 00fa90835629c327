"""client_js/stream.mjs (the extension's and the add-in's stream client) waits out a
refused ticket's Retry-After: a server opening too many streams at once (a reconnect
storm) answers the ticket request 503 with ``details.retry_after``, and the client asks
again no sooner, spread over up to 1.5 times as long; without it, its own backoff."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
const { createStream, retryAfterMs } = await import(process.argv[1]);
const delays = [];
globalThis.setTimeout = (fn, ms) => { delays.push(ms); return delays.length; };
globalThis.clearTimeout = () => {};
const refusals = [
  { details: { status: 503, details: { retry_after: 7 } } },  // EngageError of a server answer
  new Error("network down"),
];
for (const error of refusals) {
  const stream = createStream({ onEvent() {}, onState() {}, needTicket: () => Promise.reject(error) });
  stream.start();
  await new Promise((resolve) => setImmediate(resolve));
}
console.log(JSON.stringify({ delays, none: retryAfterMs(undefined), wire: retryAfterMs({ details: { retry_after: 3 } }) }));
"""


def test_a_refused_ticket_is_asked_again_no_sooner_than_retry_after():
    result = subprocess.run(["node", "--input-type=module", "-e", SCRIPT, str(ROOT / "client_js" / "stream.mjs")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    told, untold = answer["delays"]
    assert 7000 <= told <= 10500  # Retry-After honoured, jittered upwards only
    assert 500 <= untold <= 1500  # no Retry-After: the first backoff step, jittered
    assert answer["none"] == 0 and answer["wire"] == 3000
