"""The project's root conftest: nothing of it reaches a contract run.

The contract suite is switched on by ``tests/conftest.py``; the selftests'
fixtures and helper plugins live under ``selftests/``.
"""
