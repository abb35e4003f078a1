"""Updates made by hand and posted straight to `trt serve`'s webhook, for tests that choose
update ids and payloads themselves (backlogs, id restarts, unstorable text), and the count
of answers the Telegram emulator received for them.

Each update is a `/start` whose sender's first name carries a tag ("u<update_id>" unless
told otherwise); the bot greets by first name, so every greeting names the one update it
answers.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from sqlalchemy import func, select

from tests.e2e.conftest import SECRETS
from trt.sandbox.telegram.core import TelegramEmulator
from trt.store.engine import Database, create_database
from trt.store.tables import telegram_updates

GREETING = re.compile(r"Hello, u(\d+)\b")


def start_update(
    update_id: int, user: int, *, name: str | None = None, text: str = "/start"
) -> dict[str, Any]:
    """A private `/start` from `user`, greeted as `name` (by default its tag, u<update_id>);
    `text` may add to the command."""
    sender = {"id": user, "is_bot": False, "first_name": name or f"u{update_id}",
              "language_code": "en"}  # fmt: skip
    message = {"message_id": update_id, "date": 1_700_000_000, "text": text,
               "chat": {"id": user, "type": "private", "first_name": "U"}, "from": sender,
               "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}  # fmt: skip
    return {"update_id": update_id, "message": message}


async def post_updates(
    port: int, updates: Sequence[dict[str, Any]], *, concurrency: int = 64
) -> list[int]:
    """POST every update to the webhook at `port`, `concurrency` at a time; the statuses.

    Bodies are encoded with `json.dumps` defaults, so a lone surrogate or a NUL travels as
    the \\udc80 / \\u0000 escape Telegram would send."""
    url = f"http://127.0.0.1:{port}/webhook/{SECRETS['webhook_secret_path']}"
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRETS["webhook_secret_token"],
               "Content-Type": "application/json"}  # fmt: skip
    statuses = [0] * len(updates)
    turns = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def post(index: int) -> None:
            async with (
                turns,
                http.post(url, data=json.dumps(updates[index]), headers=headers) as r,
            ):
                await r.read()
                statuses[index] = r.status

        await asyncio.gather(*(post(i) for i in range(len(updates))))
    return statuses


def greeted(tg: TelegramEmulator) -> Counter[int]:
    """How many times each tagged update was answered: greetings Telegram accepted."""
    answered: Counter[int] = Counter()
    for call in tg.calls_to("sendMessage"):
        found = GREETING.search(str(call.params.get("text", ""))) if call.ok else None
        if found:
            answered[int(found.group(1))] += 1
    return answered


def missing_or_repeated(answered: Counter[int], expected: Iterable[int]) -> str:
    """A short report of expected updates answered other than once ("" when none)."""
    wanted = set(expected)
    missing = sorted(wanted - set(answered))
    twice = sorted(u for u, n in answered.items() if n > 1)
    strays = sorted(set(answered) - wanted)
    if not (missing or twice or strays):
        return ""
    return (f"{len(missing)} missing {missing[:10]}, {len(twice)} answered more than once "
            f"{twice[:10]}, {len(strays)} unexpected {strays[:10]}")  # fmt: skip


@asynccontextmanager
async def open_database(url: str) -> AsyncIterator[Database]:
    db = create_database(url)
    try:
        yield db
    finally:
        await db.dispose()


async def claimed_ids(db: Database) -> set[int]:
    """Update ids of unprocessed updates some worker claimed (it may since have died)."""
    query = select(telegram_updates.c.update_id).where(
        telegram_updates.c.processed_at.is_(None), telegram_updates.c.claimed_by.is_not(None)
    )
    async with db.transaction(readonly=True) as conn:
        return set((await conn.execute(query)).scalars())


async def processed_by(db: Database) -> Counter[str]:
    """How many updates each worker process (its claim owner token) marked processed."""
    owner = telegram_updates.c.claimed_by
    query = (
        select(owner, func.count())
        .where(telegram_updates.c.processed_at.is_not(None))
        .group_by(owner)
    )
    async with db.transaction(readonly=True) as conn:
        return Counter({str(o): int(n) for o, n in await conn.execute(query)})


async def unprocessed(db: Database) -> int:
    """Updates stored in the inbox and not yet marked processed."""
    query = select(func.count()).where(telegram_updates.c.processed_at.is_(None))
    async with db.transaction(readonly=True) as conn:
        return int((await conn.execute(query)).scalar_one())
