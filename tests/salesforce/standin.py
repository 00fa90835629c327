"""A local stand-in for Salesforce, over real HTTPS, speaking its REST shapes:

- POST /services/oauth2/token: the username-password grant and the JWT bearer grant
  (RS256 assertion checked against the connected app's certificate key: iss, sub,
  aud login/test.salesforce.com, exp), with Salesforce's OAuth error bodies;
- GET and PATCH /services/data/vXX.X/sobjects/<Object>/<Id> (PATCH answers 204);
- GET /services/data/vXX.X/query?q=<SOQL> with {totalSize, done, records[...]}.

Errors are Salesforce's own bodies: ``[{"message", "errorCode", "fields"}]`` with
INVALID_FIELD, ENTITY_IS_DELETED, NOT_FOUND, INSUFFICIENT_ACCESS_OR_READONLY,
INVALID_SESSION_ID (401), MALFORMED_QUERY; an outage answers 503 with an HTML
page, as Salesforce's maintenance pages do. Time comes from an injectable clock so
a minute-long outage can pass in a moment. Every request is logged, and every
PATCH that was applied is kept, so tests can count deliveries."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask import Flask, Response, request
from werkzeug.serving import make_server

from .soql_parser import Condition, SoqlError, parse, parse_datetime

AUDIENCES = {"https://login.salesforce.com", "https://test.salesforce.com"}
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCHEMA = {
    "Task": {"Id", "Subject", "Who.Email", "CreatedDate", "TaskSubtype", "First_Open__c", "Last_Open__c"},
    "EmailMessage": {"Id", "Subject", "MessageIdentifier", "CreatedDate", "First_Open__c", "Last_Open__c"},
}
DATETIME_FIELDS = {"CreatedDate", "First_Open__c", "Last_Open__c"}
OUTAGE_PAGE = ("<html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1>"
               "<p>Salesforce is down for maintenance.</p></body></html>")


# -- TLS: a throwaway CA and a certificate for 127.0.0.1 ---------------------------------
def make_tls(folder: Path) -> dict[str, str]:
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Engage test CA")])
    ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {"ca": folder / "ca.pem", "cert": folder / "server.pem", "key": folder / "server.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return {k: str(v) for k, v in paths.items()}


def rsa_keypair() -> tuple[str, str]:
    """(private PEM, public PEM): the connected app's signing key for the JWT flow."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def sf_time(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def errors(status: int, code: str, message: str, fields: list | None = None) -> Response:
    body = [{"message": message, "errorCode": code, "fields": fields or []}]
    return Response(json.dumps(body), status=status, mimetype="application/json")


@dataclass
class Call:
    method: str
    path: str
    status: int
    body: object = None


