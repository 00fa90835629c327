"""Insights: who is reading (readers and forwards), and the Insights view as HTML with
SVG charts, the same in Gmail's side panel, Outlook's task pane and ``/panel``.

Pure: standard library and client_py only, no I/O, no clock (it runs in Pyodide).

**Readers** (:func:`readers`). An email's counted hits are grouped into probable
readers by evidence, conservatively (never more readers than the evidence shows):

1. A hit through a mail provider's proxy (``gmail``, ``outlook``, ``yahoo``) hides the
   reader's device and place: all of one provider's hits are one reader "through Gmail".
2. Any other hit is keyed by its place (country and city) when known, else by its
   network (an opaque label: the same /24 or /48). Keys that share a network are one
   reader (one office, two lookups). Different devices at one place are one reader:
   a desktop and a phone in the same city are as likely one person as two.
3. A hit with neither place nor network joins the reader with its device and agent
   if there is exactly one such; else it makes a reader of its own only when there is
   no other reader (an open happened: someone read it).

A reader is **possibly forwarded** when it first appears at least
:data:`FORWARD_AFTER` after the email's first reader and in a country (or, when
places are unknown, on a network) no earlier reader had; and the email is when it has
more readers than recipients. Who a reader is, is said only as far as the recipients
tell: "someone at globex.io" when every recipient is at one domain, "a Gmail reader"
for Gmail's proxy, else "one of 3 recipients, or someone they shared it with". The
rule never names one recipient: an open carries no recipient.

**The view** (:func:`render_insights`) takes the server's ``GET /api/v1/insights``
answer. Every value from data is escaped; no scripts, handlers, styles or external
resources; each chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>`` and
its numbers also in text beside it (a list, or a table under "Show the numbers"), so
it reads without colour and with a screen reader.

Hooks for hosts: ``div.engage-insights``, ``section.engage-ins-<name>``,
``svg.engage-heatmap rect[data-day][data-hour][data-n]``,
``a.engage-export[data-action=export]``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from html import escape
from typing import Mapping, Sequence

from client_py.i18n import Dates, join_and, language, number, plural, text
from client_py.present import device_label
from client_py.times import parse_time

FORWARD_AFTER = timedelta(hours=24)
PROXIES = {"gmail": "Gmail", "outlook": "Outlook.com", "yahoo": "Yahoo Mail"}
MACHINE_KINDS = ("gmail_prefetch", "apple_mpp", "scanner", "self", "duplicate")
COUNTED = frozenset({"human", "gmail", "outlook", "yahoo", "confirmed"})
BEST_MIN_OPENS = 10  # fewer placed opens than this: no "best hours" claim
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_OUTLOOK_DOMAINS = frozenset({"outlook.com", "hotmail.com", "live.com", "msn.com"})


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


# -- readers --------------------------------------------------------------------------

def _place(hit: Mapping) -> tuple[str, str] | None:
    country = " ".join(str(hit.get("country") or "").split())
    city = " ".join(str(hit.get("city") or "").split())
    return (country, city) if country or city else None


class _Union:
    def __init__(self) -> None:
        self.parent: dict = {}

    def find(self, x):
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb, key=repr)] = min(ra, rb, key=repr)


def readers(hits: Sequence[Mapping], recipients: Sequence[Mapping] = ()) -> dict:
    """An email's probable readers from its counted hits (see the module docstring).

    ``hits``: ``{at, kind, verdict, device, country, region, city, network, agent}``
    (non-counted ones are ignored); ``recipients``: ``{domain}`` each. Answers
    ``{"readers": [{who, device, devices, place, via, first_at, hits, forwarded}],
    "forwarded": bool, "reason": "" | "late_reader" | "more_than_recipients"}``, readers
    in the order they first appeared."""
    counted = sorted((h for h in hits if h.get("verdict") in COUNTED and h.get("at")),
                     key=lambda h: parse_time(h["at"]))
    union = _Union()
    keyed: list[tuple[Mapping, object]] = []
    loose: list[Mapping] = []
    for h in counted:
        proxy = h.get("verdict") if h.get("verdict") in PROXIES else None
        place, net = _place(h), h.get("network") or None
        if proxy:
            key = ("via", proxy)
        elif place:
            key = ("place", place)
            if net:
                union.join(key, ("net", net))
        elif net:
            key = ("net", net)
        else:
            loose.append(h)
            continue
        union.find(key)
        keyed.append((h, key))
    groups: dict[object, list[Mapping]] = {}
    for h, key in keyed:
        groups.setdefault(union.find(key), []).append(h)
    for h in loose:
        same = [k for k, g in groups.items() if k[0] != "via" and any(
            (x.get("device"), x.get("agent")) == (h.get("device"), h.get("agent")) for x in g)]
        if len(same) == 1:
            groups[same[0]].append(h)
        elif not groups:
            groups[("loose", 0)] = [h]
        elif ("loose", 0) in groups:
            groups[("loose", 0)].append(h)
    domains = sorted({str(r.get("domain") or "").lower() for r in recipients if r.get("domain")})
    out = []
    for key, group in sorted(groups.items(), key=lambda kv: parse_time(min(h["at"] for h in kv[1]))):
        group.sort(key=lambda h: parse_time(h["at"]))
        first = group[0]
        devices = sorted({h.get("device") or "unknown" for h in group} - {"unknown"})
        place = next((_place(h) for h in group if _place(h)), None)
        via = key[1] if key[0] == "via" else None
        out.append({"who": _who(via, domains, len(recipients)), "device": devices[0] if len(devices) == 1 else
                    ("unknown" if not devices else "several"), "devices": devices,
                    "place": {"city": place[1], "country": place[0]} if place else None, "via": via,
                    "first_at": first["at"], "hits": len(group), "forwarded": False,
                    "_countries": {(_place(h) or ("", ""))[0] for h in group} - {""},
                    "_networks": {h.get("network") for h in group} - {None, ""}})
    reason = ""
    if out:
        start = parse_time(out[0]["first_at"])
        seen_countries, seen_networks = set(out[0]["_countries"]), set(out[0]["_networks"])
        for r in out[1:]:
            late = parse_time(r["first_at"]) - start >= FORWARD_AFTER
            new_country = bool(r["_countries"]) and not (r["_countries"] & seen_countries)
            new_network = not r["_countries"] and bool(r["_networks"]) and not (r["_networks"] & seen_networks)
            if late and r["via"] is None and (new_country or new_network):
                r["forwarded"] = True
                reason = reason or "late_reader"
            seen_countries |= r["_countries"]
            seen_networks |= r["_networks"]
        if recipients and len(out) > len(recipients):
            reason = reason or "more_than_recipients"
    for r in out:
        del r["_countries"], r["_networks"]
    return {"readers": out, "forwarded": bool(reason), "reason": reason}


def _who(via: str | None, domains: list[str], n_recipients: int) -> dict:
    """Who a reader may be, as far as the recipients tell (never one person)."""
    if via == "gmail":
        return {"kind": "gmail"}
    if via == "yahoo":
        return {"kind": "yahoo"}
    if via == "outlook" and (not domains or set(domains) <= _OUTLOOK_DOMAINS):
        return {"kind": "outlook"}
    if len(domains) == 1 and domains[0] not in _GMAIL_DOMAINS | _OUTLOOK_DOMAINS:
        return {"kind": "domain", "domain": domains[0]}
    return {"kind": "any", "n": max(1, n_recipients)}


def who_text(who: Mapping, lang: str) -> str:
    kind = who.get("kind")
    if kind == "domain":
        return text(lang, "ins.who_domain", domain=who.get("domain") or "")
    if kind in ("gmail", "outlook", "yahoo"):
        return text(lang, f"ins.who_{kind}")
    return plural(lang, "ins.who_any", int(who.get("n") or 1))


def reader_text(reader: Mapping, lang: str) -> str:
    """``desktop in London``, ``through Gmail``, ``mobile, place unknown``."""
    if reader.get("via"):
        return text(lang, "ins.reader_via", proxy=PROXIES.get(reader["via"], reader["via"]))
    devices = reader.get("devices") or []
    known = ("desktop", "mobile", "tablet")  # anything else stored is shown as unknown, never looked up
    words = [text(lang, f"summary.device.{d if d in known else 'unknown'}") for d in devices]
    device = join_and(lang, words) if words else text(lang, "summary.device.unknown")
    place = reader.get("place")
    if place:
        return text(lang, "ins.reader_at", device=device, place=place.get("city") or place.get("country"))
    return text(lang, "ins.reader_somewhere", device=device)


def readers_line(found: Mapping, lang: str = "en") -> str:
    """``2 readers: desktop in London, mobile in Berlin`` (+ ``, possibly forwarded``)."""
    lang = language(lang)
    rs = found.get("readers") or []
    if not rs:
        return ""
    line = plural(lang, "ins.readers", len(rs), list=", ".join(reader_text(r, lang) for r in rs))
    if found.get("forwarded"):
        line += f" · {text(lang, 'ins.forwarded')}"
    return line


# -- formatting -----------------------------------------------------------------------

def duration_text(seconds: int | float | None, lang: str) -> str:
    if seconds is None:
        return text(lang, "ins.none")
    minutes = max(0, round(seconds / 60))
    if minutes < 1:
        return text(lang, "ins.under_minute")
    if minutes < 60:
        return plural(lang, "ins.minutes", minutes)
    hours = round(minutes / 60)
    if hours < 48:
        return plural(lang, "ins.hours", hours)
    return plural(lang, "ins.days", round(hours / 24))


def _pct(n: int, total: int) -> int:
    return round(100 * n / total) if total else 0


def _hour_label(hour: int, lang: str) -> str:
    return Dates(lang).clock(datetime(2000, 1, 3, hour % 24))


def _day_label(day: int, lang: str) -> str:
    return Dates(lang).day(date(2024, 1, 1) + timedelta(days=day), False).split(",")[0].split(" ")[0]


def best_hours(heatmap: Sequence[Sequence[int]], n: int = 3) -> list[int]:
    """The hours of the day (recipient's local time) with the most opens, most first;
    none when fewer than :data:`BEST_MIN_OPENS` opens have a known place."""
    by_hour = [0] * 24
    for _day, hour, count in heatmap:
        by_hour[int(hour) % 24] += int(count)
    if sum(by_hour) < BEST_MIN_OPENS:
        return []
    ranked = sorted(range(24), key=lambda h: (-by_hour[h], h))
    return [h for h in ranked[:n] if by_hour[h] > 0]


# -- charts ---------------------------------------------------------------------------

_CELL, _LEFT, _TOP = 13, 34, 14


def heatmap_svg(heatmap: Sequence[Sequence[int]], lang: str) -> str:
    """7 x 24 cells, darker for more opens, each cell's count written in it and in its
    ``<title>``: readable without colour."""
    cells = {(int(d), int(h)): int(n) for d, h, n in heatmap}
    top = max(cells.values(), default=0)
    width, height = _LEFT + 24 * _CELL, _TOP + 7 * _CELL
    title = text(lang, "ins.heatmap")
    total = sum(cells.values())
    out = [f'<svg class="engage-heatmap" role="img" viewBox="0 0 {width} {height}" width="100%" '
           f'aria-labelledby="engage-hm-t engage-hm-d" xmlns="http://www.w3.org/2000/svg">'
           f'<title id="engage-hm-t">{_e(title)}</title><desc id="engage-hm-d">'
           f'{_e(_heatmap_desc(cells, lang, total))}</desc>']
    for h in range(0, 24, 3):
        out.append(f'<text class="engage-axis" x="{_LEFT + h * _CELL + 1}" y="10">{h:02d}</text>')
    for d in range(7):
        y = _TOP + d * _CELL
        out.append(f'<text class="engage-axis" x="0" y="{y + 10}">{_e(_day_label(d, lang))}</text>')
        for h in range(24):
            n = cells.get((d, h), 0)
            level = 0 if not n else 1 + min(4, int(4 * n / top)) if top else 0
            label = plural(lang, "ins.cell", n, day=_day_label(d, lang), hour=_hour_label(h, lang))
            x = _LEFT + h * _CELL
            out.append(f'<rect class="engage-l{level}" x="{x}" y="{y}" width="{_CELL - 1}" height="{_CELL - 1}" '
                       f'data-day="{d}" data-hour="{h}" data-n="{n}"><title>{_e(label)}</title></rect>')
            if n:
                out.append(f'<text class="engage-n{" engage-on-dark" if level >= 3 else ""}" x="{x + 6}" y="{y + 9}" '
                           f'text-anchor="middle">{n if n < 100 else "99+"}</text>')
    out.append("</svg>")
    return "".join(out)


def _heatmap_desc(cells: Mapping, lang: str, total: int) -> str:
    busiest = sorted(cells.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    return "; ".join(plural(lang, "ins.cell", n, day=_day_label(d, lang), hour=_hour_label(h, lang))
                     for (d, h), n in busiest) or text(lang, "ins.no_hits")


def bar_list(rows: Sequence[tuple[str, int, int]], cls: str, kinds: Sequence[str] = ()) -> str:
    """One list item per ``(line, value, of)``: the line's words and numbers as text, and
    an SVG bar beside it that only repeats them (hidden from screen readers)."""
    out = [f'<ul class="engage-bar-list {cls}">']
    for i, (line, value, of) in enumerate(rows):
        width = round(100 * value / of) if of else 0
        kind = f' data-kind="{_e(kinds[i])}"' if i < len(kinds) else ""
        out.append(f'<li{kind}><span>{_e(line)}</span><svg class="engage-barline" aria-hidden="true" viewBox="0 0 100 6" '
                   f'width="100%" height="6" preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg">'
                   f'<rect class="engage-bar-bg" x="0" y="0" width="100" height="6"/>'
                   f'<rect class="engage-bar" x="0" y="0" width="{width}" height="6"/></svg></li>')
    out.append("</ul>")
    return "".join(out)


def days_svg(days: Sequence[Sequence], lang: str) -> str:
    if not days:
        return ""
    top = max(int(n) for _d, n in days) or 1
    width = max(240, 8 * len(days))
    title = text(lang, "ins.by_day")
    out = [f'<svg class="engage-days" role="img" viewBox="0 0 {width} 40" width="100%" height="48" '
           f'preserveAspectRatio="xMinYMax meet" '
           f'xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>'
           f'<desc>{_e("; ".join(plural(lang, "ins.day_bar", int(n), day=d) for d, n in days))}</desc>']
    for i, (d, n) in enumerate(days):
        h = round(38 * int(n) / top)
        out.append(f'<rect class="engage-bar" x="{8 * i}" y="{40 - h}" width="6" height="{h}">'
                   f'<title>{_e(plural(lang, "ins.day_bar", int(n), day=d))}</title></rect>')
    out.append("</svg>")
    return "".join(out)


# -- the view -------------------------------------------------------------------------

def _kpis(f: Mapping, lang: str) -> str:
    total = int(f.get("emails") or 0)

    def share(n):
        return text(lang, "ins.share", n=number(int(n), lang), pct=_pct(int(n), total))

    replied, known = f.get("replied"), int(f.get("replied_known") or 0)
    replied_text = text(lang, "ins.not_known") if replied is None else text(
        lang, "ins.replied_of", n=number(int(replied), lang), known=number(known, lang), pct=_pct(int(replied), known))
    items = [("emails", number(total, lang)), ("opened", share(f.get("opened") or 0)),
             ("clicked", share(f.get("clicked") or 0)), ("replied", replied_text),
             ("median", duration_text(f.get("median_first_open_seconds"), lang))]
    return '<dl class="engage-kpis">' + "".join(
        f'<div data-kpi="{k}"><dt>{_e(text(lang, "ins." + k))}</dt><dd>{_e(v)}</dd></div>' for k, v in items) + "</dl>"


def _machines(f: Mapping, lang: str) -> str:
    hits = f.get("hits") or {}
    by_verdict: dict[str, int] = {}
    for kind in ("open", "click"):
        for verdict, n in (hits.get(kind) or {}).items():
            by_verdict[verdict] = by_verdict.get(verdict, 0) + int(n)
    total = sum(by_verdict.values())
    if not total:
        return f'<p class="engage-none">{_e(text(lang, "ins.no_hits"))}</p>'
    counted = sum(n for v, n in by_verdict.items() if v in COUNTED)
    rows = [("counted", counted)] + [(k, by_verdict.get(k, 0)) for k in MACHINE_KINDS]
    lines = [(text(lang, "ins.machines_line", label=text(lang, f"ins.kind.{k}"), n=number(n, lang),
                   total=number(total, lang), pct=_pct(n, total)), n, total) for k, n in rows]
    return bar_list(lines, "engage-machines", [k for k, _n in rows])


def _domains(f: Mapping, lang: str, limit: int = 8) -> str:
    rows = [(text(lang, "ins.domain_line", domain=d.get("domain"), opened=number(int(d.get("opened") or 0), lang),
                  emails=number(int(d.get("emails") or 0), lang), clicked=number(int(d.get("clicked") or 0), lang)),
             int(d.get("opened") or 0), int(d.get("emails") or 0)) for d in (f.get("domains") or [])[:limit]]
    if not rows:
        return ""
    return bar_list(rows, "engage-domains")


def _heat(f: Mapping, lang: str) -> str:
    heatmap = f.get("heatmap") or []
    best = best_hours(heatmap)
    best_line = text(lang, "ins.best", hours=join_and(lang, [_hour_label(h, lang) for h in best])) if best \
        else text(lang, "ins.best_none")
    rows = {}
    for d, h, n in heatmap:
        rows.setdefault(int(d), {})[int(h)] = int(n)
    table = ['<details class="engage-numbers"><summary>', _e(text(lang, "ins.numbers")), "</summary>",
             '<table><thead><tr><th scope="col"></th>']
    table += [f'<th scope="col">{h:02d}</th>' for h in range(24)]
    table.append("</tr></thead><tbody>")
    for d in range(7):
        table.append(f'<tr><th scope="row">{_e(_day_label(d, lang))}</th>')
        table += [f"<td>{rows.get(d, {}).get(h, 0)}</td>" for h in range(24)]
        table.append("</tr>")
    table.append("</tbody></table></details>")
    unplaced = int(f.get("heatmap_unplaced") or 0)
    note = f'<p class="engage-note">{_e(plural(lang, "ins.unplaced", unplaced))}</p>' if unplaced else ""
    return (f'<p class="engage-best">{_e(best_line)}</p>' + heatmap_svg(heatmap, lang) + note + "".join(table))


def _readers_section(f: Mapping, lang: str, dates: Dates) -> str:
    items = []
    for email in f.get("top_emails") or []:
        found = readers(email.get("hits") or [], email.get("recipients") or [])
        if not found["readers"]:
            continue
        line = readers_line(found, lang)
        whos = sorted({who_text(r["who"], lang) for r in found["readers"]})
        why = ""
        if found["reason"] == "late_reader":
            late = next(r for r in found["readers"] if r["forwarded"])
            after = duration_text((parse_time(late["first_at"]) - parse_time(found["readers"][0]["first_at"]))
                                  .total_seconds(), lang)
            why = text(lang, "ins.forwarded_why", after=after)
        elif found["reason"] == "more_than_recipients":
            why = text(lang, "ins.more_than_recipients")
        items.append(f'<li class="engage-reader-email" data-forwarded="{"true" if found["forwarded"] else "false"}">'
                     f'<span class="engage-subject">{_e(email.get("subject") or "")}</span> '
                     f'<span class="engage-readers">{_e(line)}</span> '
                     f'<span class="engage-who">{_e("; ".join(whos))}</span>'
                     + (f' <span class="engage-why">{_e(why)}</span>' if why else "") + "</li>")
    if not items:
        return ""
    return _section("readers", text(lang, "ins.readers_title"), '<ul class="engage-ins-list">' + "".join(items) + "</ul>")


def _section(name: str, title: str, body: str) -> str:
    return (f'<section class="engage-ins-{name}" aria-labelledby="engage-ins-{name}-h">'
            f'<h3 id="engage-ins-{name}-h">{_e(title)}</h3>{body}</section>')


def _figures(f: Mapping, lang: str, dates: Dates) -> str:
    if not int(f.get("emails") or 0):
        return f'<p class="engage-empty">{_e(text(lang, "ins.empty"))}</p>'
    return "".join([
        _kpis(f, lang),
        _section("heatmap", text(lang, "ins.heatmap"), _heat(f, lang)),
        _section("days", text(lang, "ins.by_day"), days_svg(f.get("opens_by_day") or [], lang)),
        _readers_section(f, lang, dates),
        _section("domains", text(lang, "ins.domains"), _domains(f, lang)),
        _section("machines", text(lang, "ins.machines"), _machines(f, lang)),
    ])


PERIODS = ("today", "7d", "30d", "90d")


def _controls(data: Mapping, lang: str) -> str:
    """The period picker and, for an admin whose org allows it, the team switch:
    ``select[data-action=period]`` and ``input[data-action=team]`` for the host."""
    chosen = (data.get("period") or {}).get("name") or "30d"
    options = "".join(f'<option value="{p}"{" selected" if p == chosen else ""}>{_e(text(lang, "ins.p." + p))}</option>'
                      for p in PERIODS)
    out = (f'<div class="engage-ins-controls"><label>{_e(text(lang, "ins.period_label"))} '
           f'<select data-action="period">{options}</select></label>')
    if data.get("team_available"):
        checked = " checked" if data.get("scope") == "team" else ""
        out += f'<label><input type="checkbox" data-action="team"{checked}> {_e(text(lang, "ins.team_toggle"))}</label>'
    return out + "</div>"


def render_insights(data: Mapping, settings: Mapping | None = None) -> str:
    """The Insights view from ``GET /api/v1/insights`` (``scope=me`` or ``team``)."""
    lang = language((settings or {}).get("locale"))
    dates = Dates(lang)
    period = data.get("period") or {}
    span = ""
    if period.get("first_day") and period.get("last_day"):
        span = text(lang, "ins.period", start=dates.day(date.fromisoformat(period["first_day"]), True),
                    end=dates.day(date.fromisoformat(period["last_day"]), True))
    team = data.get("scope") == "team"
    out = [f'<div class="engage-insights" data-scope="{"team" if team else "me"}">'
           f'<div class="engage-header"><h2 class="engage-title">{_e(text(lang, "ins.team_title" if team else "ins.title"))}</h2>'
           f'<a class="engage-export" data-action="export" href="#">{_e(text(lang, "ins.export"))}</a></div>'
           f'{_controls(data, lang)}<p class="engage-period">{_e(span)}</p>']
    if team:
        def member(m: Mapping) -> str:
            counts = {k: number(int(m.get(k) or 0), lang) for k in ("emails", "opened", "clicked")}
            line = text(lang, "ins.member_line", name=m.get("name") or "", **counts)
            return f'<li data-user-id="{_e(m.get("user_id"))}">{_e(line)}</li>'

        lines = "".join(member(m) for m in data.get("members") or [])
        out.append(_section("members", text(lang, "ins.members"), f'<ul class="engage-ins-list">{lines}</ul>'))
        out.append(f'<h3 class="engage-ins-org">{_e(text(lang, "ins.org"))}</h3>')
    out.append(_figures(data.get("figures") or {}, lang, dates))
    out.append("</div>")
    return "".join(out)


INSIGHTS_CSS = """
.engage-insights{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;padding:8px;color:var(--fg,#1f1f1f)}
.engage-insights h3{font-size:11px;font-weight:600;letter-spacing:.04em;text-transform:uppercase;color:#5f6368;margin:12px 0 4px}
.engage-period,.engage-note,.engage-who{color:#5f6368;margin:2px 0}
.engage-reader-email .engage-who{display:block}
.engage-kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(88px,1fr));gap:6px;margin:6px 0}
.engage-kpis div{border:1px solid #e3e3e3;border-radius:6px;padding:4px 6px}
.engage-kpis dt{font-size:11px;color:#5f6368}.engage-kpis dd{margin:0;font-weight:600}
.engage-heatmap text,.engage-bars text{font-size:8px;fill:#3c4043}
.engage-heatmap .engage-n{font-size:7px;fill:#1f1f1f}.engage-heatmap .engage-on-dark{fill:#fff}
.engage-l0{fill:#f1f3f4}.engage-l1{fill:#d2e3fc}.engage-l2{fill:#aecbfa}.engage-l3{fill:#4285f4}
.engage-l4{fill:#1967d2}.engage-l5{fill:#174ea6}
.engage-bar{fill:#1a73e8}.engage-bar-bg{fill:#e8eaed}
.engage-bar-list{list-style:none;margin:4px 0;padding:0}.engage-bar-list li{padding:3px 0}
.engage-barline{display:block;margin-top:2px}
.engage-ins-list{list-style:none;margin:4px 0;padding:0}.engage-ins-list li{padding:2px 0;border-top:1px dashed #e3e3e3}
.engage-reader-email .engage-subject{font-weight:600;display:block}
.engage-reader-email .engage-why{display:block;font-style:italic;color:#b06000}
.engage-numbers table{border-collapse:collapse;font-size:10px}.engage-numbers td,.engage-numbers th{padding:0 2px;text-align:right}
.engage-export{color:#1a73e8;font-size:12px}
.engage-ins-controls{display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin:4px 0;font-size:12px}
"""
