"""A Telegram Bot API emulator: a real aiohttp server the unchanged bot talks to.

    async with run_telegram_emulator(clock=ManualClock()) as tg:
        bot = Bot(tg.token, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url)))
        user = tg.user(42, language_code="ru")
        mark = tg.bot_message_mark(user)              # the reply may beat send_text back
        await tg.send_text(user, "/start")            # an update for the bot
        reply = await tg.wait_for_message(user, after=mark)  # the bot's answer, no sleeping
        await tg.click(user, reply.message_id, reply.buttons()[0].callback_data)

It serves ``{base}/bot{token}/{method}`` (JSON, form or multipart bodies, any letter
case) and ``{base}/file/bot{token}/{path}``, for one bot token (any other is 401).
Updates go to the webhook the bot sets or to getUpdates. Telegram's limits apply
(texts, captions, callback data, uploads, flood control on the emulator's clock);
``flood_limits=False`` turns flood control off; ``tg.delay("answerCallbackQuery", 1.5)``
makes one method slow. It listens on 127.0.0.1, delivers
webhooks and fetches media URLs only there, and is not a production server.
"""

from trt.sandbox.clock import ManualClock, RealClock
from trt.sandbox.telegram.core import TelegramEmulator
from trt.sandbox.telegram.errors import ApiError
from trt.sandbox.telegram.model import (
    Button,
    Call,
    ChatHistory,
    ChatMessage,
    EmulatorOptions,
    Payment,
    StoredFile,
    TgChat,
    TgUser,
    WebhookDelivery,
)
from trt.sandbox.telegram.runner import run_telegram_emulator
from trt.sandbox.telegram.updates import SECRET_HEADER

__all__ = [
    "SECRET_HEADER",
    "ApiError",
    "Button",
    "Call",
    "ChatHistory",
    "ChatMessage",
    "EmulatorOptions",
    "ManualClock",
    "Payment",
    "RealClock",
    "StoredFile",
    "TelegramEmulator",
    "TgChat",
    "TgUser",
    "WebhookDelivery",
    "run_telegram_emulator",
]
