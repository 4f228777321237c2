"""The client side of the wire: requests to a Dfns API, their transport, and the run's secrets.

* api.py: ``DfnsClient``, the one place that builds a request (headers, nonce,
  token, user-action signing) and the flows (login, registration);
* exchange.py: what a request got, and the errors that mean no contract was checked;
* curl.py: a request as a command a person can paste;
* transport.py: what ``requests`` is asked for, cached per session and URL;
* secrets.py: what is secret (registered as the run learns it) and how it is masked.
"""

from dfns_contract.client.api import DfnsClient, KeySigner
from dfns_contract.client.exchange import (
    EnvironmentFailure,
    Exchange,
    FlowError,
    NotJSON,
    RateLimited,
    ServerFailure,
    TransportError,
)

__all__ = ["DfnsClient", "EnvironmentFailure", "Exchange", "FlowError", "KeySigner", "NotJSON", "RateLimited",
           "ServerFailure", "TransportError"]
