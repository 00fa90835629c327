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
from werkzeug.routing import UnicodeConverter

from ..errors import ErrorSchema
from .input_guard import STORABLE_TEXT
from .openapi_rules import PATH_TEXT, describe_rules, storable_text
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
        app.config.setdefault("API_SPEC_OPTIONS", {"info": {"description": describe_rules(app)}})
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.spec.components.security_scheme(BEARER_AUTH, BEARER_SCHEME)
        # The rules every view obeys without declaring them, in the document too
        # (server/api/openapi_rules.py): no string holds a NUL or an unpaired surrogate.
        converter = self.ma_plugin.converter
        converter.add_attribute_function(storable_text)
        for schema in self.spec.components.schemas.values():  # the error shape, registered already
            for prop in schema.get("properties", {}).values():
                if prop.get("type") == "string" and "pattern" not in prop and "enum" not in prop:
                    prop["pattern"] = STORABLE_TEXT
        schema2jsonschema = converter.schema2jsonschema

        def with_schema_rules(schema):
            """A schema's own rules the fields cannot state (``OPENAPI = {"minProperties": 1}``)."""
            return {**schema2jsonschema(schema), **getattr(schema, "OPENAPI", {})}

        converter.schema2jsonschema = with_schema_rules
        # A path's text part: Werkzeug's "string" converter (no "/", not empty); a NUL
        # there answers 404 (input_guard).
        self.register_converter(UnicodeConverter, lambda conv: {"type": "string", "pattern": PATH_TEXT})

    def _register_error_handlers(self):
        """Not flask-smorest's: server/error_handlers.py registers the app's."""


def secured(view):
    """The view needs a signed-in user (``Authorization: Bearer <token>``)."""
    return Blueprint.doc(**SECURED)(auth_required(view))


api = EngageApi()
