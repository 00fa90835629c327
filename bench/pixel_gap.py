"""Where the pixel's time goes between granian and Engage: nginx, a bare RSGI app (the
same image and headers, Engage's pixel work added a step at a time) and Engage's own
web workers, all under the options ``engage serve`` passes granian, in the same run,
in rounds (nginx first in each round), with the same wrk settings as
bench/pixel_throughput.py.

Besides wrk's rate it prints the CPU the server's processes used per answered request
(user + system, from /proc, the measured run only) and wrk's own: on a machine shared
with other work those are the figures that do not move with the load.

    python bench/pixel_gap.py [--rounds 2] [--seconds 4] \
        [--variants "nginx;bare gif;bare spool;engage web;engage serve"]

A variant is a name and its words: ``bare STEP`` (bench/bare_rsgi.py: gif, record,
spool, metrics), ``engage web`` (granian serving server.rsgi:app with the environment
``engage serve`` gives it, no writer: the spool only grows), ``engage serve`` (with its
writers). Words with ``=`` are environment variables for the server (``GRANIAN_*``
sets granian's options), words starting ``--`` are granian options added to engage
serve's command line (``--runtime-threads=2``; bare and engage web only), ``no--X``
drops engage serve's option ``--X`` and its value, ``plain`` runs granian with its own
defaults instead. ``bare gif --interface=wsgi`` serves bench/bare_rsgi.py's WSGI callable."""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datagen  # noqa: E402
import harness as h  # noqa: E402


def child_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class Variant:
    def __init__(self, spec: str, template: h.Engage, workers: int):
        words = spec.split()
        self.spec, self.kind = spec, words[0]
        self.words = words[1:]
        self.step = next((w for w in words[1:] if "=" not in w and not w.startswith(("--", "no--"))
                          and w != "plain"), "")
        self.env = dict(w.split("=", 1) for w in words[1:] if "=" in w and not w.startswith(("--", "no--")))
        self.granian = [x for w in words[1:] if w.startswith("--") for x in w.split("=", 1)]
        self.template, self.workers = template, workers
        self.procs: list = []
        self.url = ""

    def start(self) -> "Variant":
        if self.kind == "nginx":
            self.nginx = h.Nginx(workers=self.workers).start()
            self.url = self.nginx.url
            return self
        from server.cli import metrics_dir, web_command

        if self.kind == "engage" and self.step == "serve":
            self.site = self.template.clone(f"gap-serve-{len(self.env)}", extra_env=self.env).start()
            self.url = self.site.url
            return self
        site = self.template.clone(f"gap-{self.kind}-{self.step}")
        port = h.free_port()
        env = {**site.env(), "PROMETHEUS_MULTIPROC_DIR": metrics_dir(str(site.dir)), "ENGAGE_WSGI_THREADS": "8",
               "ENGAGE_EXPECT_WRITER": "1", "ENGAGE_BACKGROUND_THREADS": "0", "ENGAGE_WARM_LINKS": "1",
               "ENGAGE_WRITER_SHARD": "0/1", **self.env}
        cmd = web_command("127.0.0.1", port, self.workers, 8)
        if "plain" in self.words:  # granian's own defaults, not engage serve's options
            cmd = [h.PY, "-m", "granian", "--interface", "rsgi", "--host", "127.0.0.1", "--port", str(port),
                   "--workers", str(self.workers), "--no-ws", cmd[-1]]
        for drop in (w[len("no"):] for w in self.words if w.startswith("no--")):  # no--backpressure: drop it
            i = cmd.index(drop)
            del cmd[i:i + 2]
        cmd[-1:] = [*self.granian, cmd[-1]]
        if self.kind == "bare":
            cmd[-1] = "bare_rsgi:wsgi_app" if "--interface" in self.granian else "bare_rsgi:app"
            env.update(BARE_STEP=self.step or "gif", BARE_SPOOL_DIR=str(site.dir / "spool"),
                       PYTHONPATH=f"{h.ROOT / 'bench'}:{h.ROOT}")
        cwd = Path(env.pop("CWD", h.ROOT))  # CWD=/other/checkout: that checkout's server code
        if cwd != h.ROOT:
            env["PYTHONPATH"] = env.get("PYTHONPATH", str(h.ROOT)).replace(str(h.ROOT), str(cwd))
        proc = h.spawn(cmd, env=env, log=site.dir / "server.log", cwd=cwd)
        self.procs, self.site = [proc], site
        self.url = f"http://127.0.0.1:{port}"
        h.wait_http(self.url + "/p/aaaaaaaaaaaaaaaaaaaa.gif", proc, log=site.dir / "server.log")
        return self

    def server_pids(self) -> dict[str, list[int]]:
        if self.kind == "nginx":
            return {"web": [self.nginx.proc.pid, *h.descendants(self.nginx.proc.pid)], "writer": []}
        if self.kind == "engage" and self.step == "serve":
            tree = self.site.process_tree()
            return {"web": tree["workers"] + tree["supervisors"], "writer": tree["writer"]}
        return {"web": [self.procs[0].pid, *h.descendants(self.procs[0].pid)], "writer": []}

    def stop(self) -> None:
        if self.kind == "nginx":
            self.nginx.stop()
        elif self.kind == "engage" and self.step == "serve":
            self.site.stop()
        else:
            for p in self.procs:
                h.stop(p)


