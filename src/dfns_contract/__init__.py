"""Contract test suite for the documented errors of the Dfns API.

The package holds everything both sides of the contract share: the wire
formats (nonce, signatures), the client that builds requests, the catalog of
documented errors, the pytest plugin and the reference server.
"""

__version__ = "0.1.0"
