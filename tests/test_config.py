"""Settings from the environment: defaults, and one clear line when one is wrong."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from voltspot.config import ConfigError, load_settings


def test_defaults_need_no_environment():
    settings = load_settings(environ={})
    assert settings.database_url.startswith("sqlite:///")
    assert settings.secret_key
    assert settings.api_token == ""


def test_a_number_setting_that_is_not_a_number_names_the_variable():
    with pytest.raises(ConfigError, match="VOLTSPOT_HEARTBEAT_INTERVAL"):
        load_settings(environ={"VOLTSPOT_HEARTBEAT_INTERVAL": "often"})


def test_a_yes_no_setting_that_is_neither_names_the_variable():
    with pytest.raises(ConfigError, match="VOLTSPOT_ACCEPT_UNKNOWN_STATIONS"):
        load_settings(environ={"VOLTSPOT_ACCEPT_UNKNOWN_STATIONS": "perhaps"})


def test_an_unsupported_database_names_the_variable():
    with pytest.raises(ConfigError, match="VOLTSPOT_DATABASE_URL"):
        load_settings(environ={"VOLTSPOT_DATABASE_URL": "mysql://x"})


def test_production_without_a_secret_key_refuses_to_start():
    with pytest.raises(ConfigError, match="VOLTSPOT_SECRET_KEY"):
        load_settings(environ={"VOLTSPOT_ENV": "production"})


def test_the_ocpp_url_follows_the_public_url():
    assert load_settings({"public_url": "https://cs.example.org/"}, environ={}).ocpp_url == (
        "wss://cs.example.org/ocpp")


def test_the_cli_prints_one_line_naming_a_bad_setting():
    result = subprocess.run([sys.executable, "-m", "voltspot", "db", "upgrade"],
                            env={**os.environ, "VOLTSPOT_HEARTBEAT_INTERVAL": "often"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "voltspot: VOLTSPOT_HEARTBEAT_INTERVAL must be a number, not 'often'"]
