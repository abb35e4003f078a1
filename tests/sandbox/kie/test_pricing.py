"""What the emulator bills a task: the registry's quote, times an overcharge for chosen
models, reported as the callback's consumeCredits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.sandbox.kie.receiver import CallbackReceiver
from tests.sandbox.kie.test_emulator import emulated, market
from trt.catalog.paths import default_registry_dir
from trt.catalog.registry import Registry
from trt.kie.callbacks import parse_callback
from trt.sandbox.kie.pricing import parse_overcharge, registry_pricer

NANO = "google/nano-banana"  # 4 credits a picture in the registry


@pytest.fixture(scope="module")
def pricer():
    return registry_pricer(Registry.load(default_registry_dir()))


async def consumed(receiver: CallbackReceiver, **options) -> Decimal | None:
    async with emulated(**options) as (emu, client):
        await client.create_task(market(receiver.url))
        await emu.advance(10)
    [got] = receiver.received
    return parse_callback(got.body).consumed_credits


class TestEmulatorBilling:
    def test_the_registry_prices_a_request_as_trt_quotes_it(self, pricer) -> None:
        """A request is priced by its model's rule; a model trt does not know is not."""
        assert pricer(NANO, {"prompt": "x", "output_format": "png"}) == Decimal(4)
        assert pricer("no/such-model", {"prompt": "x"}) is None

    async def test_callbacks_report_the_quote(self, receiver: CallbackReceiver, pricer) -> None:
        """With the registry's prices, consumeCredits is what trt quoted."""
        assert await consumed(receiver, price=pricer) == Decimal(4)

    async def test_an_overcharged_model_reports_more(
        self, receiver: CallbackReceiver, pricer
    ) -> None:
        """--overcharge google/nano-banana=2.5 bills 2.5 × 4 credits, from the account too."""
        async with emulated(price=pricer, overcharge={NANO: Decimal("2.5")}) as (emu, client):
            before = await client.credits()
            await client.create_task(market(receiver.url))
            await emu.advance(10)
            assert before - await client.credits() == Decimal(10)
        [got] = receiver.received
        assert got.json["data"]["consumeCredits"] == 10

    async def test_fractions_are_reported_as_they_are(self, receiver: CallbackReceiver) -> None:
        """A fractional bill is not rounded away in the callback."""
        assert await consumed(receiver, overcharge={NANO: Decimal("0.25")}) == Decimal("2.5")

    @pytest.mark.parametrize("text", ["nano", "=2", "m=0", "m=-1", "m=x", "m=nan"])
    def test_a_bad_overcharge_names_the_form(self, text: str) -> None:
        """Anything but MODEL=FACTOR with a factor above 0 is refused."""
        with pytest.raises(ValueError, match="expected MODEL=FACTOR"):
            parse_overcharge(text)

    def test_an_overcharge_keeps_slashes_in_the_model(self) -> None:
        """KIE model names hold slashes (and could hold "="): the factor is after the last."""
        assert parse_overcharge("wan/2-2=1.5") == ("wan/2-2", Decimal("1.5"))
