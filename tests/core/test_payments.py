from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from tests.store.conftest import database, store  # noqa: F401 - both backends
from trt.core import payments
from trt.core.payments import PaidStars
from trt.domain import PaymentStatus, RefusalReason, TgUserId
from trt.errors import ConfigError, PaymentRefused, RefundFailed
from trt.settings import Settings, load_settings
from trt.store.sql import SqlStore

KEY = payments.payment_key(Settings(_env_file=None), "1:token")
ANN = TgUserId(951)


@dataclass
class FakeStars:
    """Implements StarPayments: records refunds; can be told to refuse."""

    refunded: list[str] = field(default_factory=list)
    refuse: bool = False

    async def refund(self, user_id: int, charge_id: str) -> None:
        if self.refuse:
            raise RefundFailed("CHARGE_NOT_FOUND")
        self.refunded.append(charge_id)


@dataclass
class FlakyStars(FakeStars):
    """Refuses the first `failures` refunds, then agrees."""

    failures: int = 0

    async def refund(self, user_id: int, charge_id: str) -> None:
        if self.failures:
            self.failures -= 1
            raise RefundFailed("Telegram hiccup")
        await super().refund(user_id, charge_id)


def alert_into(alerts: list[str]) -> Callable[[str], Awaitable[None]]:
    async def alert(text: str) -> None:
        alerts.append(text)

    return alert


def record_into(sleeps: list[float]) -> Callable[[float], Awaitable[None]]:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return sleep


def reason(payload: str) -> str:
    with pytest.raises(PaymentRefused) as caught:
        payments.read_payload(KEY, payload)
    return caught.value.reason


class TestPayload:
    def test_round_trip(self) -> None:
        """A payload we signed reads back as the same invoice and fits Telegram's 128 bytes."""
        invoice = payments.new_invoice(KEY, TgUserId(10**12), 10_000, 15)
        assert payments.read_payload(KEY, invoice.payload) == invoice
        assert len(invoice.payload.encode()) <= 128
        assert invoice.bonus == 1500

    def test_tampered_or_foreign_payloads_are_forged(self) -> None:
        """A changed amount, another key's signature or garbage are all refused as forged."""
        payload = payments.new_invoice(KEY, ANN, 100, 0).payload
        other = payments.payment_key(Settings(_env_file=None), "2:other")
        assert reason(payload.replace(":100:", ":900:")) == RefusalReason.FORGED
        assert reason(payments.new_invoice(other, ANN, 100, 0).payload) == RefusalReason.FORGED
        assert reason("topup:100") == RefusalReason.FORGED

    @pytest.mark.parametrize("payload", ["t1:1:50:0:ab:é", "é:" * 5, "t1:²:5:0:n:x", "\udcff"])
    def test_non_ascii_payloads_are_forged_not_crashed_on(self, payload: str) -> None:
        """Any Unicode in a payload (even a lone surrogate) is a refusal, not a TypeError."""
        assert reason(payload) == RefusalReason.FORGED

    def test_payment_secret_replaces_the_token(self) -> None:
        """With PAYMENT_SECRET set, the key no longer depends on the bot token."""
        settings = Settings(_env_file=None, payment_secret="s3cret")
        assert payments.payment_key(settings, "1:a") == payments.payment_key(settings, "2:b")


class TestOffers:
    def test_packages_and_custom_amounts(self) -> None:
        """Packages carry their bonus; other amounts within the limits have none."""
        settings = Settings(_env_file=None, topup_packages="50,250:5", topup_min=20)
        assert [payments.bonus_pct_for(settings, n) for n in (50, 250, 30, 10, 20_000)] == [
            0, 5, 0, None, None,
        ]  # fmt: skip

    def test_bad_settings_are_config_errors(self) -> None:
        """A malformed package list or inverted limits name the variable."""
        with pytest.raises(ConfigError, match="TOPUP_PACKAGES"):
            load_settings(_env_file=None, topup_packages="50,abc")
        with pytest.raises(ConfigError, match="TOPUP_MIN"):
            load_settings(_env_file=None, topup_min=500, topup_max=100)


