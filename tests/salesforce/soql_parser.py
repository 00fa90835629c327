"""A small SOQL reader for the Salesforce stand-in: enough of the grammar for the
queries Engage sends (SELECT fields FROM object WHERE a AND b ... ORDER BY ... LIMIT n,
with =, !=, <, <=, >, >= and IN (...)), strict about what it does not know, and
unescaping string literals by Salesforce's rules, so escaping bugs show up as
failed matches or MALFORMED_QUERY, as they would against Salesforce."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|=|<|>)
  | (?P<punct>[(),])
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
""", re.VERBOSE | re.DOTALL)


class SoqlError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class Condition:
    field: str
    op: str
    values: list


@dataclass
class Query:
    fields: list[str]
    sobject: str
    where: list[Condition] = field(default_factory=list)
    order_by: str | None = None
    descending: bool = False
    limit: int | None = None


def unescape(literal: str) -> str:
    out, i, body = [], 0, literal[1:-1]
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1]
            if nxt not in ESCAPES:
                raise SoqlError("MALFORMED_QUERY", f"Invalid string literal '{literal}'. Illegal escape sequence")
            out.append(ESCAPES[nxt])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def parse_datetime(text: str) -> datetime:
    t = text.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", t):
        t = t[:-2] + ":" + t[-2:]
    return datetime.fromisoformat(t)


def tokenize(soql: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(soql):
        m = TOKEN.match(soql, pos)
        if not m:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{soql[pos:pos + 10]}'")
        pos = m.end()
        if m.lastgroup != "ws":
            tokens.append((m.lastgroup, m.group()))
    return tokens


class _Reader:
    def __init__(self, tokens):
        self.tokens, self.i = tokens, 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self):
        tok = self.peek()
        if tok[0] is None:
            raise SoqlError("MALFORMED_QUERY", "unexpected end of query")
        self.i += 1
        return tok

    def keyword(self, word: str) -> bool:
        kind, text = self.peek()
        if kind == "name" and text.upper() == word:
            self.i += 1
            return True
        return False

    def expect(self, word: str):
        if not self.keyword(word):
            raise SoqlError("MALFORMED_QUERY", f"expecting '{word}', found '{self.peek()[1]}'")

    def value(self):
        kind, text = self.take()
        if kind == "string":
            return unescape(text)
        if kind == "datetime":
            return parse_datetime(text)
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "name" and text.lower() in ("null", "true", "false"):
            return {"null": None, "true": True, "false": False}[text.lower()]
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text}'")


def parse(soql: str) -> Query:
    r = _Reader(tokenize(soql))
    r.expect("SELECT")
    fields = []
    while True:
        kind, text = r.take()
        if kind != "name":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text}'")
        fields.append(text)
        if r.peek() != ("punct", ","):
            break
        r.take()
    r.expect("FROM")
    kind, sobject = r.take()
    if kind != "name":
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{sobject}'")
    query = Query(fields, sobject)
    if r.keyword("WHERE"):
        while True:
            kind, name = r.take()
            if kind != "name":
                raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{name}'")
            if r.keyword("IN"):
                if r.take() != ("punct", "("):
                    raise SoqlError("MALFORMED_QUERY", "expecting '(' after IN")
                values = [r.value()]
                while r.peek() == ("punct", ","):
                    r.take()
                    values.append(r.value())
                if r.take() != ("punct", ")"):
                    raise SoqlError("MALFORMED_QUERY", "expecting ')'")
                query.where.append(Condition(name, "IN", values))
            else:
                kind, op = r.take()
                if kind != "op":
                    raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{op}'")
                query.where.append(Condition(name, op, [r.value()]))
            if not r.keyword("AND"):
                break
    if r.keyword("ORDER"):
        r.expect("BY")
        query.order_by = r.take()[1]
        query.descending = r.keyword("DESC")
        if not query.descending:
            r.keyword("ASC")
    if r.keyword("LIMIT"):
        kind, n = r.take()
        if kind != "number":
            raise SoqlError("MALFORMED_QUERY", "LIMIT needs a number")
        query.limit = int(n)
    if r.peek()[0] is not None:
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{r.peek()[1]}'")
    return query
