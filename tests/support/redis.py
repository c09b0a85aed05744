"""The Redis the cluster tests use: VOLTSPOT_TEST_REDIS_URL, else the local one."""

from __future__ import annotations

import os

REDIS_URL = os.environ.get("VOLTSPOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
