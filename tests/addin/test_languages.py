"""The add-in in the user's language and time zone: Outlook with a German, French or
Spanish display language shows Engage's notifications and task pane (its status line
too) in that language; the task pane shows times in Outlook's time zone until the user
picks another."""

from __future__ import annotations

import json
import uuid

import pytest

from client_py.present import format_time_full

from .conftest import PASSWORD, USER, hit_pixel, open_runtime, outlook_context
from .test_taskpane import article, new_user, open_pane

pytestmark = pytest.mark.browser

GERMAN = {"displayLanguage": "de-DE"}
EXTERNAL = {"displayName": "Bob Client", "emailAddress": "bob@client.example"}
BODY = "<html><body><div>Hallo Bob,</div><div>-- Ann</div></body></html>"


def test_notifications_in_german(browser, live, launch_events):
    context = outlook_context(browser, live, launch_events, token=live.token, outlook=GERMAN)
    try:
        runtime = open_runtime(context, live)
        runtime.evaluate("(spec) => __officeDouble.setItem(spec)", {
            "subject": "Angebot", "body": BODY, "conversationId": f"conv-{uuid.uuid4()}", "to": [EXTERNAL]})
        runtime.evaluate("() => __officeDouble.launch('OnNewMessageCompose')")
        [notice] = runtime.evaluate("() => __officeDouble.item().notifications")
        assert notice["message"] == ("Engage verfolgt, wann diese E-Mail geöffnet wird, sobald Sie sie senden "
                                     "(1 externer Empfänger).")

        runtime.evaluate("(spec) => __officeDouble.setItem(spec)", {
            "subject": "Nur Text", "format": "text", "body": "Hallo Bob", "to": [EXTERNAL]})
        runtime.evaluate("() => __officeDouble.invoke('trackEmailOpens')")
        [notice] = runtime.evaluate("() => __officeDouble.item().notifications")
        assert notice["type"] == "errorMessage"
        assert notice["message"].startswith("Engage: nicht verfolgt: Nur-Text.")
    finally:
        context.close()


def test_task_pane_in_german(browser, live, launch_events):
    context = outlook_context(browser, live, launch_events, token=None, outlook=GERMAN)
    try:
        pane = context.new_page()
        pane.goto(f"{live.url}/addin/taskpane/taskpane.html")
        # Pyodide boots in the page at once; let it settle before typing.
        pane.wait_for_function("() => window.EngageApi && EngageApi.engineState() !== 'starting'", timeout=90000)
        pane.wait_for_selector("#signin:not([hidden])", timeout=30000)
        assert pane.evaluate("() => document.documentElement.lang") == "de"
        assert pane.inner_text("#signin h1") == "Bei Engage anmelden"
        assert pane.inner_text("#signin-submit") == "Anmelden"
        assert "Kennwort" in pane.inner_text("#signin-form")
        pane.click("#signin-submit")
        assert pane.inner_text("#signin-error") == "Geben Sie Ihre E-Mail-Adresse und Ihr Kennwort ein."
        pane.fill("#signin-email", USER)
        pane.fill("#signin-password", PASSWORD)
        pane.click("#signin-submit")
        pane.wait_for_selector("#main:not([hidden])", timeout=30000)
        pane.wait_for_selector('#live[data-live="on"]', timeout=30000)
        assert pane.inner_text("#live") == "Live"
        # The panel itself is client_py's, in Office's display language too.
        pane.wait_for_selector('#panel .engage-panel[lang="de"]', timeout=30000)
        assert pane.get_attribute("#q", "placeholder") == "Betreff oder Empfänger suchen"
        assert pane.inner_text("#category option[value=all]") == "Alle E-Mails"
        assert pane.inner_text("#period option[value='7d']") == "Letzte 7 Tage"
        pane.click("#settings-toggle")
        settings = pane.inner_text("#settings")
        assert "E-Mails an externe Empfänger automatisch verfolgen" in settings and "Zeitzone" in settings
        assert f"Angemeldet als {USER}" in settings
    finally:
        context.close()


def test_times_in_outlooks_time_zone_until_the_user_picks_one(browser, live, launch_events):
    token = new_user(live, f"kei-{uuid.uuid4().hex[:6]}@acme.example")  # settings untouched: UTC
    status, message, _ = live.request("POST", "/api/v1/messages", {
        "subject": "Tokyo office", "recipients": [{"name": "Bob", "address": "bob@client.example"}],
        "thread_id": f"conv-{uuid.uuid4()}", "mode": "manual", "client": "outlook"}, token=token)
    assert status == 201
    assert hit_pixel(live, message["pixel_url"]) == 200
    # Outlook gives the time zone by its Windows name (Office.context.mailbox.userProfile).
    context = outlook_context(browser, live, launch_events, token=token,
                              outlook={"userProfile": {"timeZone": "Tokyo Standard Time"}})
    try:
        pane = open_pane(context, live)
        entry = article(pane, message["thread_id"])
        event = entry.locator("li.engage-event")
        event.wait_for(state="attached", timeout=30000)  # the hit is stored by the writer, within moments
        at = event.locator("time").get_attribute("datetime")
        assert event.get_attribute("title").endswith(format_time_full(at, "Asia/Tokyo"))
        pane.click("#settings-toggle")
        assert pane.input_value("#set-tz") == "Asia/Tokyo"
        assert pane.inner_text("#set-tz option:checked") == "Asia/Tokyo (Outlook)"

        with pane.expect_response(lambda r: r.url.endswith("/api/v1/settings") and r.request.method == "PATCH"):
            pane.select_option("#set-tz", "UTC")  # picked here: no longer Outlook's
        pane.reload()
        pane.wait_for_selector(".engage-panel", timeout=90000)  # Pyodide boots again
        event = article(pane, message["thread_id"]).locator("li.engage-event")
        event.wait_for(state="attached", timeout=30000)
        assert event.get_attribute("title").endswith(format_time_full(at, "UTC"))
    finally:
        context.close()


