"""The pixel as `engage serve` answers it (granian's RSGI interface, server/rsgi.py):
straight from the RSGI scope, with no WSGI environ. The recipient gets the very image
and headers the WSGI path gives, and the spool gets the same record from the same
request: agent, kept headers (capped), the address behind trusted proxies, method."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from server.hitpath import answer
from server.rsgi import EngageRsgi

TOKEN = "AbCdEfGhIjKlMnOpQrStUv"
AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
HEADERS = [("User-Agent", AGENT), ("X-Forwarded-For", "10.9.9.9"), ("X-Forwarded-For", "81.2.69.142"),
           ("Sec-Purpose", "prefetch;" + "x" * 500), ("Accept", "image/*")]


class Headers:
    """granian's RSGIHeaders: lower-case names, get (first value) and get_all."""

    def __init__(self, pairs):
        self.pairs = [(k.lower(), v) for k, v in pairs]

    def get(self, name, default=None):
        return next((v for k, v in self.pairs if k == name), default)

    def get_all(self, name):
        return [v for k, v in self.pairs if k == name]

    def keys(self):
        return [k for k, _ in self.pairs]

    def items(self):
        return list(self.pairs)


class Scope:
    proto, scheme, http_version, query_string, server = "http", "http", "1.1", "", "127.0.0.1:8000"

    def __init__(self, method, path, headers, client="127.0.0.1:51234"):
        self.method, self.path, self.headers, self.client = method, path, Headers(headers), client


class Proto:
    def __init__(self):
        self.answer = None

    def response_bytes(self, status, headers, body):
        self.answer = (status, list(headers), body)

    def response_empty(self, status, headers):
        self.answer = (status, list(headers), b"")


@pytest.fixture
def kept(app, monkeypatch):
    app.extensions["engage"].trusted_proxies = [ipaddress.ip_network("127.0.0.0/8")]
    records = []
    monkeypatch.setattr(answer, "keep_hit", lambda flask_app, record: records.append(record))
    return records


def _comparable(record):
    return {k: v for k, v in record.items() if k not in ("hit_id", "at")}


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_the_rsgi_pixel_answers_and_spools_as_the_wsgi_one_does(app, kept, method):
    wsgi = app.test_client().open(f"/p/{TOKEN}.gif", method=method, headers=HEADERS,
                                  environ_base={"REMOTE_ADDR": "127.0.0.1"})
    proto = Proto()
    app.wsgi_app.answer_rsgi(Scope(method, f"/p/{TOKEN}.gif", HEADERS), proto)

    status, headers, body = proto.answer
    assert status == wsgi.status_code == 200
    assert body == wsgi.data == (b"" if method == "HEAD" else answer.PIXEL_GIF)
    assert sorted(headers) == sorted((k, v) for k, v in wsgi.headers.items())
    assert len(kept) == 2
    from_wsgi, from_rsgi = (_comparable(r) for r in kept)
    assert from_rsgi == from_wsgi
    assert from_rsgi["ip"] == "81.2.69.142" and from_rsgi["ua"] == AGENT and from_rsgi["method"] == method
    assert from_rsgi["headers"] == {"sec-purpose": ("prefetch;" + "x" * 500)[:answer.HEADER_VALUE_CAP]}


def test_a_malformed_token_gets_the_image_and_no_record(app, kept):
    proto = Proto()
    app.wsgi_app.answer_rsgi(Scope("GET", "/p/short.gif", HEADERS), proto)
    assert proto.answer[0] == 200 and proto.answer[2] == answer.PIXEL_GIF
    assert kept == []


def test_engage_serve_answers_the_pixel_without_building_a_wsgi_environ(app):
    rsgi = EngageRsgi(app)
    rsgi.wsgi.pool.shutdown()
    rsgi.wsgi = None  # a WSGI call would fail

    proto = Proto()
    asyncio.run(rsgi.__rsgi__(Scope("GET", f"/p/{TOKEN}.gif", HEADERS), proto))
    assert proto.answer[0] == 200 and proto.answer[2] == answer.PIXEL_GIF
