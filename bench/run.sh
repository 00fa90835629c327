#!/usr/bin/env bash
# The benchmark suite, one command: installs what it needs (nginx and wrk from Debian,
# gunicorn and gevent into .venv, PostgreSQL when none runs), runs every benchmark and
# prints each figure as a ratio against a baseline measured in the same run, with the
# machine's load beside it. Nothing here is a timed test: it prints, it does not judge.
#
#   bench/run.sh            # everything, about 9 minutes on 2 busy cores
#   bench/run.sh --quick    # shorter runs, rougher figures
#
# Logs go to $BENCH_OUT (default: a new folder under /tmp), one file per benchmark.
source "$(dirname "$0")/../scripts/lib.sh"

QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
OUT="${BENCH_OUT:-$(mktemp -d /tmp/engage-bench-XXXXXX)}"
mkdir -p "$OUT"

apt_install nginx wrk
install_server
log "pip: gunicorn and gevent (the WSGI servers compared with granian)"
"$PY" -m pip install -q "gunicorn>=23" "gevent>=24" >/dev/null
ensure_postgres
# Pyodide for the client_py and extension benchmarks; never reinstalled under other
# users of this checkout (npm ci would empty node_modules while they run).
[ -d "$ROOT/node_modules/pyodide" ] || install_node_deps

cd "$ROOT"
STARTED=$(date +%s)
FAILED=()

run() {
  # run NAME LIMIT_SECONDS COMMAND... : one benchmark, output to the screen and $OUT/NAME.log
  local name="$1" limit="$2"; shift 2
  log "$name  ($(cut -d' ' -f1-3 /proc/loadavg) load)"
  if ! timeout --foreground --signal=INT --kill-after=30 "$limit" "$@" 2>&1 | tee "$OUT/$name.log"; then
    FAILED+=("$name")
    echo "!! $name failed or ran out of time (${limit}s); see $OUT/$name.log" >&2
  fi
}

if [ "$QUICK" = 1 ]; then
  PIXEL=(--seconds 4 --warmup 1 --drain-limit 45 --profile 4000)
  PANEL=(--repeat 7)
  CLIENT=(--threads 3000 --events 30000 --repeat 1)
  EXT=(--sends 8 --launches 2)
  MARKS=(--rounds 2 --steps 20)
else
  PIXEL=()
  PANEL=()
  CLIENT=(--repeat 1)
  EXT=(--sends 15 --launches 3)
  MARKS=()
fi

run pixel_throughput 480 "$PY" -u bench/pixel_throughput.py "${PIXEL[@]}"
run panel_scale 360 "$PY" -u bench/panel_scale.py "${PANEL[@]}"
run insights_scale 420 "$PY" -u bench/insights_scale.py --repeat "$([ $QUICK = 1 ] && echo 5 || echo 9)"
run open_to_panel 180 "$PY" -u bench/open_to_panel.py
if [ "$QUICK" = 1 ]; then STREAMS=(--quick); else STREAMS=(); fi
run streams 900 "$PY" -u bench/streams.py "${STREAMS[@]}"
run memory 180 "$PY" -u bench/memory.py
run spool_reserve 120 "$PY" -u bench/spool_reserve.py
run client_py_panel 240 "$PY" -u bench/client_py_panel.py "${CLIENT[@]}"
if [ -f bench/extension_latency.py ]; then
  run extension_latency 300 "$PY" -u bench/extension_latency.py "${EXT[@]}"
else
  echo "bench/extension_latency.py is not there yet: extension figures skipped" | tee "$OUT/extension_latency.log"
fi
run list_marks 240 "$PY" -u bench/list_marks.py "${MARKS[@]}"

# -- the summary: every benchmark's SUMMARY lines, plus the figures of the two
#    benchmarks that print their own tables, turned into ratios here.
"$PY" - "$OUT" "$(( $(date +%s) - STARTED ))" <<'PY'
import re, sys
from pathlib import Path

out, seconds = Path(sys.argv[1]), int(sys.argv[2])
def summary_rows(name):
    log = out / f"{name}.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    return [[c.strip() for c in line.split("|")[1:]] for line in text.splitlines() if line.startswith("SUMMARY |")]

rows = (summary_rows("pixel_throughput") + summary_rows("panel_scale") + summary_rows("insights_scale") + summary_rows("open_to_panel")
        + summary_rows("streams") + summary_rows("list_marks"))

def median_of(text, label):
    m = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)", text, re.M)
    return float(m.group(1)) if m else None

ext = out / "extension_latency.log"
if ext.exists():
    t = ext.read_text(errors="replace")
    cold, boot = median_of(t, "offscreen created -> client_py ready"), median_of(t, "Pyodide boot (loadPyodide)")
    held, plain = median_of(t, "tracked: held from the click"), median_of(t, "not tracked (internal): held")
    if cold and boot:
        rows.append(["extension: Pyodide cold start vs bare Pyodide boot (median, Chromium)",
                     f"{cold:.0f} vs {boot:.0f} ms", f"{cold / boot:.2f}x", "-", ""])
    if held and plain:
        rows.append(["extension: send held, tracked vs not tracked (warm, median)",
                     f"{held:.0f} vs {plain:.0f} ms", f"+{held - plain:.0f} ms", "-", ""])
cp = out / "client_py_panel.log"
if cp.exists():
    t = cp.read_text(errors="replace")
    m = re.search(r"^build_panel, no query\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)x", t, re.M)
    if m:
        rows.append(["client_py build_panel: Pyodide (Node) vs CPython", f"{m.group(2)} vs {m.group(1)} s",
                     f"{m.group(3)}x", "-", ""])
    m = re.search(r"^Pyodide cold boot\s+([\d.]+)", t, re.M)
    if m:
        rows.append(["bare Pyodide boot under Node.js (reference)", f"{float(m.group(1)) * 1000:.0f} ms", "-", "-", ""])

rows += summary_rows("memory") + summary_rows("spool_reserve")
head = ["figure", "measured", "ratio", "target", "machine load at the time"]
widths = [max(len(str(r[i])) if i < len(r) else 0 for r in [head, *rows]) for i in range(5)]
line = lambda r: "  ".join(str(r[i] if i < len(r) else "").ljust(widths[i]) for i in range(5)).rstrip()
print("\n" + "=" * 30 + f" Engage benchmarks: summary ({seconds // 60} min {seconds % 60} s) " + "=" * 30)
print(line(head))
print("-" * len(line(head)))
for r in rows:
    print(line(r))
print(f"\nFull output: {out}/*.log")
PY
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "Failed or timed out: ${FAILED[*]}" >&2
  exit 1
fi
