"""The cost guard: does what KIE really charges for a model still leave the margin we sell it at?

After a job's real credits are recorded, the model's last `jobs` measured jobs (those KIE
gave a figure for; unmeasured ones prove nothing) are judged together: the Stars they sold
for against the USD their real credits cost. A window that loses money, or keeps less than
`min_margin` of its revenue, opens an episode: one log line, one alert to the admins and,
with `auto_disable`, the model taken off sale. The episode is stored, so every instance
sees it and nobody alerts twice; a window that passes again closes it, and a later trip
alerts again. This catches billing rules the docs leave open: a price rule that undercounts
(input seconds billed too, per-megapixel rounding up, per started 1,000 characters) shows as
real credits above the quote.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from trt.core.ports import Clock, Messenger, ModelSwitch
from trt.domain import CreditSource
from trt.errors import TrtError
from trt.kie.base import TaskRecord
from trt.logs import log_event
from trt.records import MeasuredJob

if TYPE_CHECKING:
    from trt.core.repos import CostRepo
    from trt.settings import Settings

logger = logging.getLogger(__name__)

ACTOR = "cost-guard"  # who disabled the model, in model control's audit log
# The disable's reason, which users see when they pick the model: the margin figures stay
# with the operators (the alert, the `cost_guard_tripped` line).
USER_REASON = "paused while its price is reviewed"


@dataclass(frozen=True, slots=True)
class GuardPolicy:
    jobs: int  # the window: this many measured jobs, the newest
    min_margin: Decimal  # a share of revenue
    auto_disable: bool
    usd_per_credit: Decimal
    usd_per_star: Decimal

    @classmethod
    def from_settings(cls, settings: Settings) -> GuardPolicy:
        return cls(
            jobs=settings.cost_guard_jobs,
            min_margin=Decimal(str(settings.cost_guard_min_margin)),
            auto_disable=settings.cost_guard_auto_disable,
            usd_per_credit=Decimal(str(settings.usd_per_credit)),
            usd_per_star=Decimal(str(settings.usd_per_star)),
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """One model's window, in credits and USD."""

    model_id: str
    jobs: int
    quoted_credits: Decimal
    real_credits: Decimal
    revenue_usd: Decimal  # what the jobs sold for: their Star prices × USD_PER_STAR
    cost_usd: Decimal  # real credits × USD_PER_CREDIT

    @property
    def margin(self) -> Decimal | None:
        """(revenue − real cost) ÷ revenue; None when nothing was sold for money."""
        if not self.revenue_usd:
            return None
        return (self.revenue_usd - self.cost_usd) / self.revenue_usd

    def problem(self, min_margin: Decimal) -> str | None:
        """Why the window fails, or None when it passes."""
        if self.cost_usd > self.revenue_usd:
            return f"real cost ${self.cost_usd:.4f} exceeds revenue ${self.revenue_usd:.4f}"
        margin = self.margin
        if margin is not None and margin < min_margin:
            return f"real margin {margin:.1%} is below {min_margin:.1%}"
        return None


def judge(model_id: str, window: list[MeasuredJob], policy: GuardPolicy) -> Verdict:
    quoted = sum((Decimal(str(j.quoted_credits)) for j in window), Decimal(0))
    real = sum((Decimal(str(j.real_credits)) for j in window), Decimal(0))
    stars = sum(j.price_stars for j in window)
    return Verdict(
        model_id, len(window), quoted, real,
        revenue_usd=stars * policy.usd_per_star, cost_usd=real * policy.usd_per_credit,
    )  # fmt: skip


def real_credits(
    record: TaskRecord, reported: Decimal | None
) -> tuple[float | None, CreditSource]:
    """What KIE says a succeeded task consumed, and where it said so. The callback's figure
    comes first; a record rarely carries one (recordInfo documents none). With neither the
    job stays unmeasured: the quote is never passed off as the real cost."""
    if reported is not None:
        return float(reported), CreditSource.CALLBACK
    if record.credits_consumed is not None:
        return float(record.credits_consumed), CreditSource.POLL
    return None, CreditSource.NONE


class CostGuard:
    def __init__(
        self,
        *,
        costs: CostRepo,
        messenger: Messenger,
        switch: ModelSwitch,
        policy: GuardPolicy,
        clock: Clock,
    ) -> None:
        self.costs = costs
        self.messenger = messenger
        self.switch = switch
        self.policy = policy
        self._clock = clock

    async def check(self, model_id: str) -> Verdict | None:
        """Judge the model's window (None until it holds `jobs` measured jobs); open or
        close its episode accordingly."""
        window = await self.costs.window(model_id, jobs_back=self.policy.jobs)
        if len(window) < self.policy.jobs:
            return None
        verdict = judge(model_id, window, self.policy)
        problem = verdict.problem(self.policy.min_margin)
        if problem is None:
            if await self.costs.recover(model_id, at=self._clock()):
                self._log("cost_guard_recovered", logging.INFO, verdict, "margin restored")
        elif await self.costs.trip(model_id, detail=problem, at=self._clock()):
            await self._tripped(verdict, problem)
        return verdict

    async def check_quietly(self, model_id: str) -> None:
        """`check` for the settlement path: a failing guard must not hold up a delivery."""
        try:
            await self.check(model_id)
        except TrtError as exc:
            logger.warning("cost guard for %s skipped: %s", model_id, exc)

    async def _tripped(self, verdict: Verdict, problem: str) -> None:
        disable = self.policy.auto_disable
        self._log("cost_guard_tripped", logging.WARNING, verdict, problem, auto_disable=disable)
        if disable:  # before the alert: paced sends to the admins can take a while
            await self.switch.disable(verdict.model_id, actor=ACTOR, reason=USER_REASON)
        action = "it was disabled" if disable else "it stays on sale (COST_GUARD_AUTO_DISABLE)"
        await self.messenger.alert_admins(
            f"Cost guard: {verdict.model_id} — {problem} over its last {verdict.jobs} jobs "
            f"(quoted {_amount(verdict.quoted_credits)} credits, KIE charged "
            f"{_amount(verdict.real_credits)}); "
            f"{action}"
        )

    def _log(self, event: str, level: int, v: Verdict, reason: str, **extra: object) -> None:
        margin = v.margin
        log_event(
            logger, event, level=level, stacklevel=3, model=v.model_id, jobs=v.jobs,
            quoted_credits=_amount(v.quoted_credits), real_credits=_amount(v.real_credits),
            revenue_usd=f"{v.revenue_usd:.4f}", cost_usd=f"{v.cost_usd:.4f}",
            margin=None if margin is None else f"{margin:.4f}", reason=reason, **extra,
        )  # fmt: skip


def _amount(credits: Decimal) -> str:
    """12, not 12.0 (floats from the database) nor 1.2E+1."""
    return f"{credits.normalize():f}"
