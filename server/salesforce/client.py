"""Talking to one org's Salesforce: OAuth 2.0 sign-in, then simple-salesforce for
the REST calls (sObject GET/PATCH, SOQL query).

The token request is made here rather than by simple-salesforce's own login,
because that builds the token URL as ``https://{domain}.salesforce.com`` and cannot
point at a My Domain login URL given as a full URL (or at a test stand-in). The
REST calls then go through ``simple_salesforce.Salesforce`` with the session id
and instance URL the token endpoint answered, exactly as after its own login.

Every error leaves as a ``failures.Failure``; secrets never appear in one."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import jwt
import requests

from .failures import Failure, auth_failure, from_exception
from .models import SalesforceConfig
from .vault import UnreadableSecrets, unseal

if TYPE_CHECKING:
    from simple_salesforce import Salesforce

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME_SECONDS = 180  # Salesforce accepts at most 3 minutes


@dataclass(frozen=True)
class Credentials:
    instance_url: str
    login_url: str | None
    auth_flow: str
    client_id: str
    username: str
    jwt_audience: str
    private_key_path: str | None
    api_version: str
    secrets: dict = field(repr=False, default_factory=dict)
    # Where credentials and REST calls may go (server/salesforce/hosts.py:allowed_hosts).
    allowed_hosts: tuple = ()

    @property
    def token_url(self) -> str:
        return (self.login_url or self.instance_url).rstrip("/") + "/services/oauth2/token"


def credentials_of(cfg: SalesforceConfig, secret_key: str) -> Credentials:
    from .hosts import ConfigError, allowed_hosts, https_url

    try:
        secrets = unseal(secret_key, cfg.secrets_sealed)
    except UnreadableSecrets as err:
        raise Failure("CREDENTIALS_UNREADABLE", str(err) + "; configure Salesforce again", True) from None
    hosts = allowed_hosts()
    try:  # checked again here: a configuration stored before the check was this strict
        instance_url = https_url(cfg.instance_url, "instance_url", hosts)
        login_url = https_url(cfg.login_url, "login_url", hosts) if cfg.login_url else None
    except ConfigError as err:
        raise Failure("CONFIG_INVALID", f"{err}; configure Salesforce again", False) from None
    return Credentials(
        instance_url=instance_url, login_url=login_url, auth_flow=cfg.auth_flow,
        client_id=cfg.client_id, username=cfg.username, jwt_audience=cfg.jwt_audience,
        private_key_path=cfg.private_key_path, api_version=cfg.api_version, secrets=secrets,
        allowed_hosts=hosts,
    )


class TimeoutSession(requests.Session):
    """A requests session with a default timeout (simple-salesforce passes none, and a
    Salesforce that never answers must not hold a delivery forever) and a CA bundle
    that really applies: requests lets REQUESTS_CA_BUNDLE in the environment override
    ``Session.verify``, so it is passed with every request instead."""

    def __init__(self, timeout: float, verify: bool | str = True):
        super().__init__()
        self.timeout = timeout
        if verify is not True:
            self.verify = verify

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        if self.verify is not True:
            kwargs.setdefault("verify", self.verify)
        return super().request(method, url, **kwargs)


def _jwt_assertion(creds: Credentials) -> str:
    key = creds.secrets.get("private_key")
    if not key and creds.private_key_path:
        try:
            key = Path(creds.private_key_path).read_text()
        except OSError as err:
            raise Failure("PRIVATE_KEY_UNREADABLE", f"cannot read the private key file ({err.strerror})", True)
    if not key:
        raise Failure("PRIVATE_KEY_MISSING", "the JWT flow needs a private key", True)
    claims = {"iss": creds.client_id, "sub": creds.username, "aud": creds.jwt_audience,
              "exp": int(time.time()) + JWT_LIFETIME_SECONDS}
    try:
        return jwt.encode(claims, key, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError):
        raise Failure("PRIVATE_KEY_INVALID", "the private key is not an RSA key in PEM form", True) from None


def request_token(creds: Credentials, http: requests.Session) -> tuple[str, str]:
    """(access token, instance URL) from the OAuth token endpoint."""
    if creds.auth_flow == "jwt":
        data = {"grant_type": JWT_GRANT, "assertion": _jwt_assertion(creds)}
    else:
        data = {"grant_type": "password", "client_id": creds.client_id,
                "client_secret": creds.secrets.get("client_secret", ""), "username": creds.username,
                "password": creds.secrets.get("password", "") + creds.secrets.get("security_token", "")}
    try:
        resp = http.post(creds.token_url, data=data)
    except requests.RequestException as err:
        raise from_exception(err) from None
    if resp.status_code != 200:
        raise auth_failure(resp.status_code, resp.text)
    from .hosts import ConfigError, https_url

    try:
        body = resp.json()
        token, instance_url = body["access_token"], body["instance_url"]
    except (ValueError, KeyError, TypeError):
        raise Failure("AUTH_BAD_RESPONSE", "the token endpoint answered without a token", True) from None
    try:  # the REST calls carry the session: only to a Salesforce host
        return token, https_url(str(instance_url), "instance_url", creds.allowed_hosts)
    except ConfigError:
        raise Failure("AUTH_BAD_RESPONSE", "the token endpoint named an instance outside Salesforce", False) from None


class SalesforceApi:
    """One org's connection. Signs in on first use, keeps the access token, and on
    INVALID_SESSION_ID (expired or revoked) signs in again and repeats the call once."""

    def __init__(self, creds: Credentials, http: requests.Session):
        self.creds = creds
        self.http = http
        self._sf: "Salesforce | None" = None
        self.sign_ins = 0

    def _client(self) -> "Salesforce":
        from simple_salesforce import Salesforce  # on first use: see soql.format_soql

        if self._sf is None:
            token, instance_url = request_token(self.creds, self.http)
            self.sign_ins += 1
            self._sf = Salesforce(instance_url=instance_url, session_id=token, session=self.http,
                                  version=self.creds.api_version)
        return self._sf

    def _call(self, fn: Callable[["Salesforce"], Any]) -> Any:
        from simple_salesforce.exceptions import SalesforceExpiredSession

        try:
            try:
                return fn(self._client())
            except SalesforceExpiredSession:
                self._sf = None
                return fn(self._client())
        except Failure:
            raise
        except Exception as err:  # simple-salesforce and requests errors become Failures
            raise from_exception(err) from None

    def read(self, sobject: str, record_id: str, fields: list[str]) -> dict:
        """GET /sobjects/<sobject>/<id>?fields=...: the record's current values."""
        return self._call(lambda sf: getattr(sf, sobject).get(record_id, params={"fields": ",".join(fields)}))

    def update(self, sobject: str, record_id: str, data: dict) -> None:
        """PATCH /sobjects/<sobject>/<id> (204 No Content)."""
        self._call(lambda sf: getattr(sf, sobject).update(record_id, data))

    def query(self, soql: str) -> list[dict]:
        return list(self._call(lambda sf: sf.query(soql)).get("records", []))
