"""Compare the server's ``data/networks.json`` with the ``Network`` union of the installed ``@dfns/sdk``.

The file says which SDK version its names were read from (``sdkVersion``); this reads the same type
(``CreateWalletBody.network`` in ``generated/wallets/types.d.ts``) from ``sdk/node/node_modules`` and
reports, in one line each, a version that differs and any name one side has that the other lacks
(the file's ``legacyNames`` excepted). ``tox -e sdk`` runs it, so bumping the pinned SDK without
updating the file fails there rather than leaving the server refusing the new names with 400.

    python sdk/networks_drift.py [--node-modules PATH]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from dfns_contract.server import wallet_store

NODE_MODULES = Path(__file__).resolve().parent / "node" / "node_modules"
#: Where the SDK declares what a wallet may be created on: the first line of the body type holds the union.
TYPES_FILE = Path("generated") / "wallets" / "types.d.ts"
_BODY = re.compile(r"export type CreateWalletBody = \{\s*(?:/\*\*.*?\*/\s*)?network: ([^;]+);", re.S)


def sdk_networks(node_modules: Path) -> tuple[str, list[str]]:
    """The installed ``@dfns/sdk``'s version and the names of its ``CreateWalletBody.network`` union."""
    package = node_modules / "@dfns" / "sdk"
    version = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    match = _BODY.search((package / TYPES_FILE).read_text(encoding="utf-8"))
    if match is None:
        raise ValueError("%s has no CreateWalletBody with a network union" % (package / TYPES_FILE))
    return version, re.findall(r'"([A-Za-z0-9]+)"', match.group(1))


def drift(document: dict, version: str, declared: list[str]) -> list[str]:
    """What differs between the file and the SDK, one sentence each (empty: they agree)."""
    legacy = set(document.get("legacyNames", {}).get("names", []))
    in_file = set(wallet_store.load_networks(document))
    problems = []
    if document.get("sdkVersion") != version:
        problems.append("networks.json names @dfns/sdk %s, the installed one is %s"
                        % (document.get("sdkVersion"), version))
    missing = [name for name in declared if name not in in_file]
    if missing:
        problems.append("the SDK declares networks the file lacks: %s" % ", ".join(missing))
    extra = sorted(in_file - set(declared) - legacy)
    if extra:
        problems.append("the file has networks the SDK does not declare (not in legacyNames): %s" % ", ".join(extra))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, default=NODE_MODULES)
    args = parser.parse_args(argv)
    try:
        version, declared = sdk_networks(args.node_modules)
    except (OSError, ValueError, KeyError) as exc:
        print("networks_drift: cannot read the installed @dfns/sdk (%s); run `npm ci` in sdk/node" % exc,
              file=sys.stderr)
        return 2
    problems = drift(wallet_store.networks_document(), version, declared)
    for problem in problems:
        print("networks_drift: %s" % problem, file=sys.stderr)
    if not problems:
        print("networks.json agrees with @dfns/sdk %s (%d names)" % (version, len(declared)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
