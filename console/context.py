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
    # What checking a survey asks other rooms (lexicon languages, SMS cost): surveys.checks.SurveyChecks, built
    # by the composition root (config.wiring.survey_checks) on first use; None where nothing wired it.
    survey_checks: Callable[[], object] | None = None
    # What the send preview asks the channels (surveys.wave_preview.SendEstimates), built by config.wiring;
    # None: the preview shows counts but no segments, costs or times.
    send_estimates: object | None = None
    # The survey simulator's channel screens by name (surveys.simulator.Screen), from the composition root.
    screens: Mapping = field(default_factory=dict)

    @property
    def https(self) -> bool:
        """Served over https (by PUBLIC_BASE_URL): cookies get Secure and responses HSTS."""
        return (self.settings.public_base_url or "").startswith("https://")
