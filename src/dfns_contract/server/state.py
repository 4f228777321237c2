"""Everything one running server holds, in one object (``app.state.server``)."""

from __future__ import annotations

from dataclasses import dataclass

from .clock import Clock
from .faults import FaultSet
from .rendering import Renderer
from .seed import Seeded
from .settings import Settings
from .stores import OneTimeStore
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
