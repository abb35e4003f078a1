"""Handler latency: webhook update → the bot's first outgoing API call (as the fake Telegram
sees it) for `/start`, a catalogue button and a wizard step (the prompt typed into the form),
for `trt serve` (child process, KIE emulated) beside two aiogram webhook bots answering the
same kinds of update, against the Telegram emulator (flood limits off):

- the recording bot, the fair baseline: before Telegram gets its 200 it inserts and commits
  the update_id in the same kind of database through the same driver as trt (aiosqlite on
  an SQLite file in WAL mode, or asyncpg on trt's Postgres database), the least a bot that
  never loses or repeats an update must do;
- the bare bot, which stores nothing (shown for scale, no target).

Each trt user goes /start → 🖼 Images → Nano Banana → ✨ Start → "a cat", one step at a
time; a baseline user sends the same kinds of update. The three bots run for the whole
measurement and users take turns between them, one starting every 0.3 s, so all meet the
same machine (a noisy spell hits each) and the same idle gaps; the rate stays below trt's
own pacing (28 messages/s), so the figure is the handlers', not the queue's. 200 users a
bot make the p99 a real percentile (with 80 it would be the maximum).
Target: trt's p99 ≤ 2× the recording bot's, for each kind.

    python -m bench.bot_latency [DATABASE_URL]

Without an argument trt and the recording bot each get a fresh SQLite file; with a Postgres
URL, the run creates an empty database on that server for both and drops it at the end.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._servers import (
    Poster,
    Target,
    Updates,
    echo_bot,
    percentile,
    recording_bot,
    scratch_database,
    trt_serve,
    update_key,
)
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


Sides = dict[str, Samples]


async def measure(database_url: str | None = None) -> Sides:
    """Samples of each bot ("bare", "recording", "trt"), users taking turns between them;
    trt and the recording bot on `database_url` (an empty database) or fresh SQLite files."""
    store: dict[str, Any] = {"DATABASE_URL": database_url} if database_url else {}
    sides: Sides = {name: {kind: [] for kind in KINDS} for name in ("bare", "recording", "trt")}
    with tempfile.TemporaryDirectory() as folder:
        for name in sides:
            (Path(folder) / name).mkdir()
        async with (
            run_telegram_emulator(flood_limits=False) as tg,
            echo_bot(tg, Path(folder) / "bare") as bare,
            recording_bot(tg, Path(folder) / "recording", database_url) as recording,
            trt_serve(tg, Path(folder) / "trt", **store) as trt,
        ):
            updates = Updates(tg)
            turns = [
                (Flow(tg, bare, updates), echo_user, sides["bare"]),
                (Flow(tg, recording, updates), echo_user, sides["recording"]),
                (Flow(tg, trt, updates), trt_user, sides["trt"]),
            ]
            for n, (flow, walk, _) in enumerate(turns):  # warm-up
                await walk(flow, 1 + n, {kind: [] for kind in KINDS})
            for n in range(USERS):
                for side, (flow, walk, samples) in enumerate(turns):
                    began = time.monotonic()
                    await walk(flow, 10 + len(turns) * n + side, samples)
                    await asyncio.sleep(max(0.0, EVERY - (time.monotonic() - began)))
            for flow, _, _ in turns:
                await flow.poster.close()
    return sides


def ms(samples: list[float], share: float) -> float:
    return percentile(samples, share) * 1000


async def main() -> None:
    async with scratch_database(sys.argv[1] if len(sys.argv) > 1 else None) as url:
        sides = await measure(url)
    store = "Postgres" if url and url.startswith("postgres") else "SQLite"
    print(f"{store}: {USERS} users a bot, taking turns, one every {EVERY} s; "
          "update → first outgoing call, ms")  # fmt: skip
    trt, rec, bare = sides["trt"], sides["recording"], sides["bare"]
    for kind in KINDS:
        t, r, b = trt[kind], rec[kind], bare[kind]
        ratio = ms(t, 0.99) / ms(r, 0.99)
        print(f"{kind:17} trt p50 {ms(t, 0.5):5.1f} p99 {ms(t, 0.99):5.1f} | "
              f"recording p50 {ms(r, 0.5):5.1f} p99 {ms(r, 0.99):5.1f} | "
              f"bare p50 {ms(b, 0.5):4.1f} p99 {ms(b, 0.99):5.1f} | "
              f"p99 ratio {ratio:4.2f}x (target ≤ 2x) {verdict(ratio <= 2)}")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
