"""Units of the suite's own machinery: wire formats, masking, profiles, catalog, targets."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from dfns_contract.wire import keys
from dfns_contract.contract.catalog import CatalogError, load_catalog
from dfns_contract.wire.encoding import DecodeError, b64url_decode, b64url_encode
from dfns_contract.client.secrets import SecretRegistry
from dfns_contract.wire.nonce import InvalidNonce, iso_now, make_nonce, parse_nonce
from dfns_contract.contract.profile import ProfileError, env_name, load_profile
from dfns_contract.contract.recipes import RECIPES, bad_nonce
from dfns_contract.contract.target import TargetError, check_base_url, is_sensitive, DEFAULT_SENSITIVE_URL

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


class TestMasking:
    def test_masks_value_and_derived_forms(self):
        registry = SecretRegistry()
        token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1cy0xMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
        registry.add(token, "authToken")
        payload, signature = token.split(".")[1:]
        text = "Bearer %s | %s | %s | %s" % (token, payload, signature, json.dumps(token))
        masked = registry.mask(text)
        assert token not in masked and payload not in masked and signature not in masked
        assert masked.count("<masked:authToken>") >= 3

    def test_masks_pem_lines_and_json_escaped_pem(self):
        registry = SecretRegistry()
        pem = keys.private_pem(keys.generate_key(keys.KeyKind.P256))
        registry.add(pem, "privateKey")
        body_line = pem.splitlines()[1]
        masked = registry.mask(json.dumps({"k": pem}) + body_line)
        assert body_line not in masked

    def test_short_values_are_not_masked(self):
        registry = SecretRegistry()
        registry.add("abc")
        assert registry.mask("abcabc") == "abcabc"

    def test_longest_secret_wins_whatever_the_order_secrets_arrived_in(self):
        """Masking looks only for the forms present in a text; a shorter secret inside a longer one,
        registered before or after it, must not let the rest of the longer one through."""
        inner, outer = "inner-secret-0123", "prefix-inner-secret-0123-suffix"
        for order in ((inner, outer), (outer, inner)):
            registry = SecretRegistry()
            registry.add(order[0], order[0][:5])
            assert registry.mask("x %s y" % outer) != "x %s y" % outer
            registry.add(order[1], order[1][:5])
            assert registry.mask("x %s y %s" % (outer, inner)) == "x <masked:prefi> y <masked:inner>"
            assert registry.mask("nothing here") == "nothing here"


class TestProfile:
    def test_env_names(self):
        assert env_name("appId") == "DFNS_APP_ID"
        assert env_name("limitedPrincipalKind") == "DFNS_LIMITED_PRINCIPAL_KIND"

    def test_env_overrides_single_keys(self, tmp_path):
        path = tmp_path / "p.json"
        path.write_text(json.dumps({"appId": "ap-file", "orgId": "or-file"}))
        profile = load_profile(path, {"DFNS_APP_ID": "ap-env"})
        assert profile["appId"] == "ap-env" and profile["orgId"] == "or-file"
        assert profile.overridden == ("appId",)

    def test_every_problem_listed_without_values(self, tmp_path):
        path = tmp_path / "p.json"
        path.write_text(json.dumps({"appId": 3, "tokn": "x", "privateKey": "s3cr3t-not-a-pem"}))
        with pytest.raises(ProfileError) as error:
            load_profile(path, {})
        text = str(error.value)
        assert "appId" in text and "tokn" in text and "privateKey" in text and "credId" in text
        assert "s3cr3t" not in text

    @pytest.mark.parametrize("content, problem", [("{", "not JSON"), ("[]", "must be a JSON object")])
    def test_malformed_file(self, tmp_path, content, problem):
        path = tmp_path / "p.json"
        path.write_text(content)
        with pytest.raises(ProfileError, match=problem):
            load_profile(path, {})

    def test_missing_file(self, tmp_path):
        with pytest.raises(ProfileError, match="file not found"):
            load_profile(tmp_path / "nope.json", {})


class TestCatalog:
    def test_shipped_catalog_is_valid_and_every_recipe_exists(self, catalog):
        assert {error.recipe for error in catalog.errors} <= set(RECIPES)
        assert len(catalog.errors) == 11

    def test_case_ids_are_readable(self, catalog):
        ids = [case.id for case in catalog.cases()]
        assert "nonce-reused" in ids and "no-jwt-alg-none" in ids and len(ids) == len(set(ids))

    def test_forbidden_template_takes_profile_and_params(self, catalog):
        error = catalog.by_id("forbidden-operation")
        assert error.template_keys() == ["limitedPrincipalKind", "limitedPrincipalId"]
        message = error.expected_message({"limitedPrincipalKind": "CustomerEmployee", "limitedPrincipalId": "us-1"})
        assert message == "CustomerEmployee us-1 is not authorized to perform operation (Auth:Apps:Update)"

    def test_invalid_catalog_is_refused(self, tmp_path):
        path = tmp_path / "c.json"
        path.write_text(json.dumps({"doc": "x", "errors": [{"id": "Bad Id"}]}))
        with pytest.raises(CatalogError, match="invalid catalog"):
            load_catalog(path)


class TestTarget:
    @pytest.mark.parametrize("url", ["localhost:8000", "ftp://x", "http://", "http://h:port", "http://h/?q=1"])
    def test_bad_base_urls(self, url):
        with pytest.raises(TargetError, match="--base-url"):
            check_base_url(url)

    def test_trailing_slash_is_dropped(self):
        assert check_base_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"

    @pytest.mark.parametrize("url, sensitive", [("https://api.dfns.io", True), ("https://api.dfns.co/", True), ("https://api.dfns.ninja", False), ("http://127.0.0.1:8000", False)])
    def test_sensitive_default(self, url, sensitive):
        assert is_sensitive(url, DEFAULT_SENSITIVE_URL) is sensitive