# What a French and a Spanish user of Outlook read: the compose notices, the pane's
# controls, an error in its status line, the panel (client_py's), and the sign-in form
# after signing out.
WORDS = {
    "fr-FR": {
        "auto": "Engage suivra les ouvertures de cet e-mail quand vous l'enverrez (1 destinataire externe).",
        "plain": "Engage : non suivi : texte brut.",
        "load_failed": "Impossible de charger vos e-mails suivis : le serveur Engage a répondu 503.",
        "search": "Rechercher un objet ou un destinataire",
        "all": "Tous les e-mails",
        "live": "En direct",
        "signed_in": "Connecté en tant que",
        "signin": "Se connecter à Engage",
        "missing": "Saisissez votre e-mail et votre mot de passe.",
        "unreachable": "Le serveur Engage est injoignable.",
    },
    "es-ES": {
        "auto": "Engage hará el seguimiento de las aperturas de este correo cuando lo envíe (1 destinatario externo).",
        "plain": "Engage: sin seguimiento: texto sin formato.",
        "load_failed": "No se pudieron cargar sus correos con seguimiento: el servidor de Engage respondió 503.",
        "search": "Buscar asunto o destinatario",
        "all": "Todos los correos",
        "live": "En directo",
        "signed_in": "Sesión iniciada como",
        "signin": "Iniciar sesión en Engage",
        "missing": "Escriba su correo electrónico y su contraseña.",
        "unreachable": "No se puede conectar con el servidor de Engage.",
    },
}


def _threads_list(url: str) -> bool:
    return "/api/v1/threads" in url and "/api/v1/threads/" not in url


@pytest.mark.parametrize("language", sorted(WORDS))
def test_notices_and_task_pane_in(language, browser, live, launch_events):
    words = WORDS[language]
    email = f"lou-{uuid.uuid4().hex[:6]}@acme.example"
    token = new_user(live, email)
    context = outlook_context(browser, live, launch_events, token=token, outlook={"displayLanguage": language})
    try:
        runtime = open_runtime(context, live)
        runtime.evaluate("(spec) => __officeDouble.setItem(spec)", {
            "subject": "Offre", "body": BODY, "conversationId": f"conv-{uuid.uuid4()}", "to": [EXTERNAL]})
        runtime.evaluate("() => __officeDouble.launch('OnNewMessageCompose')")
        [notice] = runtime.evaluate("() => __officeDouble.item().notifications")
        assert notice["message"] == words["auto"]
        runtime.evaluate("(spec) => __officeDouble.setItem(spec)", {
            "subject": "Texte", "format": "text", "body": "Bonjour", "to": [EXTERNAL]})
        runtime.evaluate("() => __officeDouble.invoke('trackEmailOpens')")
        [notice] = runtime.evaluate("() => __officeDouble.item().notifications")
        assert notice["type"] == "errorMessage" and notice["message"].startswith(words["plain"])
        runtime.close()

        # The server fails the list: the status line says so in Office's language.
        failing = lambda route: route.fulfill(status=503, content_type="application/json", body=json.dumps(
            {"error": {"code": "unavailable", "message": "Service Unavailable"}}))
        context.route(_threads_list, failing)
        pane = context.new_page()
        pane.goto(f"{live.url}/addin/taskpane/taskpane.html")
        pane.wait_for_selector('#status[data-kind="error"]:not([hidden])', timeout=60000)
        assert pane.inner_text("#status") == words["load_failed"]
        context.unroute(_threads_list, failing)
        pane.fill("#q", "x")  # searching asks again
        pane.fill("#q", "")
        pane.wait_for_selector('#panel .engage-panel[lang="%s"]' % language[:2], timeout=30000)
        pane.wait_for_selector("#status", state="hidden", timeout=10000)
        assert pane.evaluate("() => document.documentElement.lang") == language[:2]
        assert pane.get_attribute("#q", "placeholder") == words["search"]
        assert pane.inner_text("#category option[value=all]") == words["all"]
        pane.wait_for_selector('#live[data-live="on"]', timeout=30000)
        assert pane.inner_text("#live") == words["live"]
        pane.click("#settings-toggle")
        assert pane.inner_text("#who") == f"{words['signed_in']} {email}"

        pane.click("#signout")
        pane.wait_for_selector("#signin:not([hidden])")
        assert pane.inner_text("#signin h1") == words["signin"]
        pane.click("#signin-submit")
        assert pane.inner_text("#signin-error") == words["missing"]
        # Signing in while the server cannot be reached: said in Office's language too.
        context.route("**/api/v1/auth/signin", lambda route: route.abort("connectionrefused"))
        pane.fill("#signin-email", email)
        pane.fill("#signin-password", PASSWORD)
        pane.click("#signin-submit")
        pane.wait_for_function("(text) => document.getElementById('signin-error').textContent === text",
                               arg=words["unreachable"], timeout=10000)
    finally:
        context.close()