def paid_stars(payload: str, charge: str = "ch", amount: int = 100) -> PaidStars:
    return PaidStars(ANN, charge, None, amount, "XTR", payload)


class TestComplete:
    async def test_banned_users_payment_is_rejected_and_refunded(self, store: SqlStore) -> None:  # noqa: F811
        """A user banned between pre-checkout and payment is not credited; Stars go back."""
        await store.users.ensure(ANN)
        await store.users.set_banned(ANN, True)
        stars = FakeStars()
        payload = payments.new_invoice(KEY, ANN, 100, 0).payload
        settings = Settings(_env_file=None)
        result = await payments.complete(store, settings, KEY, paid_stars(payload), stars)
        assert (result.payment.status, result.balance, stars.refunded) == (
            PaymentStatus.REFUNDED, 0, ["ch"],
        )  # fmt: skip
        assert result.payment.note == "rejected: banned"

    async def test_refused_refund_is_retried_then_alerted(self, store: SqlStore) -> None:  # noqa: F811
        """When Telegram refuses every try, the payment stays rejected for the operator,
        after three tries spaced by the retry delays, and the admins get one alert."""
        await store.users.ensure(ANN)
        sleeps: list[float] = []
        alerts: list[str] = []
        refunds = payments.Refunds(
            FakeStars(refuse=True), alert=alert_into(alerts), sleep=record_into(sleeps)
        )
        result = await payments.complete(
            store, Settings(_env_file=None), KEY, paid_stars("junk"), refunds
        )
        assert (result.payment.status, result.balance) == (PaymentStatus.REJECTED, 0)
        assert sleeps == list(payments.REFUND_RETRY_DELAYS)
        assert len(alerts) == 1 and "trt payments refund ch" in alerts[0]

    async def test_a_refund_refused_once_succeeds_on_retry(self, store: SqlStore) -> None:  # noqa: F811
        """A passing refusal (Telegram hiccups) is retried: refunded, no alert."""
        await store.users.ensure(ANN)
        stars = FlakyStars(failures=1)
        alerts: list[str] = []
        refunds = payments.Refunds(stars, alert=alert_into(alerts), sleep=record_into([]))
        result = await payments.complete(
            store, Settings(_env_file=None), KEY, paid_stars("junk"), refunds
        )
        assert (result.payment.status, stars.refunded, alerts) == (
            PaymentStatus.REFUNDED, ["ch"], [],
        )  # fmt: skip

    @pytest.mark.parametrize("amount", [2**64, -1, 2**31])
    async def test_an_amount_past_the_column_is_recorded_as_zero(
        self,
        store: SqlStore,  # noqa: F811
        amount: int,
    ) -> None:
        """A total_amount no column holds is refused, recorded (as 0) and refunded."""
        await store.users.ensure(ANN)
        stars = FakeStars()
        payload = payments.new_invoice(KEY, ANN, 100, 0).payload
        result = await payments.complete(
            store, Settings(_env_file=None), KEY, paid_stars(payload, amount=amount), stars
        )
        assert (result.payment.status, result.payment.amount) == (PaymentStatus.REFUNDED, 0)
        assert result.payment.note == "rejected: amount"

    async def test_amount_checked_again_on_payment(self, store: SqlStore) -> None:  # noqa: F811
        """A successful_payment whose amount differs from the signed one credits nothing."""
        await store.users.ensure(ANN)
        payload = payments.new_invoice(KEY, ANN, 100, 0).payload
        result = await payments.complete(
            store, Settings(_env_file=None), KEY, paid_stars(payload, amount=1), None
        )
        assert (result.payment.note, result.balance) == ("rejected: amount", 0)
        assert await store.ledger.entries(user_id=ANN) == []
