"""What the Telegram emulator remembers: users, chats, messages, files and API calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

MB = 1024 * 1024

ChatType = Literal["private", "group", "supergroup"]
MediaKind = Literal["photo", "video", "audio", "document", "voice"]
MEDIA_KINDS: tuple[MediaKind, ...] = ("photo", "video", "audio", "document", "voice")


@dataclass
class EmulatorOptions:
    """How the emulator behaves; every field can be passed to `run_telegram_emulator`."""

    token: str = "123456789:TEST-emulator-token"
    bot_username: str = "trt_test_bot"
    bot_first_name: str = "trt test bot"
    flood_limits: bool = True  # False: no 429s at all (benchmarks)
    bot_rate: float = 30.0  # messages per second per bot, sustained
    bot_burst: int = 30
    chat_rate: float = 1.0  # messages per second per private chat, sustained
    chat_burst: int = 3  # Telegram lets a short burst through before flood control
    group_rate: float = 20 / 60  # messages per second per group (20 per minute)
    group_burst: int = 5
    upload_limit: int = 50 * MB  # any multipart file
    photo_limit: int = 10 * MB
    download_limit: int = 20 * MB  # getFile refuses bigger files
    fetch_local_urls: bool = True  # fetch media URLs on 127.0.0.1/localhost (never elsewhere)
    webhook_attempts: int = 3  # the first try plus retries on non-2xx
    webhook_retry_delay: float = 0.05  # real seconds, doubled per attempt
    pre_checkout_timeout: float = 10.0  # Telegram waits 10 s for answerPreCheckoutQuery

    @property
    def bot_id(self) -> int:
        return int(self.token.split(":", 1)[0])


@dataclass
class TgUser:
    """A Telegram user who talks to the bot; `blocked` makes every send to them a 403."""

    id: int
    first_name: str = "Test"
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False
    blocked: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "is_bot": self.is_bot,
            "first_name": self.first_name,
        }
        optional = {
            "last_name": self.last_name,
            "username": self.username,
            "language_code": self.language_code,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        return data


@dataclass
class TgChat:
    id: int
    type: ChatType
    title: str | None = None
    user: TgUser | None = None  # the other side of a private chat

    def to_json(self) -> dict[str, Any]:
        if self.user is not None:
            data = {"id": self.id, "type": self.type, "first_name": self.user.first_name}
            if self.user.username:
                data["username"] = self.user.username
            return data
        return {"id": self.id, "type": self.type, "title": self.title or "Group"}


@dataclass
class StoredFile:
    """One file the emulator holds; `data` is None for a URL it did not fetch."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes | None
    file_path: str
    mime_type: str | None = None
    file_name: str | None = None
    url: str | None = None
    width: int = 0
    height: int = 0
    duration: int = 0

    @property
    def size(self) -> int | None:
        return None if self.data is None else len(self.data)

    def base_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.size is not None:
            data["file_size"] = self.size
        return data


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass
class ChatMessage:
    """A message in a chat, as it stands now (edits update it; deletes mark it)."""

    message_id: int
    chat: TgChat
    sender: dict[str, Any]
    date: int
    from_bot: bool
    text: str | None = None
    caption: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    kind: str = "text"  # text, photo, video, audio, document, voice, invoice, payment
    file: StoredFile | None = None
    media: dict[str, Any] = field(default_factory=dict)  # the message's media fields
    extra: dict[str, Any] = field(default_factory=dict)  # invoice, successful_payment…
    media_group_id: str | None = None
    payload: str | None = None  # an invoice's payload (never shown in the chat)
    edit_date: int | None = None
    edits: int = 0
    deleted: bool = False

    def buttons(self) -> list[Button]:
        """The inline keyboard's buttons, row by row, flattened."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [
            Button(b.get("text", ""), b.get("callback_data"), b.get("url"))
            for row in rows
            for b in row
        ]

    def button(self, text: str) -> Button:
        """The inline button labelled `text`; LookupError when there is none."""
        for candidate in self.buttons():
            if candidate.text == text:
                return candidate
        raise LookupError(f"no button {text!r} on message {self.message_id}")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat.to_json(),
            "date": self.date,
        }
        entity_key = "entities" if self.text is not None else "caption_entities"
        optional = {
            "text": self.text,
            "caption": self.caption,
            entity_key: self.entities or None,
            "reply_markup": self._echoed_markup(),
            "media_group_id": self.media_group_id,
            "edit_date": self.edit_date,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        data.update(self.media)
        data.update(self.extra)
        return data

    def _echoed_markup(self) -> dict[str, Any] | None:
        # Telegram echoes only inline keyboards back in the sent Message.
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            return self.reply_markup
        return None


@dataclass
class ChatHistory:
    """Every message of one chat, the user's and the bot's, in order."""

    chat: TgChat
    messages: list[ChatMessage] = field(default_factory=list)

    def bot_messages(self) -> list[ChatMessage]:
        """The bot's messages that are still there."""
        return [m for m in self.messages if m.from_bot and not m.deleted]

    def user_messages(self) -> list[ChatMessage]:
        return [m for m in self.messages if not m.from_bot]

    def last(self) -> ChatMessage:
        """The bot's latest message still in the chat; LookupError when there is none."""
        live = self.bot_messages()
        if not live:
            raise LookupError(f"the bot sent nothing (still present) to chat {self.chat.id}")
        return live[-1]

    def get(self, message_id: int) -> ChatMessage:
        for message in self.messages:
            if message.message_id == message_id:
                return message
        raise LookupError(f"no message {message_id} in chat {self.chat.id}")

    def texts(self) -> list[str]:
        """Text or caption of each bot message still there."""
        return [m.text or m.caption or "" for m in self.bot_messages()]


@dataclass(frozen=True)
class Call:
    """One Bot API request: method as called, params as parsed, and the answer."""

    method: str
    params: dict[str, Any]
    at: float  # emulator clock
    ok: bool
    result: Any = None
    error_code: int | None = None
    description: str | None = None


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to POST an update to the webhook; `status` None: unreachable."""

    update_id: int
    url: str
    headers: dict[str, str]
    status: int | None
    attempt: int


@dataclass
class Payment:
    """The outcome of `pay`: answered ok (then charged) or refused with the bot's message."""

    query_id: str
    user_id: int
    ok: bool
    error_message: str | None = None
    charge_id: str | None = None
    total_amount: int = 0
    currency: str = "XTR"
    payload: str = ""
    refunded: bool = False
