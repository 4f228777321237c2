"""``dfns-contract bootstrap`` and ``teardown``: make on a target org what a version's cases need, and undo it.

A live run needs up to about 40 profile keys; most name things a person would otherwise make by hand
(a second app, a principal without permissions, an end user, wallets). ``bootstrap`` makes them through
documented endpoints with the admin's token and credential, writes the full profile and records in it
every creation with how to undo it; ``teardown`` undoes them. See ``docs/bootstrap.md``.
"""
