from tests.server.conftest import geo_db, pg_url  # noqa: F401  (shared fixtures)
from tests.server.conftest import (  # noqa: F401,E402
    ann, app, backend, client, make_account, pg_migrated, sqlite_template,
)