def measure(v: Variant, args, script: Path, warm: Path) -> dict:
    h.wrk(v.url, args.warmup, args.connections, args.wrk_threads, warm)
    pids = v.server_pids()
    web0, wr0, wrk0 = h.cpu_seconds(pids["web"]), h.cpu_seconds(pids["writer"]), child_cpu()
    r = h.wrk(v.url, args.seconds, args.connections, args.wrk_threads, script)
    web1, wr1, wrk1 = h.cpu_seconds(pids["web"]), h.cpu_seconds(pids["writer"]), child_cpu()
    n = max(1, r["requests"])
    r.update(label=v.spec, load=h.load(), web_us=(web1 - web0) / n * 1e6, writer_us=(wr1 - wr0) / n * 1e6,
             wrk_us=(wrk1 - wrk0) / n * 1e6, elapsed=r["ended"] - r["started"],
             web_cores=(web1 - web0) / (r["ended"] - r["started"]), writer_cores=(wr1 - wr0) / (r["ended"] - r["started"]),
             wrk_cores=(wrk1 - wrk0) / (r["ended"] - r["started"]))
    print(f"  {v.spec:<40} {r['rps']:>8.0f}/s p50 {r['p50']:6.2f} ms p99 {r['p99']:7.2f} ms err {r['errors']:<3}"
          f" | CPU/req: server {r['web_us']:5.1f} us ({r['web_cores']:.2f} cores) writers {r['writer_us']:5.1f} us"
          f" ({r['writer_cores']:.2f}) wrk {r['wrk_us']:4.1f} us ({r['wrk_cores']:.2f})  [{r['load']}]", flush=True)
    return r


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=4)
    p.add_argument("--warmup", type=float, default=1)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--messages", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--variants", default="nginx;bare gif;bare spool;engage web;engage serve")
    p.add_argument("--hold", default="", help="start this one variant, print its URL and processes, keep it "
                   "up for --seconds (for py-spy and a wrk of your own), then stop")
    args = p.parse_args(argv)

    print(f"Pixel gap: wrk -t{args.wrk_threads} -c{args.connections} -d{args.seconds:g}s, {args.workers} server "
          f"processes each, {args.rounds} rounds; {h.load()}", flush=True)
    template = h.Engage(workers=args.workers, name="gap-template")
    template.migrate()
    template.create_user("sender@ourco.example")
    uid = datagen.user_id(template.database_url, "sender@ourco.example")
    rows = datagen.make_user_data(uid, args.messages, 0, datagen.utcnow(), datagen.next_ids(template.database_url))
    datagen.load(template.database_url, rows)
    paths = [f"/p/{m[4]}.gif" for m in rows["messages"]]
    script = h.pixel_script(paths, h.workdir("gap-wrk"))
    warm = h.pixel_script([f"/p/warmup{i:024d}.gif" for i in range(50)], h.workdir("gap-warm"))
    specs = [s.strip() for s in args.variants.split(";") if s.strip()]
    if args.hold:
        v = Variant(args.hold, template, args.workers).start()
        try:
            (h.ROOT / "bench" / ".gap-wrk.lua").write_text(script.read_text())
            print(f"HOLD {v.url} {v.server_pids()} script {h.ROOT / 'bench' / '.gap-wrk.lua'}", flush=True)
            time.sleep(args.seconds)
        finally:
            v.stop()
        return 0
    results: dict[str, list[dict]] = {s: [] for s in specs}
    nginx_rates: list[list[float]] = []
    for round_no in range(args.rounds):
        print(f"round {round_no + 1}", flush=True)
        rates = []
        for spec in specs:
            v = Variant(spec, template, args.workers).start()
            try:
                r = measure(v, args, script, warm)
            finally:
                v.stop()
            results[spec].append(r)
            if v.kind == "nginx":
                rates.append(r["rps"])
        nginx_rates.append(rates)
    print("\nvariant                                   answered/s  x nginx (per round)      server CPU us/req  "
          "writers us/req  wrk us/req")
    for spec in specs:
        rs = results[spec]
        ratios = [r["rps"] / (sum(nr) / len(nr)) for r, nr in zip(rs, nginx_rates) if nr]
        print(f"  {spec:<40} {sum(r['rps'] for r in rs) / len(rs):>9.0f}  "
              f"{' '.join(f'{x:.3f}' for x in ratios):<24} {sum(r['web_us'] for r in rs) / len(rs):>8.1f}"
              f"{sum(r['writer_us'] for r in rs) / len(rs):>16.1f}{sum(r['wrk_us'] for r in rs) / len(rs):>12.1f}")
        print(f"SUMMARY | pixel gap: {spec} vs nginx | {' '.join(f'{x:.3f}' for x in ratios)} | "
              f"server {sum(r['web_us'] for r in rs) / len(rs):.1f} us CPU/req | {rs[-1]['load']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
