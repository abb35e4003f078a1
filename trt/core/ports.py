"""What the pipeline needs from the chat side, implemented by trt.bot (and by test fakes)."""

from __future__ import annotations

from typing import Protocol

from trt.errors import TrtError
from trt.store.base import JobRecord


class DeliveryFailed(TrtError):
    """A result could not reach the chat; `final` when retrying cannot help (user blocked)."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


class Messenger(Protocol):
    async def deliver(self, job: JobRecord) -> str | None:
        """Send the job's result to its chat; returns the Telegram file_id if there is one.

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


class NullMessenger:
    """For runs with no chat side (CLI support commands without a bot token): delivers
    nothing, so succeeded jobs with a chat stay for the server to deliver."""

    async def deliver(self, job: JobRecord) -> str | None:
        raise DeliveryFailed("no Telegram bot configured in this process")

    async def tell_failure(self, job: JobRecord) -> None:
        return None

    async def progress(self, job: JobRecord) -> None:
        return None

    async def alert_admins(self, text: str) -> None:
        return None


class StarPayments(Protocol):
    """Telegram's side of Stars payments, for refunds (implemented in trt.bot.stars)."""

    async def refund(self, user_id: int, charge_id: str) -> None:
        """refundStarPayment; a charge Telegram already refunded counts as done.

        Raises: RefundFailed.
        """
        ...
