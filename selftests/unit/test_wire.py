"""Units of the wire formats both sides share: nonce, base64url encoding, key signatures."""

from datetime import datetime, timedelta, timezone

import pytest

from dfns_contract.contract.recipes import bad_nonce
from dfns_contract.wire import keys
from dfns_contract.wire.encoding import DecodeError, b64url_decode, b64url_encode
from dfns_contract.wire.nonce import InvalidNonce, iso_now, make_nonce, parse_nonce, reencode_nonce

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


class TestNonce:
    def test_fresh_nonce_parses(self):
        parsed = parse_nonce(make_nonce(date=iso_now(NOW)), NOW)
        assert len(parsed.uuid) >= 13 and parsed.date == NOW.replace(microsecond=0)

    @pytest.mark.parametrize("uuid, ok", [("a" * 12, False), ("a" * 13, True)])
    def test_uuid_boundary(self, uuid, ok):
        header = make_nonce(uuid=uuid, date=iso_now(NOW))
        if ok:
            assert parse_nonce(header, NOW).uuid == uuid
        else:
            with pytest.raises(InvalidNonce):
                parse_nonce(header, NOW)

    @pytest.mark.parametrize("age, ok", [(timedelta(minutes=4), True), (timedelta(minutes=6), False), (-timedelta(minutes=2), False)])
    def test_freshness_window(self, age, ok):
        header = make_nonce(date=iso_now(NOW - age))
        if ok:
            parse_nonce(header, NOW)
        else:
            with pytest.raises(InvalidNonce):
                parse_nonce(header, NOW)

    @pytest.mark.parametrize(
        "variant", ["missing", "empty", "not-base64", "not-json", "not-object", "no-uuid", "short-uuid", "no-date", "bad-date", "stale-date", "future-date", "latin1-bytes"]
    )
    def test_every_bad_nonce_of_the_catalog_is_invalid(self, variant):
        with pytest.raises(InvalidNonce):
            parse_nonce(bad_nonce(variant), datetime.now(timezone.utc))

    def test_padding_is_optional(self):
        raw = b'{"uuid":"abcdefghijklmn","date":"%s"}' % iso_now().encode()
        unpadded = b64url_encode(raw)
        padded = unpadded + "=" * (-len(unpadded) % 4)
        assert b64url_decode(padded) == b64url_decode(unpadded) == raw

    @pytest.mark.parametrize("uuid", ["abcdefghijklm", "abcdefghijklmn", "abcdefghijklmno"])
    def test_a_reencoded_nonce_is_another_text_of_the_same_nonce(self, uuid):
        original = make_nonce(uuid=uuid, date=iso_now(NOW))
        again = reencode_nonce(original)
        assert again != original and again.endswith("=") and not original.endswith("=")
        assert parse_nonce(again, NOW) == parse_nonce(original, NOW)
        assert b64url_decode(again).decode().startswith('{"date": ')  # keys reversed, spaced

    def test_reencoding_a_padded_nonce_drops_the_padding(self):
        padded = reencode_nonce(make_nonce(date=iso_now(NOW)))
        again = reencode_nonce(padded)
        assert "=" not in again and again != padded
        assert parse_nonce(again, NOW) == parse_nonce(padded, NOW)

    def test_only_a_nonce_can_be_reencoded(self):
        with pytest.raises(DecodeError):
            reencode_nonce(b64url_encode(b"[1, 2]"))

    @pytest.mark.parametrize("text", ["a+b/", "ab cd", "a", "ab=c"])
    def test_strict_alphabet(self, text):
        with pytest.raises(DecodeError):
            b64url_decode(text)


@pytest.mark.parametrize("kind", list(keys.KeyKind))
def test_each_key_kind_signs_and_verifies(kind):
    private = keys.generate_key(kind)
    public = keys.load_public_key(keys.public_pem(private))
    signature = keys.sign(private, b"data")
    assert keys.verify(public, signature, b"data")
    assert not keys.verify(public, signature, b"other")
