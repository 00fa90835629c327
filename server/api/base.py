"""What every API blueprint shares: the flask-smorest ``Api`` object (bound to the app
in ``create_app``), the one declaration of how the API is secured, and ``@secured``.

A view behind a bearer token is written::

    @blp.route("/counter", methods=["GET"])
    @secured
    @blp.response(200, CounterOut)
    def get_counter(): ...

``@secured`` goes right under ``@blp.route``, so the token is checked (401) before
any argument is parsed (422), and the OpenAPI document lists the route as secured."""

from __future__ import annotations

from flask_smorest import Api, Blueprint

from ..errors import ErrorSchema
from .auth import auth_required

BEARER_AUTH = "bearerAuth"
BEARER_SCHEME = {"type": "http", "scheme": "bearer", "description": "API token from sign-in or `engage token`"}
SECURED = {"security": [{BEARER_AUTH: []}]}


class EngageApi(Api):
    """flask-smorest's Api with our error shape documented in the OpenAPI spec.

    Errors are answered by server/error_handlers.py for every path of the app, the
    API's included; flask-smorest's own handler would answer only in its shape."""

    ERROR_SCHEMA = ErrorSchema

    def init_app(self, app, *, spec_kwargs=None):
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.spec.components.security_scheme(BEARER_AUTH, BEARER_SCHEME)

    def _register_error_handlers(self):
        """Not flask-smorest's: server/error_handlers.py registers the app's."""


def secured(view):
    """The view needs a signed-in user (``Authorization: Bearer <token>``)."""
    return Blueprint.doc(**SECURED)(auth_required(view))


api = EngageApi()
