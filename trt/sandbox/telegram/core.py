"""The emulator's state and the hooks tests use; served over HTTP by `routes.build_app`."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout

from trt.sandbox.clock import Clock, ManualClock
from trt.sandbox.telegram import actors
from trt.sandbox.telegram.errors import ApiError, blocked, chat_not_found
from trt.sandbox.telegram.files import FileStore
from trt.sandbox.telegram.limits import FloodControl
from trt.sandbox.telegram.model import (
    Call,
    ChatHistory,
    ChatMessage,
    ChatType,
    EmulatorOptions,
    Payment,
    TgChat,
    TgUser,
)
from trt.sandbox.telegram.updates import LOCAL_HOSTS, UpdateHub
from trt.sandbox.telegram.waiting import Notifier

T = TypeVar("T")
UserRef = TgUser | int
ChatRef = TgChat | TgUser | int


class TelegramEmulator:
    """One bot's view of Telegram: its chats, files, updates and every API call it made."""

    def __init__(self, options: EmulatorOptions, clock: Clock) -> None:
        self.options = options
        self.clock = clock
        self.base_url = ""
        self.notifier = Notifier()
        self.files = FileStore()
        self.flood = FloodControl(options, clock)
        self.updates = UpdateHub(options, self.notifier)
        self.calls: list[Call] = []
        self.users: dict[int, TgUser] = {}
        self.histories: dict[int, ChatHistory] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.pre_checkouts: dict[str, asyncio.Future[tuple[bool, str | None]]] = {}
        self.payments: dict[str, Payment] = {}  # by telegram_payment_charge_id
        self.invoice_links: dict[str, dict[str, Any]] = {}
        self.delays: dict[str, float] = {}  # lower-cased method -> seconds before answering
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._groups = itertools.count(1)
        self._session: ClientSession | None = None

    @property
    def token(self) -> str:
        return self.options.token

    def bot_json(self) -> dict[str, Any]:
        return {
            "id": self.options.bot_id,
            "is_bot": True,
            "first_name": self.options.bot_first_name,
            "username": self.options.bot_username,
        }

    # --- recording and waiting ---------------------------------------------------------

    def record(self, call: Call) -> None:
        self.calls.append(call)
        self.notifier.notify()

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls of `method` (case-insensitive, as Telegram matches it)."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    # The timeouts below are guards against a hung test, so they belong in the signature.
    async def wait_for(
        self,
        predicate: Callable[[list[Call]], T],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> T:
        """The first truthy `predicate(calls)`, re-evaluated after every call and update."""
        return await self.notifier.until(lambda: predicate(self.calls), timeout, "wait_for")

    async def wait_for_call(
        self,
        method: str,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Call:
        """The `count`-th recorded call of `method`, once it has happened."""

        def nth() -> Call | None:
            found = self.calls_to(method)
            return found[count - 1] if len(found) >= count else None

        return await self.notifier.until(nth, timeout, f"call {method} #{count}")

    async def wait_for_message(
        self,
        chat: ChatRef,
        predicate: Callable[[ChatMessage], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        after: int | None = None,
    ) -> ChatMessage:
        """The bot's next message in `chat` (or the first matching `predicate`): the first
        after message `after` (a `bot_message_mark` taken before sending what it answers,
        as the reply may come before the sender gets its response), else after the newest
        there is now."""
        history = self.chat(chat)
        seen = self.bot_message_mark(chat) if after is None else after
        check = predicate or (lambda m: m.message_id > seen)

        def found() -> ChatMessage | None:
            return next((m for m in history.bot_messages() if check(m)), None)

        return await self.notifier.until(found, timeout, f"a bot message in {history.chat.id}")

    def bot_message_mark(self, chat: ChatRef) -> int:
        """The id of the bot's newest message in `chat` (0 when there is none)."""
        return max((m.message_id for m in self.chat(chat).bot_messages()), default=0)

    async def advance(self, seconds: float) -> None:
        """Move a `ManualClock` forward (flood limits refill) and wake waiters."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs the emulator to run on a ManualClock")
        self.clock.advance(seconds)
        self.notifier.notify()

    def delay(self, method: str, seconds: float) -> None:
        """Answer every later call of `method` `seconds` (real time) late, as a slow Bot API
        does; 0 answers at once again. The call is recorded when it is answered."""
        if seconds < 0:
            raise ValueError("a delay cannot be negative")
        if seconds:
            self.delays[method.lower()] = seconds
        else:
            self.delays.pop(method.lower(), None)

    # --- users and chats ---------------------------------------------------------------

    def user(self, user_id: int, **fields: Any) -> TgUser:
        """The user `user_id`, created on first use; `fields` update it (language_code…)."""
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = TgUser(id=user_id, **fields)
            self.histories[user_id] = ChatHistory(TgChat(user_id, "private", user=user))
        for name, value in fields.items():
            setattr(user, name, value)
        return user

    def group(
        self,
        title: str = "Test group",
        *,
        chat_id: int | None = None,
        kind: ChatType = "supergroup",
    ) -> TgChat:
        """A new group chat the bot is in."""
        chat_id = chat_id if chat_id is not None else -1_001_000_000_000 - next(self._groups)
        chat = TgChat(chat_id, kind, title=title)
        self.histories[chat_id] = ChatHistory(chat)
        return chat

    def block(self, user: UserRef, blocked: bool = True) -> None:
        """The user blocks (or unblocks) the bot: sends to them answer 403."""
        self._user(user).blocked = blocked

    def chat(self, target: ChatRef) -> ChatHistory:
        """A chat's history (a user means their private chat); LookupError if unknown."""
        chat_id = target if isinstance(target, int) else target.id
        history = self.histories.get(chat_id)
        if history is None:
            raise LookupError(f"no chat {chat_id}: create it with emu.user() or emu.group()")
        return history

    def _user(self, user: UserRef) -> TgUser:
        return self.user(user) if isinstance(user, int) else user

    def _chat_for(self, user: TgUser, chat: TgChat | None) -> ChatHistory:
        return self.chat(chat if chat is not None else user)

    def target_chat(self, chat_id: int) -> ChatHistory:
        """The chat a bot request names; 400 when unknown, 403 when its user blocked us."""
        history = self.histories.get(chat_id)
        if history is None:
            raise chat_not_found()
        if history.chat.user is not None and history.chat.user.blocked:
            raise blocked()
        return history

    def check_flood(self, history: ChatHistory) -> None:
        self.flood.check(history.chat.id, group=history.chat.type != "private")

    def add_message(
        self, history: ChatHistory, *, sender: TgUser | None, **fields: Any
    ) -> ChatMessage:
        """Append a message (the bot's when `sender` is None) with the chat's next id."""
        counter = self._message_ids.setdefault(history.chat.id, itertools.count(1))
        message = ChatMessage(
            message_id=next(counter),
            chat=history.chat,
            sender=sender.to_json() if sender else self.bot_json(),
            date=int(time.time()),
            from_bot=sender is None,
            **fields,
        )
        history.messages.append(message)
        self.notifier.notify()
        return message

    def bot_message(self, chat_id: int, message_id: int, missing: str) -> ChatMessage:
        """A live message of `chat_id`, or the 400 `missing` describes."""
        history = self.target_chat(chat_id)
        try:
            message = history.get(message_id)
        except LookupError:
            raise ApiError(400, f"Bad Request: {missing}") from None
        if message.deleted:
            raise ApiError(400, f"Bad Request: {missing}")
        return message

    # --- what users do (see `actors`) --------------------------------------------------

    async def send_text(
        self, user: UserRef, text: str, *, chat: TgChat | None = None
    ) -> ChatMessage:
        """The user sends `text`; /commands carry ``bot_command`` entities."""
        user = self._user(user)
        return await actors.send_text(self, user, self._chat_for(user, chat), text)

    async def click(
        self,
        user: UserRef,
        message_id: int,
        callback_data: str | None = None,
        *,
        text: str | None = None,
        chat: TgChat | None = None,
        forge: bool = False,
    ) -> str:
        """The user presses a button (by data or label); returns the callback query id.

        Raises:
            LookupError: no such live bot message or button, unless `forge` is set.
        """
        user = self._user(user)
        history = self._chat_for(user, chat)
        return await actors.click(
            self, user, history, message_id, data=callback_data, label=text, forge=forge
        )

    async def send_file(
        self,
        user: UserRef,
        kind: str,
        data: bytes,
        *,
        caption: str | None = None,
        chat: TgChat | None = None,
        **details: Any,
    ) -> ChatMessage:
        """The user sends a photo/video/audio/document/voice; `details`: file_name,
        mime_type, width, height, duration."""
        user = self._user(user)
        history = self._chat_for(user, chat)
        return await actors.send_file(
            self, user, history, kind, data=data, caption=caption, details=details
        )

    async def send_photo(self, user: UserRef, data: bytes, **kw: Any) -> ChatMessage:
        return await self.send_file(user, "photo", data, **kw)

    async def send_document(self, user: UserRef, data: bytes, **kw: Any) -> ChatMessage:
        return await self.send_file(user, "document", data, **kw)

    async def send_video(self, user: UserRef, data: bytes, **kw: Any) -> ChatMessage:
        return await self.send_file(user, "video", data, **kw)

    async def send_voice(self, user: UserRef, data: bytes, **kw: Any) -> ChatMessage:
        return await self.send_file(user, "voice", data, **kw)

    async def send_audio(self, user: UserRef, data: bytes, **kw: Any) -> ChatMessage:
        return await self.send_file(user, "audio", data, **kw)

    async def pay(
        self,
        user: UserRef,
        invoice_message_id: int | None = None,
        *,
        link: str | None = None,
        chat: TgChat | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - how long the bot may take to answer
    ) -> Payment:
        """The user pays an invoice message (or an invoice link): pre_checkout_query, the
        bot's answer, then successful_payment when the bot said ok."""
        user = self._user(user)
        history = self._chat_for(user, chat)
        wait = self.options.pre_checkout_timeout if timeout is None else timeout
        return await actors.pay(
            self, user, history, message_id=invoice_message_id, link=link, wait=wait
        )

    # --- plumbing ----------------------------------------------------------------------

    async def fetch_local(self, url: str) -> bytes | None:
        """The body at `url` if it is on this machine and fetching is on; None otherwise.

        Raises:
            ApiError: the local URL could not be fetched (Telegram's 400).
        """
        if not self.options.fetch_local_urls or urlsplit(url).hostname not in LOCAL_HOSTS:
            return None
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=30))
        try:
            async with self._session.get(url) as answer:
                data = await answer.read()
                ok = answer.status == 200 and len(data) <= self.options.download_limit
        except (ClientError, TimeoutError):
            ok = False
        if not ok:
            raise ApiError(400, "Bad Request: failed to get HTTP URL content")
        return data

    async def close(self) -> None:
        for waiting in self.pre_checkouts.values():
            waiting.cancel()
        await self.updates.close()
        if self._session is not None:
            await self._session.close()
