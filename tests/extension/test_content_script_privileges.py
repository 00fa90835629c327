"""What Gmail's tab can reach: the content script shares its page with Gmail's own
scripts (and whatever they load), so it gets neither the API token nor the account's
controls. Evaluated in the content script's own isolated world, through CDP."""

from __future__ import annotations

import pytest

from . import harness

pytestmark = pytest.mark.browser


def _content_script_world(page, extension_id: str):
    """(CDP session, execution context id) of the extension's content script on ``page``."""
    cdp = page.context.new_cdp_session(page)
    contexts = []
    cdp.on("Runtime.executionContextCreated", lambda event: contexts.append(event["context"]))
    cdp.send("Runtime.enable")  # reports the contexts that exist already
    harness.wait_until(page, lambda: any(c.get("origin") == f"chrome-extension://{extension_id}" for c in contexts),
                       10, 50, "the content script's world")
    ours = next(c for c in contexts if c.get("origin") == f"chrome-extension://{extension_id}")
    return cdp, ours["id"]


def _evaluate(cdp, context_id: int, expression: str):
    result = cdp.send("Runtime.evaluate", {"expression": expression, "contextId": context_id,
                                           "awaitPromise": True, "returnByValue": True})
    assert "exceptionDetails" not in result, result
    return result["result"].get("value")


def test_the_content_script_cannot_read_the_token(ext):
    stored = harness.sw_eval(ext.context, "() => chrome.storage.local.get('session')")["session"]
    assert len(stored["token"]) > 20  # the worker has it
    cdp, world = _content_script_world(ext.gmail, harness.extension_id(ext.context))
    seen = _evaluate(cdp, world, """
        chrome.storage.local.get(null).then((items) => JSON.stringify(items), (error) => 'refused: ' + error.message)
    """)
    assert stored["token"] not in seen
    assert seen.startswith("refused")
    session = _evaluate(cdp, world, """
        chrome.storage.session.get(null).then((items) => JSON.stringify(items), (error) => 'refused: ' + error.message)
    """)
    assert session.startswith("refused")


def test_the_content_script_gets_only_what_the_send_path_needs(ext):
    cdp, world = _content_script_world(ext.gmail, harness.extension_id(ext.context))
    ask = """
        EngageMessages.request(EngageMessages.TARGET.WORKER, EngageMessages.MSG.{id}, {{}})
          .then((value) => 'answered', (error) => error.code)
    """
    assert _evaluate(cdp, world, ask.format(id="HELLO")) == "answered"
    for privileged in ("GET_STATE", "SIGN_OUT", "SAVE_SETTINGS", "PANEL_RENDER", "STREAM_NEED_TICKET", "MARK_FOCUS"):
        assert _evaluate(cdp, world, ask.format(id=privileged)) == "forbidden_sender", privileged
    # Still signed in: the refused sign-out changed nothing.
    assert harness.sw_eval(ext.context, "() => chrome.storage.local.get('session')")["session"]["token"]
