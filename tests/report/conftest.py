"""The `chromium` fixture: the browser binary the HTML report is opened in."""

from __future__ import annotations

import os
import shutil

import pytest

# Read at import: the autouse isolated_env fixture scrubs MODELAUDIT_* before tests run.
REQUIRED = os.environ.get("MODELAUDIT_REQUIRE_REALSERVERS") == "1"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


@pytest.fixture
def chromium() -> str:
    """Skipped with the reason when missing, unless MODELAUDIT_REQUIRE_REALSERVERS=1 (CI),
    where it fails instead."""
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        reason = "needs Chromium (apt-get install -y chromium) to open the HTML report"
        if REQUIRED:
            pytest.fail(f"MODELAUDIT_REQUIRE_REALSERVERS=1 but {reason}")
        pytest.skip(reason)
    return found
