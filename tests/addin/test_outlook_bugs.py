"""The add-in against Outlook as its users meet it: the Office.js double reproduces the
body API's known bugs (office-js #6808, #6944, #4392, #5430, #4868/#5845, #6263; see
office_double.js), and in each case what the recipient receives keeps all of the
sender's content, with the tracking image once, and the email is registered exactly
when it carries its image."""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import pytest

from client_py.snippet import find_snippet

from .conftest import open_runtime, outlook_context

pytestmark = pytest.mark.browser

EXTERNAL = {"displayName": "Bob Client", "emailAddress": "bob@client.example"}


def owa_img(cid: str) -> str:
    """An inline image as Outlook on the web's getAsync gives it (the content id kept in
    originalsrc, the picture shown from its attachment service)."""
    return f'<img src="https://attachments.office.net/owa/x/{cid}" originalsrc="cid:{cid}" width="40">'


LINK = '<a href="https://docs.example.org/agenda">the agenda</a>'
# A reply: the sender's text and signature logo, then the quoted message with three
# inline images (4 inline attachments in all).
REPLY = ('<html><body><div>Thanks Bob, here is ' + LINK + '.</div><div id="Signature">-- Ann '
         + owa_img("logo.png") + '</div><div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> Bob'
         '</div><div>Our plan: ' + owa_img("plan1.png") + owa_img("plan2.png") + owa_img("plan3.png")
         + '</div></body></html>')
# A reply quoting twelve inline images, and a signature at the very end.
MANY = ('<html><body><div>Photos as promised, and ' + LINK + '.</div><div id="appendonsend"></div><hr>'
        '<div id="divRplyFwdMsg"><b>From:</b> Bob</div>'
        + "".join(f"<div>Photo {n} {owa_img(f'site{n}.jpg')}</div>" for n in range(1, 13))
        + '<div id="Signature">-- Ann, Acme Site Services</div></body></html>')
PLAIN_REPLY = ('<html><body><div>Thanks Bob, here is ' + LINK + '.</div><div>-- Ann</div><div id="appendonsend">'
               '</div><hr><div id="divRplyFwdMsg"><b>From:</b> Bob</div><div>Can you send the agenda?</div>'
               '</body></html>')
NEW = '<html><body><div>Hi Bob,</div><div>Here is ' + LINK + '.</div><div>-- Ann</div></body></html>'


@pytest.fixture(autouse=True)
def fresh(runtime):
    runtime.evaluate("() => { __officeDouble.setPlatform('OfficeOnline'); localStorage.removeItem('engage.notices'); }")


def item(body: str, subject: str, **extra) -> dict:
    return {"subject": subject, "body": body, "conversationId": f"conv-{uuid.uuid4()}", "to": [EXTERNAL], **extra}


def compose_and_send(page, spec: dict, before_send: str = "") -> tuple[dict, dict]:
    page.evaluate("(spec) => __officeDouble.setItem(spec)", spec)
    assert page.evaluate("() => __officeDouble.launch('OnNewMessageCompose')")["calls"] == 1
    if before_send:
        page.evaluate(f"() => {{ {before_send} }}")
    done = page.evaluate("() => __officeDouble.launch('OnMessageSend')")
    return done, page.evaluate("() => __officeDouble.item()")


def with_pixel_last(body: str, item_after: dict) -> str:
    """``body`` as Outlook delivers it with Engage's queued image on the last line."""
    [snippet] = item_after["queuedOnSend"]["append"]
    return body.replace("</body>", snippet + "</body>")


def registered(live, subject: str) -> list[dict]:
    status, page, _ = live.request("GET", f"/api/v1/threads?q={quote(subject)}", token=live.token)
    assert status == 200
    return [m for t in page["threads"] for m in t["messages"]]


def notices(page) -> list[str]:
    return [n["text"] for n in json.loads(page.evaluate("() => localStorage.getItem('engage.notices') || '[]'"))]


