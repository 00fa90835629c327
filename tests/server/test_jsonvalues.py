"""The database's JSON columns (server/jsonvalues.py) store and read every value as the
standard library did: what comes back is what json.loads(json.dumps(value)) gives,
whatever orjson would have declined (integer keys, huge integers, NaN in old rows)."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings, strategies as st

from server.jsonvalues import json_dumps, json_loads

_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(st.characters(blacklist_categories=("Cs",))))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=8) | st.integers(), inner, max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(_VALUES)
def test_a_value_reads_back_as_the_standard_library_would_read_it(value):
    assert json_loads(json_dumps(value)) == json.loads(json.dumps(value))


def test_rows_the_standard_library_wrote_still_read():
    assert json_loads('{"net": "81.2.69.0/24", "matched": [], "geo": [null, null, null]}')["net"] == "81.2.69.0/24"
    assert math.isnan(json_loads('{"x": NaN}')["x"])
