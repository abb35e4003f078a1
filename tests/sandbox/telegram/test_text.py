"""The emulator's pure text checks, without HTTP."""

from __future__ import annotations

import pytest

from trt.sandbox.telegram import ApiError, EmulatorOptions, ManualClock
from trt.sandbox.telegram.files import image_size
from trt.sandbox.telegram.limits import FloodControl
from trt.sandbox.telegram.text import command_entities, parse_html


class TestHtml:
    def test_nested_tags_give_nested_entities(self):
        """Nested tags become entities with UTF-16 offsets, outer first."""
        text, entities = parse_html("😀 <b>a <i>b</i></b>")
        assert text == "😀 a b"
        assert entities == [
            {"type": "bold", "offset": 3, "length": 3},
            {"type": "italic", "offset": 5, "length": 1},
        ]

    def test_links_keep_their_url(self):
        """An <a href> becomes a text_link with its URL."""
        _, entities = parse_html('<a href="https://t.me">go</a>')
        assert entities == [{"type": "text_link", "offset": 0, "length": 2, "url": "https://t.me"}]

    def test_unclosed_bracket_is_refused(self):
        """A '<' that opens no tag is an unclosed start tag."""
        with pytest.raises(ApiError, match="Unclosed start tag"):
            parse_html("1 < 2")


class TestCommands:
    def test_commands_anywhere_in_the_text(self):
        """Every /command preceded by whitespace gets a bot_command entity."""
        assert command_entities("/start now /help@bot") == [
            {"type": "bot_command", "offset": 0, "length": 6},
            {"type": "bot_command", "offset": 11, "length": 9},
        ]

    def test_paths_are_not_commands(self):
        """A slash inside a word is not a command."""
        assert command_entities("a/b") == []


class TestBuckets:
    def test_retry_after_is_whole_seconds_until_a_token(self):
        """With the chat's burst spent at 1/s, the wait is one second."""
        clock = ManualClock()
        flood = FloodControl(EmulatorOptions(chat_burst=1), clock)
        flood.check(1)
        with pytest.raises(ApiError) as error:
            flood.check(1)
        assert (error.value.code, error.value.retry_after) == (429, 1)
        clock.advance(1)
        flood.check(1)


class TestImageSize:
    def test_unknown_format_defaults(self):
        """Bytes that are not PNG, GIF or JPEG are taken as 512×512."""
        assert image_size(b"not an image") == (512, 512)

    def test_gif_dimensions(self):
        """A GIF header gives its width and height."""
        assert image_size(b"GIF89a\x10\x00\x20\x00") == (16, 32)