def body_writes(page) -> int:
    return sum(1 for call in page.evaluate("() => __officeDouble.calls()") if call[0] == "body.setAsync")


def test_6808_a_reply_quoting_inline_images_is_delivered_with_all_of_them(runtime, live):
    """It went out with the three quoted images blank and 1 of 4 attachments."""
    subject = f"Re: plan {uuid.uuid4().hex[:6]}"
    writes = body_writes(runtime)
    done, after = compose_and_send(runtime, item(REPLY, subject))
    assert done["options"] == {"allowEvent": True}
    assert after["delivered"]["body"] == with_pixel_last(REPLY, after)  # byte for byte, plus the image
    assert [a["contentId"] for a in after["delivered"]["attachments"]] == ["logo.png", "plan1.png", "plan2.png",
                                                                          "plan3.png"]
    assert body_writes(runtime) == writes  # the body was never written back
    [message] = registered(live, subject)
    assert message["mode"] == "auto"
    assert notices(runtime) == ["Engage tracks opens of this email but not its links: it has inline images, "
                                "which Outlook can break when a body is rewritten."]


def test_6944_a_reply_quoting_twelve_inline_images_keeps_its_end_and_signature(runtime, live):
    """It lost its last three photos and the signature, and nothing noticed."""
    subject = f"Re: photos {uuid.uuid4().hex[:6]}"
    done, after = compose_and_send(runtime, item(MANY, subject))
    assert done["options"] == {"allowEvent": True}
    delivered = after["delivered"]["body"]
    assert delivered == with_pixel_last(MANY, after)
    assert "Photo 12" in delivered and "-- Ann, Acme Site Services" in delivered
    assert len(after["delivered"]["attachments"]) == 12
    assert len(registered(live, subject)) == 1


def test_a_loss_on_rewriting_the_links_is_noticed_and_undone(runtime, live):
    """#6944's threshold is approximate: here Outlook cuts a body Engage found safe to
    rewrite. Reading it back shows the loss; the original goes back and the email is sent
    with its image and its links untracked, with a notice saying why."""
    subject = f"Agenda {uuid.uuid4().hex[:6]}"
    done, after = compose_and_send(runtime, item(NEW, subject), "__officeDouble.truncateNextSet();")
    assert done["options"] == {"allowEvent": True}
    delivered = after["delivered"]["body"]
    # The original put back, as Outlook stores what it is given (it adds an empty head).
    assert delivered == with_pixel_last(NEW.replace("<html><body>", "<html><head></head><body>"), after)
    assert "https://docs.example.org/agenda" in delivered and f"{live.url}/c/" not in delivered
    assert len(registered(live, subject)) == 1  # it carries its image: registered
    assert notices(runtime) == ["Engage tracks opens of this email but not its links: Outlook changed your text "
                                "when they were rewritten, so Engage put it back."]


def test_4392_a_reply_whose_quote_reads_back_twice_is_not_mistaken_for_a_loss(runtime, live):
    subject = f"Re: agenda {uuid.uuid4().hex[:6]}"
    done, after = compose_and_send(runtime, item(PLAIN_REPLY, subject))
    assert done["options"] == {"allowEvent": True}
    delivered = after["delivered"]["body"]
    assert delivered.count("divRplyFwdMsg") == 1 and delivered.count("Can you send the agenda?") == 1
    assert f'href="{live.url}/c/' in delivered and "https://docs.example.org/agenda" not in delivered
    assert delivered.count('class="engage-pixel"') == 1
    assert notices(runtime) == []


def test_5430_on_a_mac_inline_images_are_never_rewritten(runtime, live):
    subject = f"Mac {uuid.uuid4().hex[:6]}"
    body = NEW.replace("-- Ann", "-- Ann " + owa_img("logo.png"))
    writes = body_writes(runtime)
    done, after = compose_and_send(runtime, item(body, subject), "__officeDouble.setPlatform('Mac');")
    assert done["options"] == {"allowEvent": True}
    assert after["delivered"]["body"] == with_pixel_last(body, after)
    assert [a["contentId"] for a in after["delivered"]["attachments"]] == ["logo.png"]
    assert body_writes(runtime) == writes
    assert notices(runtime) == ["Engage tracks opens of this email but not its links: Outlook for Mac breaks "
                                "inline images when a body is rewritten."]


