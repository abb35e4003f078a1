"""What core needs from the world outside it: KIE, the chat side, Telegram's payments, the
leader lock and the clock. The adapters implement these (trt.kie, trt.bot, trt.store),
and so do the test fakes; the repositories' Protocols are in `trt.core.repos`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from trt.domain import Family, KieTaskId, RecipientState
from trt.errors import TrtError
from trt.kie.base import CreateTask, TaskRecord
from trt.records import BroadcastRecord, JobRecord, RefundNotice


class DeliveryFailed(TrtError):
    """A result could not reach the chat; `final` when retrying cannot help (user blocked)."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


class Messenger(Protocol):
    async def deliver(
        self, job: JobRecord, *, free: bool = False, returned: int = 0
    ) -> str | None:
        """Send the job's result to its chat (`free`: a free generation; `returned`: Stars
        given back for results that did not come; the caption says both); returns the
        Telegram file_id if there is one.

        Raises: DeliveryFailed.
        """
        ...

    async def resend(self, job: JobRecord, chat_id: int, *, free: bool = False) -> None:
        """Send a delivered job's result to `chat_id` again, captioned as delivered.

        Raises: DeliveryFailed.
        """
        ...

    async def tell_failure(self, job: JobRecord) -> None:
        """Tell the user the job failed, why, and that the Stars are back."""
        ...

    async def progress(self, job: JobRecord) -> None:
        """Show the job's new state in its status message (throttled; never raises)."""
        ...

    async def alert_admins(self, text: str) -> None:
        """Send an operational alert to every admin chat."""
        ...

    async def tell_refund(self, notice: RefundNotice) -> bool:
        """Tell the user, in their language, that Stars were given back for a job or that
        a payment was refunded; False when it could not be sent (never raises)."""
        ...


class NullMessenger:
    """For runs with no chat side (CLI support commands without a bot token): delivers
    nothing, so succeeded jobs with a chat stay for the server to deliver."""

    async def deliver(
        self, job: JobRecord, *, free: bool = False, returned: int = 0
    ) -> str | None:
        raise DeliveryFailed("no Telegram bot configured in this process")

    async def resend(self, job: JobRecord, chat_id: int, *, free: bool = False) -> None:
        raise DeliveryFailed("no Telegram bot configured in this process", final=True)

    async def tell_failure(self, job: JobRecord) -> None:
        return None

    async def progress(self, job: JobRecord) -> None:
        return None

    async def alert_admins(self, text: str) -> None:
        return None

    async def tell_refund(self, notice: RefundNotice) -> bool:
        return False


class ModelSwitch(Protocol):
    """Takes a model off sale for every instance (`trt.core.controls.Controls` implements
    it; the cost guard calls it when COST_GUARD_AUTO_DISABLE is on). Jobs already running
    finish."""

    async def disable(self, model_id: str, *, actor: str, reason: str) -> object:
        """Disable `model_id` for every instance, recorded (audit log) as done by `actor`
        for `reason`; a disabled model stays disabled."""


class AnnouncementUncertain(TrtError):
    """Telegram may or may not have delivered an announcement (the network failed, or
    Telegram answered 5xx): it is not sent again."""


class Announcer(Protocol):
    """Broadcasts as the chat side sends them (implemented in trt.bot.announcer)."""

    async def announce(self, chat_id: int, text: str) -> tuple[RecipientState, str | None]:
        """Send `text` (HTML) to a private chat, paced with the bot's own traffic; SENT,
        BLOCKED (403) or FAILED (refused otherwise), with Telegram's words when refused.

        Raises: AnnouncementUncertain.
        """
        ...

    async def report(self, broadcast: BroadcastRecord) -> None:
        """Tell whoever started the broadcast how it went (never raises)."""
        ...


class StarPayments(Protocol):
    """Telegram's side of Stars payments, for refunds (implemented in trt.bot.stars)."""

    async def refund(self, user_id: int, charge_id: str) -> None:
        """refundStarPayment; a charge Telegram already refunded counts as done.

        Raises: RefundFailed.
        """
        ...


class KieReader(Protocol):
    """Read-only KIE calls: safe to repeat, used by polling and support."""

    async def get_task(self, family: Family, task_id: KieTaskId) -> TaskRecord:
        """The task's current record. Raises: KieNotFound, KieError."""
        ...

    async def credits(self) -> Decimal:
        """The account's remaining credits. Raises: KieError."""
        ...

    async def download_url(self, url: str) -> str:
        """A 20-minute direct link for a KIE-made file. Raises: KieValidationError, KieError."""
        ...

    async def veo_1080p(self, task_id: KieTaskId, index: int | None = None) -> str:
        """The 1080p URL of a finished Veo video. Raises: KieNotReady while it is made."""
        ...


class KieApi(KieReader, Protocol):
    """Every KIE call trt makes."""

    async def create_task(self, request: CreateTask) -> KieTaskId:
        """Start a generation. Raises: KieError (see `nothing_created` on each class)."""
        ...

    async def upload_file(self, name: str, content: bytes, mime: str) -> str:
        """Upload a file (multipart stream) and return its temporary URL. Raises: KieError."""
        ...

    async def upload_base64(self, name: str, content: bytes, mime: str) -> str:
        """Upload a small file as base64 JSON and return its temporary URL. Raises: KieError."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class LeaderLock(Protocol):
    async def try_acquire(self) -> bool:
        """Take leadership if nobody holds it; True when this process is the leader."""
        ...

    async def still_held(self) -> bool:
        """False when leadership was lost (e.g. the database connection dropped)."""
        ...

    async def release(self) -> None: ...


# Now, as an aware UTC datetime; tests pass their own.
Clock = Callable[[], datetime]


class TelegramAccount(Protocol):
    """The bot's Telegram account as `trt verify` checks it (implemented in trt.bot)."""

    async def describe(self, *, expected_webhook: str | None) -> str:
        """One line: the bot's name, pending updates, the webhook's last error.

        Raises: TelegramCheckFailed when the token is refused or the webhook is not the
        expected one.
        """
        ...
