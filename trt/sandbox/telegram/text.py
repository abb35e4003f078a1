"""Message text as Telegram checks it: parse modes, entities, length limits, keyboards."""

from __future__ import annotations

import html
import re
from typing import Any

from trt.sandbox.telegram.errors import bad_request

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes, UTF-8

Entity = dict[str, Any]

_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link",
    "code": "code", "pre": "pre", "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip
_TAG = re.compile(r"<(/?)([^\s<>/]*)([^<>]*)>")
_HREF = re.compile(r"""href\s*=\s*["']([^"']*)["']""")
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")
_MD2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MD2_TOGGLES = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough",
                "||": "Spoiler"}  # fmt: skip


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cant_parse(reason: str) -> Exception:
    return bad_request(f"can't parse entities: {reason}")


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode())


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Plain text and entities of an HTML-formatted text; unbalanced tags are a 400."""
    out: list[str] = []
    stack: list[tuple[str, int, str]] = []
    entities: list[Entity] = []
    position = 0
    for match in _TAG.finditer(source):
        out.append(html.unescape(source[position : match.start()]))
        position = match.end()
        closing, name, attrs = match.group(1) == "/", match.group(2).lower(), match.group(3)
        offset = _byte_offset(source, match.start())
        here = utf16_len("".join(out))
        if not closing:
            if name not in _HTML_TAGS:
                raise _cant_parse(f'Unsupported start tag "{name}" at byte offset {offset}')
            stack.append((name, here, attrs))
            continue
        if not stack:
            raise _cant_parse(f"Unexpected end tag at byte offset {offset}")
        opened, start, opened_attrs = stack.pop()
        if name and name != opened:
            raise _cant_parse(
                f'Unmatched end tag at byte offset {offset}, expected "</{opened}>", '
                f'found "</{name}>"'
            )
        entity: Entity = {"type": _HTML_TAGS[opened], "offset": start, "length": here - start}
        href = _HREF.search(opened_attrs)
        if opened == "a" and href:
            entity["url"] = href.group(1)
        if entity["length"]:
            entities.append(entity)
    tail = source[position:]
    if "<" in tail:
        offset = _byte_offset(source, position + tail.index("<"))
        raise _cant_parse(f"Unclosed start tag at byte offset {offset}")
    out.append(html.unescape(tail))
    if stack:
        raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def parse_markdown_v2(source: str) -> str:
    """Plain text of a MarkdownV2 text; an unescaped reserved character is a 400."""
    parser = _MarkdownV2(source)
    return parser.run()


class _MarkdownV2:
    def __init__(self, source: str) -> None:
        self.source = source
        self.out: list[str] = []
        self.open_marks: dict[str, int] = {}
        self.in_code = False
        self.link_depth = 0

    def run(self) -> str:
        index = 0
        while index < len(self.source):
            index = self._step(index)
        if self.in_code:
            raise _cant_parse("Can't find end of Pre entity")
        if self.open_marks:
            mark, offset = next(iter(self.open_marks.items()))
            name = _MD2_TOGGLES[mark]
            raise _cant_parse(f"Can't find end of {name} entity at byte offset {offset}")
        return "".join(self.out)

    def _step(self, index: int) -> int:
        """Consume what starts at `index`; the index after it."""
        source = self.source
        char, pair = source[index], source[index : index + 2]
        if char == "\\" and index + 1 < len(source):
            self.out.append(source[index + 1])
            return index + 2
        if char == "`":
            self.in_code = not self.in_code
            return index + (3 if source.startswith("```", index) else 1)
        if self.in_code:
            self.out.append(char)
            return index + 1
        if pair in ("__", "||") or char in "*_~":
            mark = pair if pair in ("__", "||") else char
            if self.open_marks.pop(mark, None) is None:
                self.open_marks[mark] = _byte_offset(source, index)
            return index + len(mark)
        return self._plain(index, char)

    def _plain(self, index: int, char: str) -> int:
        source = self.source
        if char == "[":
            self.link_depth += 1
        elif char == "]" and self.link_depth and source.startswith("(", index + 1):
            end = source.find(")", index)
            if end < 0:
                raise _cant_parse(f"Can't find end of a URL at byte offset {index}")
            self.link_depth -= 1
            return end + 1
        elif char == ">" and (index == 0 or source[index - 1] == "\n"):
            pass
        elif char in _MD2_RESERVED:
            raise _cant_parse(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            self.out.append(char)
        return index + 1


def parse_markdown(source: str) -> str:
    """Plain text of a legacy Markdown text; an entity left open is a 400."""
    out: list[str] = []
    open_at: tuple[str, int] | None = None
    for index, char in enumerate(source):
        if char in "*_`[" and (open_at is None or open_at[0] == char):
            open_at = None if open_at else (char, index)
        elif char == "]" and open_at and open_at[0] == "[":
            open_at = None
        else:
            out.append(char)
    if open_at is not None:
        offset = _byte_offset(source, open_at[1])
        raise _cant_parse(f"Can't find end of the entity starting at byte offset {offset}")
    return "".join(out)


def formatted(source: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """The text Telegram stores for `source` under `parse_mode`, with its entities."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(source)
    if mode == "markdownv2":
        return parse_markdown_v2(source), []
    if mode == "markdown":
        return parse_markdown(source), []
    if mode:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    return source, []


def message_text(source: str, parse_mode: str | None, entities: Any) -> tuple[str, list[Entity]]:
    """A message text checked the way sendMessage checks it."""
    text, parsed = formatted(source, parse_mode)
    if not text.strip():
        raise bad_request("message text is empty")
    if len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    return text, parsed or _entity_list(entities)


def caption_text(
    source: str | None, parse_mode: str | None, entities: Any
) -> tuple[str | None, list[Entity]]:
    if source is None or source == "":
        return None, []
    text, parsed = formatted(source, parse_mode)
    if len(text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return text, parsed or _entity_list(entities)


def _entity_list(entities: Any) -> list[Entity]:
    return [e for e in entities if isinstance(e, dict)] if isinstance(entities, list) else []


def command_entities(text: str) -> list[Entity]:
    """``bot_command`` entities for every /command in a user's text."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group()),
        }
        for m in _COMMAND.finditer(text)
    ]


def check_markup(markup: Any) -> dict[str, Any] | None:
    """A reply_markup as Telegram accepts it; oversized callback data is a 400."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse inline keyboard markup: field must be an Array of Arrays")
    for button in (b for row in rows for b in row):
        if not isinstance(button, dict) or not button.get("text"):
            raise bad_request("can't parse inline keyboard button: Text is empty")
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
            raise bad_request("BUTTON_DATA_INVALID")
        if set(button) == {"text"}:
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
    return markup