def test_a_body_over_a_million_characters_goes_with_its_pixel_and_is_registered(runtime, live):
    """It used to be registered first, then setAsync failed: sent without a pixel and
    "Not opened yet" in the panel for ever."""
    subject = f"Big {uuid.uuid4().hex[:6]}"
    big = NEW.replace("Hi Bob,", "Hi Bob, " + "figures " * 125_100)
    assert len(big) > 1_000_000
    done, after = compose_and_send(runtime, item(big, subject))
    assert done["options"] == {"allowEvent": True}
    delivered = after["delivered"]["body"]
    assert delivered == with_pixel_last(big, after)
    [message] = registered(live, subject)
    status, full, _ = live.request("GET", f"/api/v1/messages/{message['id']}", token=live.token)
    assert status == 200 and full["pixel_url"] == find_snippet(delivered)


def test_without_append_on_send_a_large_body_goes_untracked_and_unregistered(browser, live, launch_events):
    """Outlook before Mailbox 1.9 has no appendOnSendAsync: the image would need a
    whole-body write, which is unsafe here, so nothing is registered (no phantom)."""
    subject = f"Old Outlook {uuid.uuid4().hex[:6]}"
    big = NEW.replace("Hi Bob,", "Hi Bob, " + "figures " * 70_000)
    context = outlook_context(browser, live, launch_events, token=live.token, outlook={"mailboxVersion": "1.8"})
    try:
        page = open_runtime(context, live)
        done, after = compose_and_send(page, item(big, subject))
        assert done["options"] == {"allowEvent": True}
        assert after["delivered"]["body"] == big
        assert registered(live, subject) == []
        assert notices(page) == ["Sent without tracking: it is too large for Outlook to rewrite safely."]
        # A small one is tracked with a checked whole-body write.
        small = f"Old Outlook small {uuid.uuid4().hex[:6]}"
        done, after = compose_and_send(page, item(NEW, small))
        assert after["delivered"]["body"].count('class="engage-pixel"') == 1
        assert f'href="{live.url}/c/' in after["delivered"]["body"]
        assert len(registered(live, small)) == 1
    finally:
        context.close()


def test_4868_a_callback_that_never_answers_cannot_wedge_the_next_email(runtime, live):
    first = f"Hung {uuid.uuid4().hex[:6]}"
    done, after = compose_and_send(runtime, item(NEW, first), "__officeDouble.hang('subject.getAsync', 1);")
    assert done["options"] == {"allowEvent": True} and done["ms"] < 2500
    # The next email, right after: tracked and registered as usual.
    second = f"Next {uuid.uuid4().hex[:6]}"
    done, after = compose_and_send(runtime, item(NEW, second))
    assert done["options"] == {"allowEvent": True} and done["ms"] < 2500
    assert after["delivered"]["body"].count('class="engage-pixel"') == 1
    assert len(registered(live, second)) == 1


def test_5845_a_button_whose_outlook_call_never_answers_still_completes(runtime, live):
    runtime.evaluate("(spec) => __officeDouble.setItem(spec)", item(NEW, f"Button hung {uuid.uuid4().hex[:6]}"))
    runtime.evaluate("() => __officeDouble.hang('body.getTypeAsync', 1)")
    done = runtime.evaluate("() => __officeDouble.invoke('trackEmailOpens')")
    assert done["calls"] == 1
    [notice] = runtime.evaluate("() => __officeDouble.item().notifications")
    assert notice["type"] == "errorMessage"
    again = runtime.evaluate("() => __officeDouble.invoke('trackEmailOpens')")
    assert again["calls"] == 1 and again["ms"] < 3000
    assert len(runtime.evaluate("() => __officeDouble.item().queuedOnSend.append")) == 1


