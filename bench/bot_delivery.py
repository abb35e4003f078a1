"""Result delivery under Telegram's flood control: 1,000 results to 1,000 different chats
through the real `TelegramMessenger` and the bot's session pacing (`trt.bot.flood`), against
the Telegram emulator enforcing ~30 messages/s per bot (429 with retry_after beyond it).

Same-run baseline: a bare aiogram bot sending the same 1,000 photos all at once.
Targets: zero 429s received by trt, and ≥ 90 % of the allowed rate (30 messages/s).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramRetryAfter

from bench._timing import verdict
from trt.bot.client import make_bot
from trt.bot.messenger import TelegramMessenger
from trt.catalog.paths import default_registry_dir
from trt.catalog.registry import Registry
from trt.domain import JobId, JobState, TgUserId
from trt.records import JobRecord
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.runner import run_telegram_emulator

RESULTS = 1_000
ALLOWED = 30.0  # messages/s per bot, the emulator's (and Telegram's) sustained limit
FIRST_CHAT = 500_000


def job(n: int) -> JobRecord:
    now = datetime.now(UTC)
    return JobRecord(
        id=JobId(f"job{n:023d}"), user_id=TgUserId(FIRST_CHAT + n), model_id="google/nano-banana",
        api_family="market", params={"prompt": "a cat"}, state=JobState.SUCCEEDED,
        price_stars=3, kie_credits=4.0, kie_task_id=f"task_{n}", request_key=None,
        chat_id=FIRST_CHAT + n, status_message_id=None,
        result_urls=(f"https://cdn.example/results/{n}.png",), result_file_id=None, error=None,
        deadline_at=None, next_check_at=None, delivery_attempts=0, created_at=now, updated_at=now,
    )  # fmt: skip


def users(tg: TelegramEmulator) -> None:
    for n in range(RESULTS):
        tg.user(FIRST_CHAT + n)


async def english(_: int) -> str | None:
    return "en"


async def trt_run() -> tuple[float, int, int]:
    """Seconds for all deliveries, 429s received, deliveries that failed."""
    async with run_telegram_emulator() as tg:
        users(tg)
        bot = make_bot(tg.token, api_base_url=tg.base_url)
        messenger = TelegramMessenger(
            bot, registry=Registry.load(default_registry_dir()), admin_ids=frozenset(),
            languages=english, emulator=False,
        )  # fmt: skip
        started = time.perf_counter()
        results = await asyncio.gather(
            *(messenger.deliver(job(n)) for n in range(RESULTS)), return_exceptions=True
        )
        elapsed = time.perf_counter() - started
        await bot.session.close()
        refused = sum(c.error_code == 429 for c in tg.calls)
    return elapsed, refused, sum(isinstance(r, BaseException) for r in results)


async def bare_run() -> tuple[int, int]:
    """A bare aiogram bot sending everything at once: (sent, 429s)."""
    async with run_telegram_emulator() as tg:
        users(tg)
        bot = Bot(tg.token, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url)))
        sends = [
            bot.send_photo(FIRST_CHAT + n, f"https://cdn.example/{n}.png") for n in range(RESULTS)
        ]
        results = await asyncio.gather(*sends, return_exceptions=True)
        await bot.session.close()
    refused = sum(isinstance(r, TelegramRetryAfter) for r in results)
    return RESULTS - refused, refused


async def main() -> None:
    bare_sent, bare_refused = await bare_run()
    elapsed, refused, failed = await trt_run()
    rate = RESULTS / elapsed
    share = rate / ALLOWED
    print(f"bare aiogram, all at once: {bare_sent} sent, {bare_refused} answered 429")
    print(f"trt (TelegramMessenger + session pacing): {RESULTS} results in {elapsed:.1f} s = "
          f"{rate:.1f} messages/s; {refused} 429s received; {failed} failed")  # fmt: skip
    print(f"429s: {refused} (target 0) {verdict(refused == 0 and failed == 0)}")
    print(
        f"rate: {share:.0%} of the allowed {ALLOWED:.0f}/s (target ≥ 90 %) {verdict(share >= 0.9)}"
    )


if __name__ == "__main__":
    asyncio.run(main())
