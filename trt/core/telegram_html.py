"""A text checked as Telegram parses it with parse_mode=HTML (the bot's default), so an
announcement that Telegram would refuse with "can't parse entities" or "message is too
long" is refused when it is written, not 1,000 times while it is sent."""

from __future__ import annotations

import html
import re

from trt.errors import BroadcastTextInvalid

MESSAGE_LIMIT = 4096  # UTF-16 code units of the text Telegram shows, tags not counted
# The tags Telegram's HTML parse mode knows (https://core.telegram.org/bots/api#html-style).
TAGS = frozenset({
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "code", "pre", "blockquote", "tg-emoji",
})  # fmt: skip
_TAG = re.compile(r"<(/?)([^\s<>/]*)([^<>]*)>")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);?")
_NAMED = frozenset({"lt", "gt", "amp", "quot"})  # the only named entities Telegram takes


def plain_length(source: str) -> int:
    """What Telegram counts against its limit: the shown text in UTF-16 code units.

    Raises: BroadcastTextInvalid naming the first problem (a tag, an entity, nesting).
    """
    shown: list[str] = []
    stack: list[str] = []
    position = 0
    for match in _TAG.finditer(source):
        shown.append(_unescape(source[position : match.start()]))
        position = match.end()
        closing, name = match.group(1) == "/", match.group(2).lower()
        if not closing:
            _check_open(name, match.group(3))
            stack.append(name)
        elif not stack:
            raise BroadcastTextInvalid(f"</{name}> closes a tag that was never opened")
        elif name and name != stack[-1]:
            raise BroadcastTextInvalid(f"</{name}> found where </{stack[-1]}> was expected")
        else:
            stack.pop()
    tail = source[position:]
    if "<" in tail:
        raise BroadcastTextInvalid('a "<" that starts no tag: write it as &lt;')
    if stack:
        raise BroadcastTextInvalid(f"<{stack[-1]}> is never closed")
    shown.append(_unescape(tail))
    return len("".join(shown).encode("utf-16-le")) // 2


def check(source: str) -> str:
    """The text, stripped, when Telegram would send it. Raises: BroadcastTextInvalid."""
    text = source.strip()
    if not text:
        raise BroadcastTextInvalid("the text is empty")
    length = plain_length(text)
    if length == 0:
        raise BroadcastTextInvalid("the text shows nothing once its tags are removed")
    if length > MESSAGE_LIMIT:
        raise BroadcastTextInvalid(
            f"{length} characters; Telegram takes at most {MESSAGE_LIMIT} in one message"
        )
    return text


def _check_open(name: str, attributes: str) -> None:
    if name not in TAGS:
        allowed = ", ".join(sorted(TAGS))
        raise BroadcastTextInvalid(f"<{name}> is not a tag Telegram supports ({allowed})")
    if name == "a" and "href" not in attributes:
        raise BroadcastTextInvalid('<a> needs an href="…"')


def _unescape(chunk: str) -> str:
    for match in _ENTITY.finditer(chunk):
        name = match.group(1)
        if not name.startswith("#") and name.lower() not in _NAMED:
            raise BroadcastTextInvalid(
                f"&{name}; is not an entity Telegram knows: write & as &amp;"
            )
    return html.unescape(chunk)
