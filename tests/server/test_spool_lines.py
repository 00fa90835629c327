"""Spool lines (server/hitpath/spool.py): what the pixel writes is what the writer
reads, whatever a client put in its user agent and headers, and a line is the same
bytes the standard library's JSON would write (older spool files and newer ones read
alike; the writers' pre-filter reads the line's start as written)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from hypothesis import given, settings, strategies as st

from server.hitpath.answer import new_record
from server.hitpath.spool import _HEAD, Drainer, Spool, _record, encode_line

_STDLIB = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)  # no lone surrogate


def _record_of(ua: str, headers: dict) -> dict:
    return new_record("open", "AbCdEf0123456789xyz", "GET", "10.0.0.1", "81.2.69.142", ua, headers, [])


@settings(max_examples=300, deadline=None)
@given(ua=ANY_TEXT, headers=st.dictionaries(st.sampled_from(["x-purpose", "x-moz", "purpose"]), ANY_TEXT, max_size=3))
def test_a_line_reads_back_as_written_and_is_the_standard_librarys_bytes(ua, headers):
    record = _record_of(ua, headers)
    line = encode_line(record)
    assert line == (_STDLIB(record) + "\n").encode("utf-8")
    assert line.count(b"\n") == 1 and line.endswith(b"\n")  # a newline in an agent is escaped
    back = _record(line[:-1])
    assert back["ua"] == ua[:1000] and back["headers"] == record["headers"] and back["token"] == record["token"]
    assert back["at"] == datetime.fromisoformat(record["at"]).astimezone(timezone.utc)
    assert _HEAD.match(line)[2].decode() == record["token"]


def test_an_agent_with_an_undecodable_byte_is_kept_through_the_spool(tmp_path):
    # A header byte that is not UTF-8, decoded with surrogateescape: a lone surrogate,
    # which orjson refuses; the line takes the standard library's way, both ways.
    ua = b"Mozilla/5.0 (caf\xe9)".decode("utf-8", "surrogateescape")
    spool, got = Spool(tmp_path), []
    drainer = Drainer(tmp_path, lambda records: got.extend(records) or len(records))
    try:
        assert spool.append(_record_of(ua, {}))
        assert spool.append(_record_of("Mozilla/5.0 (café ✓)", {"x-purpose": "preview"}))
        assert drainer.drain_all() == 2
    finally:
        spool.close()
        drainer.close()
    assert [r["ua"] for r in got] == [ua, "Mozilla/5.0 (café ✓)"]
    assert got[1]["headers"] == {"x-purpose": "preview"}


def test_hit_ids_are_unique_across_forked_workers():
    import os

    from server.hitpath.spool import new_hit_id

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a granian worker forked from the same parent
        try:
            os.write(write, ",".join(new_hit_id() for _ in range(1000)).encode())
        finally:
            os._exit(0)
    os.close(write)
    ours = [new_hit_id() for _ in range(1000)]
    with os.fdopen(read, "rb") as f:
        theirs = f.read().decode().split(",")
    os.waitpid(pid, 0)
    assert len(theirs) == 1000 and len(set(ours) | set(theirs)) == 2000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ours + theirs)


def _second_writer(tmp_path, got):
    """Writer 1 of 2, which knows the token OTHER... to be writer 0's email."""
    return Drainer(tmp_path, lambda records, shard: got.extend(records) or len(records), shard=(1, 2),
                   claims=lambda keys, shard: [token != OTHER for _, token in keys])


OTHER, MINE = "O" * 20, "M" * 20


def test_a_writer_skips_only_whole_lines_of_the_other_writers_share(tmp_path):
    theirs = encode_line({**_record_of("Mail", {}), "token": OTHER})
    mine = encode_line({**_record_of("Mail", {}), "token": MINE})
    # A torn record of theirs (an older server's fragment) with a whole one of mine
    # glued behind it: the whole one is kept, as _parse keeps it.
    (tmp_path / "hits-1-1-abcdef.jsonl").write_bytes(theirs + theirs[:95] + mine)
    got = []
    drainer = _second_writer(tmp_path, got)
    try:
        assert drainer.drain_all() == 2
    finally:
        drainer.close()
    assert [r["token"] for r in got] == [MINE]


def test_a_line_with_an_odd_byte_in_its_token_does_not_stop_the_writer(tmp_path):
    odd = encode_line({**_record_of("Mail", {}), "token": "x" * 20}).replace(b"x" * 20, b"x\xff" * 10)
    mine = encode_line({**_record_of("Mail", {}), "token": MINE})
    (tmp_path / "hits-1-1-abcdef.jsonl").write_bytes(odd + mine)
    got = []
    drainer = _second_writer(tmp_path, got)
    try:
        drainer.drain_all()
        assert drainer.drain_all() == 0  # read to its end: not stuck on that line
    finally:
        drainer.close()
    # Parsed as before and handed on (ingest drops a token nobody has), and the next one too.
    assert [r["token"] for r in got] == ["x\udcff" * 10, MINE]