@dataclass
class StandIn:
    """Salesforce's state and behaviour; ``serve()`` puts it on HTTPS."""

    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)
    version: str = "59.0"
    schema: dict = field(default_factory=lambda: {k: set(v) for k, v in SCHEMA.items()})
    records: dict = field(default_factory=dict)  # id -> {"type": ..., field: value}
    deleted: set = field(default_factory=set)
    readonly: set = field(default_factory=set)
    users: dict = field(default_factory=dict)  # username -> password + security token
    apps: dict = field(default_factory=dict)  # client_id -> {"secret", "public_key"}
    tokens: set = field(default_factory=set)
    outage_until: dt.datetime | None = None
    stall: list = field(default_factory=list)  # seconds to wait before answering, one per request
    patch_errors: dict = field(default_factory=dict)  # record id -> [(status, code, message), ...]
    calls: list = field(default_factory=list)
    applied: list = field(default_factory=list)  # (object, id, {field: value}) of every PATCH applied
    url: str = ""

    def __post_init__(self):
        self.lock = threading.Lock()
        self._ids = 0

    # -- arranging state ---------------------------------------------------------------
    def add_record(self, sobject: str, **values) -> str:
        prefix = {"Task": "00T", "EmailMessage": "02s"}[sobject]
        with self.lock:
            self._ids += 1
            record_id = f"{prefix}5g00000{self._ids:05d}AAA"
            values.setdefault("CreatedDate", sf_time(self.clock()))
            self.records[record_id] = {"type": sobject, **values}
        return record_id

    def outage_for(self, seconds: float) -> None:
        self.outage_until = self.clock() + dt.timedelta(seconds=seconds)

    def expire_sessions(self) -> None:
        self.tokens.clear()

    def patches(self, record_id: str | None = None) -> list:
        return [a for a in self.applied if record_id is None or a[1] == record_id]

    def count(self, path_part: str, status: int | None = None, method: str | None = None) -> int:
        return sum(1 for c in self.calls if path_part in c.path and (status is None or c.status == status)
                   and (method is None or c.method == method))

    # -- the HTTP face -----------------------------------------------------------------------
    def wsgi(self) -> Flask:
        app = Flask("salesforce-standin")
        base = f"/services/data/v{self.version}"

        @app.before_request
        def gate():
            if self.stall:
                time.sleep(self.stall.pop(0))
            if self.outage_until is not None and self.clock() < self.outage_until:
                return Response(OUTAGE_PAGE, status=503, mimetype="text/html")
            if request.path.startswith("/services/data/"):
                auth = request.headers.get("Authorization", "")
                if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
                    return errors(401, "INVALID_SESSION_ID", "Session expired or invalid")
            return None

        @app.after_request
        def log(resp):
            body = request.get_json(silent=True) if request.is_json else (dict(request.form) or None)
            self.calls.append(Call(request.method, request.full_path, resp.status_code, body))
            return resp

        app.add_url_rule("/services/oauth2/token", "token", self._token, methods=["POST"])
        app.add_url_rule(f"{base}/sobjects/<sobject>/<record_id>", "record", self._record,
                         methods=["GET", "PATCH"])
        app.add_url_rule(f"{base}/query", "query", self._query, methods=["GET"])
        app.add_url_rule(f"{base}/query/", "query_slash", self._query, methods=["GET"])
        return app

    def serve(self, tls: dict) -> "Served":
        server = make_server("127.0.0.1", 0, self.wsgi(), threaded=True, ssl_context=(tls["cert"], tls["key"]))
        self.url = f"https://127.0.0.1:{server.server_port}"
        # Polling for shutdown every 20 ms instead of socketserver's 0.5 s: each test's
        # stand-in stops at teardown, and 0.5 s each was a minute and a half of CI.
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                                  name="salesforce-standin", daemon=True)
        thread.start()
        return Served(server, thread)

    # -- OAuth 2.0 ------------------------------------------------------------------------------
    def _oauth_error(self, error: str, description: str, status: int = 400) -> Response:
        return Response(json.dumps({"error": error, "error_description": description}), status=status,
                        mimetype="application/json")

    def _token(self):
        grant = request.form.get("grant_type")
        if grant == "password":
            app = self.apps.get(request.form.get("client_id", ""))
            if app is None:
                return self._oauth_error("invalid_client_id", "client identifier invalid")
            if request.form.get("client_secret") != app["secret"]:
                return self._oauth_error("invalid_client", "invalid client credentials")
            if self.users.get(request.form.get("username")) != request.form.get("password"):
                return self._oauth_error("invalid_grant", "authentication failure")
        elif grant == JWT_GRANT:
            assertion = request.form.get("assertion", "")
            try:
                iss = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
                app = self.apps.get(iss)
                if app is None or "public_key" not in app:
                    return self._oauth_error("invalid_client_id", "client identifier invalid")
                claims = jwt.decode(assertion, app["public_key"], algorithms=["RS256"], audience=list(AUDIENCES),
                                    options={"require": ["exp", "iss", "sub", "aud"]})
            except jwt.InvalidAudienceError:
                return self._oauth_error("invalid_grant", "audience is invalid")
            except jwt.ExpiredSignatureError:
                return self._oauth_error("invalid_grant", "expired authorization code")
            except jwt.PyJWTError:
                return self._oauth_error("invalid_grant", "invalid assertion")
            if claims["sub"] not in self.users:
                return self._oauth_error("invalid_grant", "user hasn't approved this consumer")
        else:
            return self._oauth_error("unsupported_grant_type", "grant type not supported")
        token = "00D5g000004XyZ!" + secrets.token_urlsafe(24)
        self.tokens.add(token)
        return {"access_token": token, "instance_url": self.url, "id": f"{self.url}/id/00D5g000004XyZ/0055g00000A",
                "token_type": "Bearer", "issued_at": str(int(time.time() * 1000)), "signature": "c3RhbmQtaW4="}

    # -- sObject rows ----------------------------------------------------------------------------------
    def _record(self, sobject: str, record_id: str):
        if sobject not in self.schema:
            return errors(404, "NOT_FOUND", "The requested resource does not exist")
        if record_id in self.deleted:
            return errors(404, "ENTITY_IS_DELETED", "entity is deleted")
        record = self.records.get(record_id)
        if record is None or record["type"] != sobject:
            return errors(404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "
                                            f"{record_id}")
        if request.method == "GET":
            wanted = [f for f in request.args.get("fields", "").split(",") if f] or sorted(self.schema[sobject])
            for name in wanted:
                if name not in self.schema[sobject]:
                    return errors(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}")
            out = {"attributes": {"type": sobject, "url": f"/services/data/v{self.version}/sobjects/{sobject}/"
                                                          f"{record_id}"}, "Id": record_id}
            out.update({name: record.get(name) for name in wanted if name != "Id" and "." not in name})
            return out
        queued = self.patch_errors.get(record_id)
        if queued:
            status, code, message = queued.pop(0)
            return errors(status, code, message)
        try:
            data = json.loads(request.get_data(as_text=True))
        except ValueError:
            return errors(400, "JSON_PARSER_ERROR", "Unexpected character: was expecting a JSON value")
        for name, value in data.items():
            if name not in self.schema[sobject] or "." in name:
                return errors(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}")
            if name in DATETIME_FIELDS and value is not None:
                try:
                    parse_datetime(value)
                except (TypeError, ValueError):
                    return errors(400, "JSON_PARSER_ERROR", f"Cannot deserialize instance of datetime from "
                                                            f"VALUE_STRING value {value}")
        if record_id in self.readonly:
            return errors(400, "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id")
        with self.lock:
            record.update(data)
            self.applied.append((sobject, record_id, dict(data)))
        return Response(status=204)

    # -- SOQL ---------------------------------------------------------------------------------------------------
    def _query(self):
        soql = request.args.get("q", "")
        try:
            query = parse(soql)
            if query.sobject not in self.schema:
                raise SoqlError("INVALID_TYPE", f"\n{soql}\n^\nERROR at Row:1:Column:1\nsObject type "
                                                f"'{query.sobject}' is not supported.")
            for name in [*query.fields, *(c.field for c in query.where), *([query.order_by] if query.order_by else [])]:
                if name not in self.schema[query.sobject]:
                    column = soql.find(name) + 1
                    raise SoqlError("INVALID_FIELD", f"\n{soql}\n{' ' * (column - 1)}^\nERROR at Row:1:Column:"
                                                     f"{column}\nNo such column '{name}' on entity '{query.sobject}'. "
                                                     "If you are attempting to use a custom field, be sure to append "
                                                     "the '__c' after the custom field name. Please reference your "
                                                     "WSDL or the describe call for the appropriate names.")
        except SoqlError as err:
            return errors(400, err.code, str(err))
        with self.lock:  # a test thread may add a record while a worker queries
            rows = [(rid, dict(r)) for rid, r in self.records.items()
                    if r["type"] == query.sobject and rid not in self.deleted
                    and all(_matches(_value(rid, r, c.field), c) for c in query.where)]
        if query.order_by:
            rows.sort(key=lambda p: str(_value(p[0], p[1], query.order_by) or ""), reverse=query.descending)
        rows = rows[: query.limit] if query.limit is not None else rows
        records = []
        for rid, r in rows:
            out = {"attributes": {"type": query.sobject,
                                  "url": f"/services/data/v{self.version}/sobjects/{query.sobject}/{rid}"}}
            for name in query.fields:
                out[name] = _value(rid, r, name)
            records.append(out)
        return {"totalSize": len(records), "done": True, "records": records}


def _value(record_id: str, record: dict, name: str):
    return record_id if name == "Id" else record.get(name)


def _matches(actual, cond: Condition) -> bool:
    if isinstance(cond.values[0], dt.datetime):
        if actual is None:
            return False
        actual = parse_datetime(actual)
    if cond.op == "IN":
        return actual in cond.values
    value = cond.values[0]
    if cond.op == "=":
        return actual == value
    if cond.op == "!=":
        return actual != value
    if actual is None:
        return False
    return {"<": actual < value, "<=": actual <= value, ">": actual > value, ">=": actual >= value}[cond.op]


@dataclass
class Served:
    server: object
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
