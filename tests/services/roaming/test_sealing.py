"""Partner tokens at rest: sealed with the secret key, readable only with it."""

from __future__ import annotations

import pytest

from voltspot.services.roaming.sealing import UnreadableToken, seal, unseal


def test_a_sealed_token_reads_back_with_the_same_secret_and_hides_the_token():
    sealed = seal("secret-one", "their-token-c")
    assert "their-token-c" not in sealed
    assert unseal("secret-one", sealed) == "their-token-c"


def test_a_token_sealed_under_another_secret_is_unreadable():
    with pytest.raises(UnreadableToken, match="register with the partner again"):
        unseal("secret-two", seal("secret-one", "their-token-c"))
