"""Units of the client's secrets registry: what is masked, and how."""

import json

from dfns_contract.client.secrets import SecretRegistry
from dfns_contract.wire import keys


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
