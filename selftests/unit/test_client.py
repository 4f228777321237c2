"""Units of the client's secrets registry: what is masked, and how."""

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from dfns_contract.client.exchange import is_rate_limit, retry_after
from dfns_contract.client.pacing import Pacer
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


class TestRateLimits:
    """The client's side of rate limits: Retry-After read as the RFC says, and pacing to a quota."""

    @pytest.mark.parametrize("value, seconds", [("7", 7.0), ("0", 0.0), (None, None), ("soon", None), ("", None)])
    def test_retry_after_in_seconds(self, value, seconds):
        assert retry_after(value) == seconds

    def test_retry_after_as_an_http_date(self):
        later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
        assert 25 <= retry_after(later) <= 30

    @pytest.mark.parametrize("status, headers, limited", [
        (429, {}, True), (503, {"Retry-After": "1"}, False), (503, {}, False), (400, {"Retry-After": "1"}, False)])
    def test_what_counts_as_a_rate_limit(self, status, headers, limited):
        """Only a 429: a 503, with or without Retry-After, is a gateway's answer (``EnvironmentAnswer``)."""
        assert is_rate_limit(status, headers) is limited

    def test_the_pacer_spaces_requests_by_the_quota(self):
        now, paused = [100.0], []

        def pause(seconds):
            paused.append(seconds)
            now[0] += seconds

        pacer = Pacer(4.0, clock=lambda: now[0], pause=pause)
        waits = [pacer.wait_for_slot() for _ in range(5)]
        assert waits == [0.0, 0.25, 0.25, 0.25, 0.25] and paused == [0.25] * 4

    def test_a_burst_leaves_together_and_the_next_request_waits_for_all_of_it(self):
        """A race's 4 senders take one slot together (no pause among them); the rate holds on average: the
        request after them waits 4 intervals. The control: 4 single requests are spaced one interval each."""
        now, paused = [100.0], []

        def pause(seconds):
            paused.append(seconds)
            now[0] += seconds

        pacer = Pacer(4.0, clock=lambda: now[0], pause=pause)
        assert (pacer.before_burst(4), pacer.before_send()) == (0.0, 1.0) and paused == [1.0]
        single = Pacer(4.0, clock=lambda: now[0], pause=pause)
        assert [single.before_send() for _ in range(5)] == [0.0, 0.25, 0.25, 0.25, 0.25]

    def test_the_pacer_does_not_wait_when_requests_are_already_spaced(self):
        now = [0.0]
        pacer = Pacer(2.0, clock=lambda: now[0], pause=lambda s: pytest.fail("paused"))
        for _ in range(3):
            assert pacer.wait_for_slot() == 0.0
            now[0] += 1.0
