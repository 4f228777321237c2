"""Units of masking what pytest cut: pieces of a secret, and pytest masking before it cuts.

A secret cut short (a repr cut to 240 characters around ``...``, a diff that
skips what two strings share, an explanation stopped at 640 characters) is
not the secret any more: masking by value must still find what is left of it
(``SecretRegistry.mask``), and pytest must mask before it cuts
(``internals.mask_before_truncating``), so that no piece is left beside a cut.
"""

from __future__ import annotations

import base64
import random
import reprlib
from collections.abc import Iterator

import pytest
from _pytest._io import saferepr as saferepr_module
from _pytest.assertion import compare_text
from _pytest.assertion.highlight import dummy_highlighter

from dfns_contract.client.secrets import MIN_FRAGMENT_LENGTH, SecretRegistry
from dfns_contract.plugin.internals import mask_before_truncating


def jwt_like(seed: int) -> str:
    rng = random.Random(seed)

    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return ".".join((part(rng.randbytes(24)), part(rng.randbytes(300)), part(rng.randbytes(64))))


TOKEN = jwt_like(7)


def pieces(secret: str, length: int = MIN_FRAGMENT_LENGTH) -> set[str]:
    return {secret[start:start + length] for start in range(len(secret) - length + 1)}


def shown(secret: str, text: str, length: int = MIN_FRAGMENT_LENGTH) -> list[str]:
    """The pieces of ``secret`` of ``length`` characters that ``text`` shows."""
    return [piece for piece in pieces(secret, length) if piece in text]


@pytest.fixture
def registry() -> SecretRegistry:
    registry = SecretRegistry()
    registry.add(TOKEN, "authToken")
    return registry


class TestFragments:
    def test_a_repr_cut_around_dots_is_masked_on_both_sides(self, registry: SecretRegistry) -> None:
        cut = "token = '%s...%s'" % (TOKEN[:118], TOKEN[-119:])
        masked = registry.mask(cut)
        assert not shown(TOKEN, masked)
        assert masked.startswith("token = '<masked:authToken>...<masked:authToken>")

    @pytest.mark.parametrize("start, end", [(0, 16), (37, 53), (100, 400), (len(TOKEN) - 16, len(TOKEN))],
                             ids=["head", "header-and-payload", "long-middle", "tail"])
    def test_any_piece_of_16_characters_or_more_is_masked_whole(self, registry, start, end) -> None:
        masked = registry.mask("before %s after" % TOKEN[start:end])
        assert masked == "before <masked:authToken> after"

    def test_a_piece_of_15_characters_is_left(self, registry: SecretRegistry) -> None:
        """Too short to tell from chance; pytest never cuts a secret that short when it masks first."""
        text = "before %s after" % TOKEN[40:55]
        assert registry.mask(text) == text

    def test_no_piece_survives_wherever_a_text_cuts_the_token(self, registry: SecretRegistry) -> None:
        for start in range(0, len(TOKEN), 23):
            for length in (16, 17, 31, 64, 200):
                text = "x%s|%s..." % (TOKEN[start:start + length], TOKEN[:start][-length:])
                assert not shown(TOKEN, registry.mask(text)), (start, length)

    def test_pieces_of_a_derived_form_are_masked(self, registry: SecretRegistry) -> None:
        encoded = base64.b64encode(TOKEN.encode()).decode()
        assert registry.mask("Basic %s" % encoded[20:90]) == "Basic <masked:authToken>"

    def test_two_touching_pieces_become_one_placeholder(self, registry: SecretRegistry) -> None:
        assert registry.mask(TOKEN[10:40] + TOKEN[300:330]) == "<masked:authToken>"

    def test_a_text_without_secrets_comes_back_as_it_was(self, registry: SecretRegistry) -> None:
        text = "E   AssertionError: nonce-reused\n" * 40 + jwt_like(8)
        assert registry.mask(text) is text

    def test_a_secret_added_after_a_mask_is_found_in_pieces_too(self, registry: SecretRegistry) -> None:
        later = jwt_like(9)
        assert registry.mask(later[5:60]) == later[5:60]
        registry.add(later, "userAction")
        assert registry.mask(later[5:60]) == "<masked:userAction>"

    def test_in_html_the_placeholder_is_escaped(self, registry: SecretRegistry) -> None:
        assert registry.mask(TOKEN[:50], "&lt;masked:%s&gt;") == "&lt;masked:authToken&gt;"


@pytest.fixture
def masking_first(registry: SecretRegistry) -> Iterator[list[str]]:
    """pytest masking with ``registry`` before it cuts, for one test; the names of what it replaced."""
    patches = mask_before_truncating(registry.mask)
    try:
        yield list(patches.names)
    finally:
        patches.undo()


class TestMaskingBeforeTruncating:
    """Where pytest cut, it cut the placeholder: not even 8 characters of the secret are left beside the cut."""

    def test_replaces_each_cut_of_this_pytest(self, masking_first: list[str]) -> None:
        assert set(masking_first) >= {
            "_pytest._io.saferepr._ellipsize",
            "_pytest._io.saferepr.SafeRepr.repr_str",
            "_pytest.assertion.compare_text._diff_text",
            "_pytest.assertion.truncate.materialize_with_truncation",
        }

    @pytest.mark.parametrize("value", [TOKEN, "Bearer " + TOKEN, [TOKEN], {"Authorization": TOKEN},
                                       TOKEN.encode()], ids=["str", "in-str", "in-list", "in-dict", "bytes"])
    def test_a_size_limited_repr(self, masking_first: list[str], value: object) -> None:
        for maxsize in (240, 31):
            text = saferepr_module.saferepr(value, maxsize=maxsize)
            assert not shown(TOKEN, text, 8), text

    def test_without_it_the_repr_is_cut_through_the_secret(self, registry: SecretRegistry) -> None:
        """The control: the same repr, pytest as it is, leaves pieces the registry can no longer mask."""
        text = registry.mask(saferepr_module.saferepr(TOKEN, maxsize=31))
        assert shown(TOKEN, text, 8)

    def test_a_diff_that_skips_identical_characters(self, masking_first: list[str]) -> None:
        left, right = "Bearer " + TOKEN, "Bearer " + TOKEN[:200] + "-tampered"
        lines = list(compare_text._diff_text(left, right, dummy_highlighter))
        assert not shown(TOKEN, "\n".join(lines), 8), lines

    def test_undo_puts_pytest_back(self, registry: SecretRegistry) -> None:
        ellipsize, diff_text = saferepr_module._ellipsize, compare_text._diff_text
        patches = mask_before_truncating(registry.mask)
        assert saferepr_module._ellipsize is not ellipsize
        patches.undo()
        assert saferepr_module._ellipsize is ellipsize and compare_text._diff_text is diff_text
        assert saferepr_module.SafeRepr.repr_str is reprlib.Repr.repr_str
        assert patches.names == []

    def test_never_replaced_twice(self, masking_first: list[str], registry: SecretRegistry) -> None:
        first = saferepr_module._ellipsize
        again = mask_before_truncating(registry.mask)
        assert again.names == [] and saferepr_module._ellipsize is first
        again.undo()
        assert saferepr_module._ellipsize is first

    def test_a_pytest_without_one_of_them_still_runs(self, registry: SecretRegistry,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delattr(compare_text, "_diff_text")
        patches = mask_before_truncating(registry.mask)
        try:
            assert "_pytest.assertion.compare_text._diff_text" not in patches.names
            assert "_pytest._io.saferepr._ellipsize" in patches.names
        finally:
            patches.undo()
