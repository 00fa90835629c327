"""The Outlook add-in, served by the Engage server itself.

- ``/addin/manifest.xml``: ``office_addin/manifest.xml`` with this server's public URL
  filled in, so an admin installs the add-in from one address;
- ``/addin/<path>``: the pages, scripts, styles and icons from ``office_addin/``, under
  the same folders (``commands/``, ``taskpane/``, ``shared/``, ``icons/``), and what
  ``tools/build_addin.py`` put in ``build/addin/`` (Pyodide's runtime, the client_py and
  tzdata wheels, the Pyodide loader);
- the URLs of the flat layout before those folders (``/addin/taskpane.html``, ...): a
  manifest an admin installed earlier names them, so they keep answering (``MOVED``);
- ``/addin/engage-panel.css``: client_py's panel stylesheet (``render.PANEL_CSS``, with
  the activity feed's and the reminders' styles);
- ``/panel``: the task pane page for a plain browser (the same page, outside Outlook).

These pages are framed by Outlook and run Pyodide, so they get their own security
headers (see :func:`addin_headers`) instead of the app's ``frame-ancestors 'none'``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, request, send_from_directory
from werkzeug.security import safe_join

from client_py.followup_calls import followup_css
from client_py.render import PANEL_CSS

bp = Blueprint("addin", __name__)

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_URL_PLACEHOLDER = "${PUBLIC_URL}"  # in manifest.xml and the HTML pages
OFFICE_JS_ORIGIN = "https://appsforoffice.microsoft.com"
# Where Outlook frames add-in pages: Outlook on the web (work, school and personal
# accounts), new Outlook on Windows, and the Office hosts that wrap them.
OUTLOOK_FRAME_ANCESTORS = (
    "https://outlook.office.com", "https://outlook.office365.com", "https://outlook.live.com",
    "https://outlook.cloud.microsoft", "https://*.outlook.com", "https://*.office.com",
    "https://*.office365.com", "https://*.officeapps.live.com", "https://*.microsoft365.com",
)
# Files served from office_addin/ by extension, with their types (module scripts need a
# JavaScript type; Python's table has no .mjs on every version).
SOURCE_TYPES = {
    ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".png": "image/png",
    ".py": "text/x-python",
}
# Files an installed manifest of the flat layout names, and where they live now. Outlook
# reads a manifest once at install time, so these answer until every admin reinstalls.
MOVED = {
    "taskpane.html": "taskpane/taskpane.html",
    "commands.html": "commands/commands.html",
    "commands.js": "commands/commands.js",
}
BUILD_TYPES = {
    ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".zip": "application/zip",
    ".json": "application/json", ".whl": "application/zip",
}


def source_dir() -> Path:
    return Path(current_app.config.get("ADDIN_SOURCE_DIR") or ROOT / "office_addin")


def build_dir() -> Path:
    return Path(current_app.config.get("ADDIN_BUILD_DIR") or ROOT / "build" / "addin")


def _filled(text: str) -> str:
    """``text`` with the placeholder replaced by the public URL, escaped for XML/HTML
    attribute values (where the templates use it)."""
    return text.replace(PUBLIC_URL_PLACEHOLDER, escape(current_app.config["PUBLIC_URL"], {'"': "&quot;"}))


def _source_file(name: str) -> Path | None:
    """``office_addin/<name>`` if it is a file inside that folder, else None."""
    path = safe_join(str(source_dir()), name)
    return Path(path) if path and Path(path).is_file() else None


def _page(name: str) -> Response:
    html = _source_file(name).read_text(encoding="utf-8")
    response = Response(_filled(html), mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/addin/manifest.xml")
def manifest():
    text = (source_dir() / "manifest.xml").read_text(encoding="utf-8")
    response = Response(_filled(text), mimetype="application/xml")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/addin/engage-panel.css")
def panel_css():
    response = Response(PANEL_CSS + followup_css(), mimetype="text/css")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/panel")
def web_panel():
    return _page("taskpane/taskpane.html")


@bp.get("/addin/<path:name>")
def asset(name: str):
    name = MOVED.get(name, name)
    suffix = Path(name).suffix.lower()
    if suffix == ".html" and _source_file(name):
        return _page(name)
    if suffix in SOURCE_TYPES and _source_file(name):
        response = send_from_directory(source_dir(), name, mimetype=SOURCE_TYPES[suffix])
    elif suffix in BUILD_TYPES:
        if not build_dir().is_dir():
            abort(503, description="The add-in is not built: run `python tools/build_addin.py`.")
        if name.startswith("pyodide/"):
            # Pyodide's files change only with its pinned version: spare the 9 MB wasm.
            return send_from_directory(build_dir(), name, mimetype=BUILD_TYPES[suffix],
                                       max_age=86400)
        response = send_from_directory(build_dir(), name, mimetype=BUILD_TYPES[suffix])
    else:
        abort(404)
    # Everything else may change with an upgrade under the same name: revalidate (ETag).
    response.cache_control.no_cache = True
    return response


def content_security_policy() -> str:
    public = urlsplit(current_app.config["PUBLIC_URL"])
    origin = f"{public.scheme}://{public.netloc}" if public.netloc else ""
    self_and_public = " ".join(filter(None, ("'self'", origin)))
    return "; ".join((
        "default-src 'none'",
        # Office.js must come from Microsoft's CDN; Pyodide compiles WebAssembly.
        f"script-src {self_and_public} {OFFICE_JS_ORIGIN} 'wasm-unsafe-eval'",
        f"connect-src {self_and_public}",
        # Office.js adds inline styles to its own elements.
        f"style-src {self_and_public} 'unsafe-inline'",
        f"img-src {self_and_public} data:",
        f"frame-src {OFFICE_JS_ORIGIN}",
        "base-uri 'self'",
        "form-action 'none'",
        "object-src 'none'",
        "frame-ancestors 'self' " + " ".join(OUTLOOK_FRAME_ANCESTORS),
    ))


@bp.after_request
def addin_headers(response: Response) -> Response:
    """Set (not setdefault) this blueprint's policy before the app's defaults run."""
    response.headers["Content-Security-Policy"] = content_security_policy()
    # Outlook frames these pages; frame-ancestors above says by whom.
    response.headers.pop("X-Frame-Options", None)
    return response


@bp.after_app_request
def drop_deny_framing(response: Response) -> Response:
    """The app's ``add_security_headers`` (server/security_headers.py) adds
    ``X-Frame-Options: DENY`` when none is set.

    This runs after it (functions registered earlier run later, and this blueprint is
    registered before that hook), and takes DENY off the add-in's responses
    only. Where the order differs, browsers still obey ``frame-ancestors`` over it.
    """
    if request.blueprint == bp.name:
        response.headers.pop("X-Frame-Options", None)
    return response
