"""Follow-up reminders in the panel: the "Due" section at its top and the "Remind me"
menu on each thread. Pure; every value escaped. The hooks (one delegated listener):

``section.engage-due[data-count]`` > ``li.engage-due-item[data-reminder-id][data-thread-id]``
    A due reminder, with ``button[data-action=reminder-snooze][data-days]``,
    ``button[data-action=reminder-done]``, ``button[data-action=reminder-cancel]`` and
    ``a[data-action=open-thread]``.
``details.engage-remind`` (in each thread, when the host passes ``with_reminders``)
    ``button[data-action=remind][data-thread-id][data-condition][data-days]``,
    ``input.engage-remind-date[data-condition]`` + ``button[data-action=remind-date]``,
    and for a reminder already set ``button[data-action=reminder-cancel][data-reminder-id]``.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Iterable, Mapping

from client_py.i18n import language, plural, text
from client_py.model import merged_settings
from client_py.present import TimeFormatter
from client_py.reminders import CONDITIONS, PRESET_DAYS

SNOOZE_DAYS = (1, 3)


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _button(action: str, label: str, **data: object) -> str:
    attrs = "".join(f' data-{k.replace("_", "-")}="{_e(v)}"' for k, v in data.items())
    return f'<button type="button" class="engage-rbutton" data-action="{action}"{attrs}>{_e(label)}</button>'


def render_due(reminders: Iterable[Mapping], settings: Mapping | None = None,
               now: str | datetime | None = None) -> str:
    """The "Due" section: reminders whose time came with nobody opening (or replying);
    "" when none is due."""
    lang = language((settings or {}).get("locale"))
    fmt = TimeFormatter(merged_settings(settings).get("time_zone"), now, lang)
    due = [r for r in reminders if r.get("status") == "due"]
    if not due:
        return ""
    out = [f'<section class="engage-due" data-count="{len(due)}"><h2 class="engage-due-title">'
           f'{_e(text(lang, "reminders.due"))}</h2><ul class="engage-due-list">']
    for r in due:
        rid, thread_id = r.get("id"), r.get("thread_id")
        key = "reminders.due_reply" if r.get("condition") == "reply" else "reminders.due_open"
        subject = r.get("subject") or text(lang, "thread.no_subject")
        line = text(lang, key, subject=subject, since=fmt.short(r["since"]) if r.get("since") else "")
        people = ", ".join(p.get("name") or p.get("address") or "" for p in r.get("recipients") or ())
        out.append(
            f'<li class="engage-due-item" data-reminder-id="{_e(rid)}" data-thread-id="{_e(thread_id)}">'
            f'<a class="engage-due-open" href="#" data-action="open-thread" data-thread-id="{_e(thread_id)}">'
            f'<span class="engage-due-line">{_e(line)}</span>'
            + (f'<span class="engage-due-people">{_e(people)}</span>' if people else "")
            + '</a><span class="engage-due-actions">'
            + "".join(_button("reminder-snooze", plural(lang, "reminders.snooze", d), reminder_id=rid, days=d)
                      for d in SNOOZE_DAYS)
            + _button("reminder-done", text(lang, "reminders.done"), reminder_id=rid)
            + _button("reminder-cancel", text(lang, "reminders.cancel"), reminder_id=rid)
            + "</span></li>")
    out.append("</ul></section>")
    return "".join(out)


def remind_menu(thread: Mapping, lang: str, fmt: TimeFormatter) -> str:
    """The thread's "Remind me" menu and the reminders already set on it."""
    thread_id = thread.get("thread_id")
    out = ['<details class="engage-remind"><summary class="engage-remind-summary">'
           f'{_e(text(lang, "reminders.menu"))}</summary><div class="engage-remind-menu">']
    for condition in CONDITIONS:
        out.append(f'<div class="engage-remind-row" data-condition="{condition}">'
                   f'<span class="engage-remind-if">{_e(text(lang, "reminders.if_" + condition))}</span>')
        out += [_button("remind", plural(lang, "reminders.in_days", d), thread_id=thread_id, condition=condition,
                        days=d) for d in PRESET_DAYS]
        out.append(f'<input type="date" class="engage-remind-date" data-condition="{condition}" '
                   f'aria-label="{_e(text(lang, "reminders.on_date"))}">'
                   + _button("remind-date", text(lang, "reminders.set"), thread_id=thread_id, condition=condition)
                   + "</div>")
    out.append("</div></details>")
    for r in thread.get("reminders") or ():
        if r.get("status") != "pending":
            continue
        key = "reminders.pending_reply" if r.get("condition") == "reply" else "reminders.pending_open"
        out.append(f'<p class="engage-remind-set" data-reminder-id="{_e(r.get("id"))}">'
                   f'{_e(text(lang, key, when=fmt.short(r["due_at"])))} '
                   + _button("reminder-cancel", text(lang, "reminders.cancel"), reminder_id=r.get("id")) + "</p>")
    return "".join(out)


REMINDER_CSS = """
.engage-due{margin:0 0 12px;padding:8px;border-radius:8px;background:#fef7e0;color:#3c2a00}
.engage-due-title{font-size:11px;font-weight:600;letter-spacing:.04em;text-transform:uppercase;margin:0 0 4px;
 color:#b06000}
.engage-due-list{list-style:none;margin:0;padding:0}
.engage-due-item{display:flex;flex-wrap:wrap;align-items:center;gap:4px 8px;padding:4px 0;border-top:1px solid #f6e2a8}
.engage-due-item:first-child{border-top:0}
.engage-due-open{flex:1 1 12em;min-width:0;color:inherit;text-decoration:none;display:flex;flex-direction:column}
.engage-due-open:hover .engage-due-line{text-decoration:underline}
.engage-due-line{font-weight:600}
.engage-due-people{font-size:12px;opacity:.8}
.engage-due-actions{display:flex;flex-wrap:wrap;gap:4px}
.engage-rbutton{font:inherit;font-size:12px;padding:2px 8px;border-radius:12px;border:1px solid #dadce0;background:#fff;
 color:#1f1f1f;cursor:pointer}
.engage-rbutton:hover{background:#f1f3f4}
.engage-rbutton:focus-visible{outline:2px solid #1a73e8}
.engage-remind{display:inline-block;margin:2px 4px;font-size:12px}
.engage-remind-summary{cursor:pointer;color:#1a73e8;list-style:none}
.engage-remind-summary::-webkit-details-marker{display:none}
.engage-remind-menu{display:flex;flex-direction:column;gap:4px;padding:6px;margin-top:4px;border:1px solid #e3e3e3;
 border-radius:8px;background:var(--bg,#fff)}
.engage-remind-row{display:flex;flex-wrap:wrap;align-items:center;gap:4px}
.engage-remind-if{min-width:8em;color:#5f6368}
.engage-remind-date{font:inherit;font-size:12px}
.engage-remind-set{margin:2px 4px;font-size:12px;color:#b06000}
@media (prefers-color-scheme:dark){.engage-due{background:#3c2f00;color:#fde293}.engage-due-title{color:#fdd663}
 .engage-rbutton{background:#303134;color:#e8eaed;border-color:#5f6368}}
"""