def saved(page) -> int:
    return sum(1 for call in page.evaluate("() => __officeDouble.calls()") if call[0] == "saveAsync")


PDF = {"name": "plan.pdf", "contentId": None, "isInline": False}


def test_3598_on_a_mac_the_image_is_written_at_send_and_the_attachments_go_too(runtime, live):
    """New Outlook for Mac sends an email whose queued on-send content has an image
    without its file attachments: on a Mac nothing is queued, the image is written at
    send (checked, like the links) and the sender's PDF reaches the recipient."""
    subject = f"Mac files {uuid.uuid4().hex[:6]}"
    runtime.evaluate("() => __officeDouble.setPlatform('Mac')")
    done, after = compose_and_send(runtime, item(NEW, subject, attachments=[PDF]))
    assert done["options"] == {"allowEvent": True}
    assert after["queuedOnSend"] == {"append": [], "prepend": []}
    assert [a["name"] for a in after["delivered"]["attachments"]] == ["plan.pdf"]
    delivered = after["delivered"]["body"]
    assert delivered.count('class="engage-pixel"') == 1 and f'href="{live.url}/c/' in delivered
    [message] = registered(live, subject)
    status, full, _ = live.request("GET", f"/api/v1/messages/{message['id']}", token=live.token)
    assert status == 200 and full["pixel_url"] == find_snippet(delivered)


def test_2383_on_a_mac_the_button_does_not_save_the_draft(runtime, live):
    """saveAsync on a Mac breaks the draft's inline images for the recipient; the button
    saved a new draft to learn its id. There the image cannot be written at send either
    (#5430), so the email goes as written, untracked and unregistered, and says so."""
    subject = f"Mac logo {uuid.uuid4().hex[:6]}"
    body = NEW.replace("-- Ann", "-- Ann " + owa_img("logo.png"))
    saves = saved(runtime)
    runtime.evaluate("() => __officeDouble.setPlatform('Mac')")
    runtime.evaluate("(spec) => __officeDouble.setItem(spec)", item(body, subject))
    assert runtime.evaluate("() => __officeDouble.invoke('trackEmailOpens')")["calls"] == 1
    done = runtime.evaluate("() => __officeDouble.launch('OnMessageSend')")
    after = runtime.evaluate("() => __officeDouble.item()")
    assert done["options"] == {"allowEvent": True}
    assert saved(runtime) == saves
    assert after["delivered"]["body"] == body
    assert [a["contentId"] for a in after["delivered"]["attachments"]] == ["logo.png"]
    assert registered(live, subject) == []
    assert notices(runtime) == ["Sent without tracking: it has inline images, which Outlook can break when a "
                                "body is rewritten."]


def test_3701_a_colleague_given_by_exchange_dn_does_not_cost_the_registration(runtime, live):
    """Outlook on the web gives a colleague saved in the user's contacts as an Exchange DN
    (recipientType externalUser); sent on with the recipients, the server refused the
    registration and the email went out with its image, counted nowhere."""
    subject = f"DN {uuid.uuid4().hex[:6]}"
    colleague = {"displayName": "Carl Colleague", "recipientType": "externalUser",
                 "emailAddress": "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"
                                 "/cn=Recipients/cn=1c2ee2e6aada4b35ac22a42017cc6977-carl"}
    done, after = compose_and_send(runtime, item(NEW, subject, cc=[colleague]))
    assert done["options"] == {"allowEvent": True}
    assert after["delivered"]["body"].count('class="engage-pixel"') == 1
    [message] = registered(live, subject)
    status, full, _ = live.request("GET", f"/api/v1/messages/{message['id']}", token=live.token)
    assert status == 200 and [r["address"] for r in full["recipients"]] == ["bob@client.example"]
