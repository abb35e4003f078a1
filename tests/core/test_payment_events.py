"""Every payment that moves money or is turned away is one log line with its ids and reason."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.core.test_payments import ANN, KEY, FakeStars, paid_stars
from tests.store.conftest import database, store  # noqa: F401 - both backends
from trt.core import payments
from trt.settings import Settings
from trt.store.sql import SqlStore

SETTINGS = Settings(_env_file=None)


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[Any]:
    """The records of event `name`; Any: their fields are attributes mypy cannot know."""
    return [r for r in caplog.records if getattr(r, "event", None) == name]


class TestPaymentEvents:
    async def test_credited_once_with_user_charge_and_amount(
        self, store: SqlStore, caplog: pytest.LogCaptureFixture,  # noqa: F811
    ) -> None:  # fmt: skip
        """A top-up is one `payment_credited` line; the repeated update adds none."""
        await store.users.ensure(ANN)
        payload = payments.new_invoice(KEY, ANN, 250, 5).payload
        for _ in range(2):
            await payments.complete(store, SETTINGS, KEY, paid_stars(payload, "ch-1", 250), None)
        (line,) = events(caplog, "payment_credited")
        assert line.getMessage().startswith(
            f"payment_credited user_id={ANN} charge_id=ch-1 amount=250 bonus="
        )

    async def test_rejected_and_refunded(
        self, store: SqlStore, caplog: pytest.LogCaptureFixture,  # noqa: F811
    ) -> None:  # fmt: skip
        """A banned user's payment: `payment_rejected` saying why, then `payment_refunded`."""
        await store.users.ensure(ANN)
        await store.users.set_banned(ANN, True)
        payload = payments.new_invoice(KEY, ANN, 100, 0).payload
        await payments.complete(store, SETTINGS, KEY, paid_stars(payload, "ch-2"), FakeStars())
        (rejected,) = events(caplog, "payment_rejected")
        assert (rejected.user_id, rejected.charge_id, rejected.amount) == (ANN, "ch-2", 100)
        assert "banned" in rejected.reason
        (refunded,) = events(caplog, "payment_refunded")
        assert (refunded.user_id, refunded.charge_id) == (ANN, "ch-2")

    async def test_refund_failure_is_an_error_line(
        self, store: SqlStore, caplog: pytest.LogCaptureFixture,  # noqa: F811
    ) -> None:  # fmt: skip
        await store.users.ensure(ANN)
        stars = FakeStars(refuse=True)
        await payments.complete(store, SETTINGS, KEY, paid_stars("junk", "ch-3"), stars)
        (failed,) = events(caplog, "payment_refund_failed")
        assert failed.levelno == logging.ERROR
        assert "CHARGE_NOT_FOUND" in failed.getMessage()

    async def test_operator_refund(
        self, store: SqlStore, caplog: pytest.LogCaptureFixture,  # noqa: F811
    ) -> None:  # fmt: skip
        """`trt payments refund` (core's refund) logs the Stars taken back and the reason."""
        await store.users.ensure(ANN)
        payload = payments.new_invoice(KEY, ANN, 100, 0).payload
        await payments.complete(store, SETTINGS, KEY, paid_stars(payload, "ch-4"), None)
        await payments.refund(store, FakeStars(), "ch-4", reason="asked by user")
        (refunded,) = events(caplog, "payment_refunded")
        assert refunded.getMessage() == (
            f"payment_refunded user_id={ANN} charge_id=ch-4 amount=100 taken_back=100 "
            'reason="asked by user"'
        )
