"""JSON for the database's JSON columns: orjson (a tenth of the standard library's
time to write each event's facts), and the standard library for whatever orjson
declines, so every value is stored and read exactly as before (non-string keys,
NaN written by an older version)."""

from __future__ import annotations

import json

import orjson


def json_dumps(value) -> str:
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value)


def json_loads(text):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
