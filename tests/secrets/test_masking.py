"""Masker: every registered secret value becomes *** wherever it appears."""

from __future__ import annotations

import threading
import uuid

from digpy.secrets.masking import Masker


def _masker(*values: str) -> Masker:
    masker = Masker()
    for value in values:
        masker.add(value)
    return masker


def test_every_occurrence_of_a_canary_is_masked() -> None:
    canary = f"dp-canary-{uuid.uuid4()}"
    text = f"token={canary} again:{canary}{canary}\n"
    masked = _masker(canary).mask(text)
    assert canary not in masked
    assert masked == "token=*** again:***\n"


def test_overlapping_secrets_are_masked_as_one_span_so_no_fragment_leaks() -> None:
    masker = _masker("abcd", "cdef")
    assert masker.mask("xx abcdef yy") == "xx *** yy"


def test_a_longer_secret_containing_a_shorter_one_is_masked_whole() -> None:
    masker = _masker("pass", "password123")
    assert masker.mask("p=password123 q=pass") == "p=*** q=***"


def test_a_multi_line_secret_is_masked_line_by_line_too() -> None:
    key = "-----BEGIN KEY-----\nMIIEvQIBADANBg\nkqhkiG9w0BAQEF\n-----END KEY-----\n"
    masker = _masker(key)
    assert masker.mask(key) == "***"
    # A process prints the key back one line at a time
    assert [masker.mask(line) for line in key.splitlines()] == ["***"] * 4


def test_a_secret_printed_inside_json_is_masked() -> None:
    masker = _masker('pa"ss\nword')
    assert masker.mask('{"v": "pa\\"ss\\nword"}') == '{"v": "***"}'


def test_empty_values_are_ignored_and_text_without_secrets_is_unchanged() -> None:
    masker = _masker("")
    assert len(masker) == 0
    assert masker.mask("nothing to hide") == "nothing to hide"


def test_masking_is_safe_while_other_threads_add_values() -> None:
    masker = Masker()
    values = [f"secret-{i:04d}" for i in range(200)]
    adders = [threading.Thread(target=masker.add, args=(v,)) for v in values]
    for thread in adders:
        thread.start()
    for thread in adders:
        thread.join()
    assert masker.mask(" ".join(values)) == " ".join(["***"] * 200)
