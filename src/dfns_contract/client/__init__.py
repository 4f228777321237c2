"""The client side of the wire: requests to a Dfns API, their transport, and the run's secrets.

* api.py: ``DfnsClient``, the one place that builds a request (headers, nonce,
  token, user-action signing) and the flows (login, registration);
* exchange.py: what a request got, and the errors that mean no contract was checked;
* curl.py: a request as a command a person can paste;
* transport.py: what ``requests`` is asked for, cached per session and URL;
* guard.py: the target's health (a circuit breaker) and the run's deadline;
* retries.py: when one request is sent again (a reset before any answer, a 429), and the counts;
* secrets.py: what is secret (registered as the run learns it) and how it is masked.
"""

from dfns_contract.client.api import DfnsClient, KeySigner
from dfns_contract.client.exchange import (
    DeadlinePassed,
    EnvironmentAnswer,
    EnvironmentFailure,
    Exchange,
    FlowError,
    NotJSON,
    NotSent,
    NotProvided,
    PolicyPending,
    RateLimited,
    ServerFailure,
    TargetDown,
    TransportError,
)
from dfns_contract.client.guard import TargetGuard

__all__ = ["DeadlinePassed", "DfnsClient", "EnvironmentAnswer", "EnvironmentFailure", "Exchange", "FlowError", "KeySigner", "NotJSON",
           "NotProvided", "NotSent", "PolicyPending", "RateLimited", "ServerFailure", "TargetDown", "TargetGuard", "TransportError"]
