"""What core offers the bot, the server and the CLI: its services over one set of adapters.

`trt.runtime` builds one `Services` per process, complete; nothing below the entry points
builds adapters or imports the runtime.
"""

from __future__ import annotations

from dataclasses import dataclass

from trt.catalog.registry import Registry
from trt.core.controls import Controls
from trt.core.generation import Generation
from trt.core.metrics import Metrics
from trt.core.ports import KieApi, StarPayments, TelegramAccount
from trt.core.repos import Store
from trt.settings import Settings


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    store: Store
    registry: Registry
    kie: KieApi
    generation: Generation
    metrics: Metrics
    kie_emulated: bool  # the KIE emulator stands in for KIE (shown in /health and captions)
    callback_token: str | None  # the secret in the KIE callback URL
    stars: StarPayments | None = None  # Telegram's Stars refunds; None without a bot token
    telegram: TelegramAccount | None = None  # the bot's account, for `trt verify`

    @property
    def controls(self) -> Controls:
        """The operators' controls this process obeys (the pipeline's own)."""
        return self.generation.controls
