from __future__ import annotations

from collections.abc import Iterator

import pytest

from victim_notify.privacy import keys


@pytest.fixture(autouse=True)
def _forget_keys() -> Iterator[None]:
    """Tests here change the configured keys; the next test starts from the settings."""
    keys.forget()
    yield
    keys.forget()
