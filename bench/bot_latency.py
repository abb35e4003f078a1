"""Handler latency: webhook update → the bot's first outgoing API call (as the fake Telegram
sees it) for `/start`, a catalogue button and a wizard step (the prompt typed into the form),
for `trt serve` (child process, SQLite file, KIE emulated) beside a bare aiogram webhook
bot answering the same kinds of update, against the Telegram emulator (flood limits off).

Each trt user goes /start → 🖼 Images → Nano Banana → ✨ Start → "a cat", one step at a
time; a bare-bot user sends the same kinds of update. Both bots run for the whole
measurement and users alternate between them, one starting every 0.3 s, so both meet the
same machine (a noisy spell hits both) and the same idle gaps; the rate stays below trt's
own pacing (28 messages/s), so the figure is the handlers', not the queue's. 200 users a
bot make the p99 a real percentile (with 80 it would be the maximum).
Target: trt's p99 ≤ 2× the bare bot's, for each kind.

    python -m bench.bot_latency [DATABASE_URL]   # default: a fresh SQLite file
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._servers import Poster, Target, Updates, echo_bot, percentile, trt_serve, update_key
from bench._timing import verdict
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.model import ChatMessage
from trt.sandbox.telegram.runner import run_telegram_emulator

USERS = 200  # per bot
EVERY = 0.3
KINDS = ("/start", "catalogue button", "wizard step")
Samples = dict[str, list[float]]


class Flow:
    def __init__(self, tg: TelegramEmulator, target: Target, updates: Updates) -> None:
        self.tg = tg
        self.poster = Poster(target.webhook_url, 4)
        self.updates = updates

    async def step(self, update: dict[str, object], user: int, wait_for: str) -> float:
        """POST `update`; the seconds until its first call; then wait for button `wait_for`."""
        key, mark = update_key(update), len(self.tg.calls)
        before = self._shown(user)
        started = time.monotonic()
        await self.poster.post(update)
        call = await self.tg.wait_for(lambda calls: next(
            (c for c in calls[mark:] if _names(c.params) == key), None), timeout=30)  # fmt: skip
        await self.button(user, wait_for, changed_from=before)
        assert call is not None
        return call.at - started

    def _shown(self, user: int) -> tuple[int, str | None] | None:
        messages = self.tg.chat(user).bot_messages()
        return (messages[-1].message_id, messages[-1].text) if messages else None

    async def button(self, user: int, label: str, changed_from: object = False) -> ChatMessage:
        """The bot's last message once it shows `label` (and differs from `changed_from`)."""

        def found() -> ChatMessage | None:
            messages = self.tg.chat(user).bot_messages()
            last = messages[-1] if messages else None
            ok = last is not None and any(b.text.startswith(label) for b in last.buttons())
            return last if ok and self._shown(user) != changed_from else None

        shown = await self.tg.wait_for(lambda _: found(), timeout=30)
        assert shown is not None
        return shown


def _names(params: dict[str, object]) -> str:
    query = params.get("callback_query_id")
    return f"q{query}" if query is not None else f"c{params.get('chat_id')}"


async def trt_user(flow: Flow, user: int, samples: Samples) -> None:
    u = flow.updates
    samples["/start"].append(await flow.step(u.message(user, "/start"), user, "🖼 Images"))
    menu = await flow.button(user, "🖼 Images")
    samples["catalogue button"].append(
        await flow.step(u.click(user, menu, "🖼 Images"), user, "Nano Banana")
    )
    await flow.step(
        u.click(user, await flow.button(user, "Nano Banana"), "Nano Banana"), user, "✨ Start"
    )
    await flow.step(u.click(user, await flow.button(user, "✨ Start"), "✨ Start"), user, "")
    samples["wizard step"].append(await flow.step(u.message(user, "a cat"), user, "🚀 Generate"))


async def echo_user(flow: Flow, user: int, samples: Samples) -> None:
    u = flow.updates
    samples["/start"].append(await flow.step(u.message(user, "/start"), user, "🖼 Images"))
    menu = await flow.button(user, "🖼 Images")
    samples["catalogue button"].append(
        await flow.step(u.click(user, menu, "🖼 Images"), user, "🖼 Images")
    )
    samples["wizard step"].append(await flow.step(u.message(user, "a cat"), user, "🖼 Images"))


async def measure(database_url: str | None = None) -> tuple[Samples, Samples]:
    """(bare bot's samples, trt's samples), users alternating between the two; trt on
    `database_url` (an empty database) or else a fresh SQLite file."""
    store: dict[str, Any] = {"DATABASE_URL": database_url} if database_url else {}
    bare: Samples = {kind: [] for kind in KINDS}
    trt: Samples = {kind: [] for kind in KINDS}
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "echo").mkdir()
        (Path(folder) / "trt").mkdir()
        async with (
            run_telegram_emulator(flood_limits=False) as tg,
            echo_bot(tg, Path(folder) / "echo") as echo_target,
            trt_serve(tg, Path(folder) / "trt", **store) as trt_target,
        ):
            updates = Updates(tg)
            sides = [
                (Flow(tg, echo_target, updates), echo_user, bare),
                (Flow(tg, trt_target, updates), trt_user, trt),
            ]
            for flow, walk, _ in sides:  # warm-up
                await walk(flow, 1 if walk is echo_user else 2, {kind: [] for kind in KINDS})
            for n in range(USERS):
                for side, (flow, walk, samples) in enumerate(sides):
                    began = time.monotonic()
                    await walk(flow, 3 + 2 * n + side, samples)
                    await asyncio.sleep(max(0.0, EVERY - (time.monotonic() - began)))
            for flow, _, _ in sides:
                await flow.poster.close()
    return bare, trt


async def main() -> None:
    base, trt = await measure(sys.argv[1] if len(sys.argv) > 1 else None)
    print(f"{USERS} users a bot, alternating, one every {EVERY} s; "
          "update → first outgoing call, ms")  # fmt: skip
    for kind in KINDS:
        b50, b99 = (percentile(base[kind], q) * 1000 for q in (0.5, 0.99))
        t50, t99 = (percentile(trt[kind], q) * 1000 for q in (0.5, 0.99))
        ratio = t99 / b99
        print(f"{kind:17} trt p50 {t50:6.1f} p99 {t99:6.1f} | bare aiogram p50 {b50:5.1f} "
              f"p99 {b99:5.1f} | p99 ratio {ratio:4.2f}x (target ≤ 2x) "
              f"{verdict(ratio <= 2)}")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
