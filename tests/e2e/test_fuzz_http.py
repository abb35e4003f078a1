"""Property: whatever arrives at `trt serve`'s endpoints — any update type, wrong types,
huge and negative numbers, deep nesting, odd Unicode, raw bytes, bodies split across TCP
writes — the answer is never a 5xx, the server keeps serving, and without the secret
nothing changes."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import SECRETS, USER, Stack, server_metric
from tests.e2e.test_endpoints import CALLBACK, HOOK
from tests.e2e.test_hostile_http import raw_exchange
from trt.domain import TgUserId

UPDATE_TYPES = [
    "message", "edited_message", "channel_post", "edited_channel_post", "business_message",
    "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
    "pre_checkout_query", "poll", "poll_answer", "my_chat_member", "chat_member",
    "chat_join_request", "message_reaction", "purchased_paid_media",
]  # fmt: skip
WEIRD_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from("²\u202e\u200b\x00"),
    max_size=40,
)
NUMBERS = st.integers() | st.sampled_from([2**63, 2**64, -(2**63) - 1, 10**30]) | st.floats()
SCALARS = st.none() | st.booleans() | NUMBERS | WEIRD_TEXT
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(WEIRD_TEXT, inner, max_size=4),
    max_leaves=12,
)


DEEP = "deep-nesting-goes-here"  # json.dumps cannot write what Python cannot nest


def nested(depth: int) -> bytes:
    return b'{"a": ' * depth + b"{}" + b"}" * depth


@st.composite
def plausible_update(draw: st.DrawFn) -> dict[str, Any]:
    """An update shaped like Telegram's, with any field possibly of the wrong type."""
    kind = draw(st.sampled_from(UPDATE_TYPES))
    user = {"id": draw(st.sampled_from([USER, 0, -1, 2**63, 2**64]) | NUMBERS), "is_bot": False,
            "first_name": draw(WEIRD_TEXT)}  # fmt: skip
    chat = {"id": user["id"], "type": draw(st.sampled_from(["private", "group", "x"]))}
    event: dict[str, Any] = {
        "message_id": draw(NUMBERS), "date": draw(NUMBERS), "chat": chat, "from": user,
        "text": draw(st.sampled_from(["/start", "/topup ²", "/topup " + "9" * 5000]) | WEIRD_TEXT),
        "id": draw(WEIRD_TEXT | NUMBERS), "data": draw(WEIRD_TEXT), "query": draw(WEIRD_TEXT),
        "invoice_payload": draw(WEIRD_TEXT), "total_amount": draw(NUMBERS), "currency": "XTR",
    }  # fmt: skip
    for key in draw(st.lists(st.sampled_from(sorted(event)), max_size=3)):
        event[key] = draw(JSON)  # the wrong type where a field should be
    event["extra"] = draw(st.sampled_from([None, DEEP]) | JSON)
    update_id = draw(st.integers(0, 2**31) | NUMBERS | WEIRD_TEXT)
    return {"update_id": update_id, kind: draw(st.just(event) | JSON)}


def encode(payload: Any) -> bytes:
    return json.dumps(payload).encode().replace(f'"{DEEP}"'.encode(), nested(2_000))


BODIES = (
    plausible_update().map(encode)
    | JSON.map(encode)
    | st.binary(max_size=200)
    | st.sampled_from([b"[" * 3000, b"{" * 3000, b'{"update_id": 1, "x": "\\udfff"}'])
)
HEADER_VALUES = st.sampled_from(
    [
        None,
        SECRETS["webhook_secret_token"],
        SECRETS["webhook_secret_token"],
        "wrong",
        b"\xff\xfe",
        b"\xc3(",
        "é" * 10,
    ]
)
PATHS = st.sampled_from(
    [HOOK, HOOK, HOOK, CALLBACK, "/webhook/guess", "/callbacks/kie/guess", "/metrics"]
)


def request_head(
    path: str, body: bytes, secret: str | bytes | None, encoding: str | None
) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: x",
        "Connection: close",
        f"Content-Length: {len(body)}",
    ]
    head = "\r\n".join(lines).encode() + b"\r\n"
    if secret is not None:
        raw = secret.encode() if isinstance(secret, str) else secret
        head += b"X-Telegram-Bot-Api-Secret-Token: " + raw + b"\r\n"
        head += b"X-Webhook-Signature: " + raw + b"\r\nX-Webhook-Timestamp: 1\r\n"
    if encoding is not None:
        head += f"Content-Encoding: {encoding}\r\n".encode()
    return head + b"\r\n"


def split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(body)) for c in cuts} | {0, len(body)})
    return [body[a:b] for a, b in zip(points, points[1:], strict=False)] or [b""]


async def balance(stack: Stack) -> int:
    return (await stack.services.store.users.get(TgUserId(USER))).balance


class TestFuzzedRequests:
    @settings(
        max_examples=300, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )  # fmt: skip
    @given(
        path=PATHS, body=BODIES, secret=HEADER_VALUES,
        encoding=st.sampled_from([None, None, None, "gzip", "identity"]),
        cuts=st.lists(st.integers(0, 5000), max_size=3),
    )  # fmt: skip
    async def test_no_5xx_and_no_change_without_the_secret(  # noqa: PLR0917 - drawn values
        self, stack: Stack, path: str, body: bytes, secret: Any, encoding: str | None,
        cuts: list[int], caplog: pytest.LogCaptureFixture,
    ) -> None:  # fmt: skip
        """Every generated request is answered below 500 and logs no error (the bot takes
        or ignores what was stored); one without the right secret (or to a wrong path) is
        refused and records nothing."""
        caplog.set_level(logging.WARNING)
        before = await server_metric(stack, 'trt_updates_total{outcome="new"}')
        money = await balance(stack)
        head = request_head(path, body, secret, encoding)
        status, _ = await raw_exchange(stack, head, *split(body, cuts))
        assert status < 500, (status, path, body[:200])
        authorised = path == CALLBACK or (
            path == HOOK and secret == SECRETS["webhook_secret_token"]
        )
        if not authorised:
            assert status in (401, 404, 405, 415), (status, path)
            assert await server_metric(stack, 'trt_updates_total{outcome="new"}') == before
            assert await balance(stack) == money
        # Earlier examples' updates are processed meanwhile: none of them may fail either.
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert not errors
