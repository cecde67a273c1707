"""What every console view is given: the store, the settings and the clock (tests pass a clock they move)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Mapping

from config.settings import Settings
from surveys.store import Store


@dataclass(frozen=True)
class ConsoleContext:
    store: Store
    settings: Settings
    clock: Callable[[], datetime]
    # The survey simulator's channel screens by name (surveys.simulator.Screen), from the composition root.
    screens: Mapping = field(default_factory=dict)

    @property
    def https(self) -> bool:
        """Served over https (by PUBLIC_BASE_URL): cookies get Secure and responses HSTS."""
        return (self.settings.public_base_url or "").startswith("https://")
