"""Reading the Authorization header: 2.2 peers' base64 tokens and 2.1.1 peers' plain ones."""

from __future__ import annotations

import base64

from voltspot.services.roaming.partners import token_candidates


def test_a_base64_token_is_tried_decoded_first_then_as_sent():
    encoded = base64.b64encode(b"abc-123").decode()
    assert token_candidates(f"Token {encoded}") == ["abc-123", encoded]


def test_a_plain_token_that_is_not_base64_is_taken_as_it_is():
    assert token_candidates("Token not*base64!") == ["not*base64!"]


def test_no_token_scheme_means_no_token():
    assert token_candidates("Bearer xyz") == [] and token_candidates(None) == []
