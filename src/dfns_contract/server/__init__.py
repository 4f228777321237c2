"""The reference server: a faithful implementation of the documented errors of the Dfns API.

It is the contract suite's default target and a local sandbox for
integrators. Start it with ``runner.start_server`` (in-process) or the
``dfns-mock`` command (cli.py). Map of the package:

* app.py: ``create_app``, the wiring; pipeline.py: the checks every request
  goes through, in the documented order; endpoints/: one module per API section
* errors.py: the table of errors; contracts.py: the published versions of the
  errors page, as the rows each answers with (``dfns-mock --contract``);
  rendering.py: every response; faults.py: the switches that break the
  contract on purpose
* world.py, wallet_store.py (wallets and transfers), seed.py and
  seed_flows.py: the in-memory state and the world a server starts with;
  tokens.py, credentials.py, stores.py, validation.py, json_input.py,
  header_names.py, ids.py: what the checks and the handlers use
* settings.py: the tunables and limits; connections.py (the connection layer:
  connections per client, header time and size), request_limits.py (one
  request's headers and body) and access_log.py: what keeps it a server a
  team can share, whatever its clients send
"""
