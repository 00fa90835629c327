"""A user's settings over the defaults: the one rule the server and both clients use."""

from __future__ import annotations

from client_py.model import DEFAULT_SETTINGS, merged_settings


def test_missing_settings_are_the_defaults():
    assert merged_settings(None) == DEFAULT_SETTINGS
    assert merged_settings({}) == DEFAULT_SETTINGS


def test_stored_settings_win_and_unknown_keys_are_left_out():
    stored = {"time_zone": "Europe/Paris", "blocklist": ["rival.example"], "theme": "dark", "insert_at": "first"}
    merged = merged_settings(stored)
    assert merged == {**DEFAULT_SETTINGS, "time_zone": "Europe/Paris", "blocklist": ["rival.example"],
                      "insert_at": "first"}
    assert "theme" not in merged
    assert stored["theme"] == "dark"  # the caller's dict is left alone


def test_the_defaults_are_not_shared_with_the_result():
    merged = merged_settings(None)
    merged["time_zone"] = "Asia/Tokyo"
    assert DEFAULT_SETTINGS["time_zone"] == "UTC"
