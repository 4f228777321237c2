"""Everything one running server holds, in one object (``app.state.server``)."""

from __future__ import annotations

from dataclasses import dataclass

from .clock import Clock
from .contracts import ContractVersion
from .faults import FaultSet
from .quota import WindowQuota
from .rendering import Renderer
from .seed import Seeded
from .settings import Settings
from .stores import OneTimeStore, Sweeper
from .tokens import TokenService
from .world import World


@dataclass
class ServerState:
    settings: Settings
    clock: Clock
    faults: FaultSet
    world: World
    tokens: TokenService
    renderer: Renderer
    seeded: Seeded
    #: Nonce uuids seen (X-DFNS-NONCE replay protection).
    nonces: OneTimeStore
    #: User action signatures consumed (X-DFNS-USERACTION is single use).
    user_actions: OneTimeStore
    #: Challenge identifiers and registration temporary tokens already completed.
    challenges: OneTimeStore
    #: Prunes the three stores above on a timer (Settings.prune_interval).
    sweeper: Sweeper
    #: The version of the errors page this server answers as (contracts.py).
    contract: ContractVersion
    #: The organisation's request quota (``Settings.rate_limit``); None: no quota.
    quota: WindowQuota | None = None

    def issued_secrets(self) -> list[str]:
        """Every token and registration code this server handed out (``Settings.record_secrets``)."""
        if self.tokens.issued is None:
            raise RuntimeError("start the server with Settings(record_secrets=True)")
        codes = [p.registration.code for p in self.world.principals.values() if p.registration]
        mailed = [mail.registration_code for mail in self.world.mailbox.values()]
        one_time = [code.code for code in self.world.code_mail.values()]
        return list(dict.fromkeys([*self.tokens.issued, *codes, *mailed, *one_time]))
