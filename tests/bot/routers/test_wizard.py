from __future__ import annotations

import struct
from hashlib import sha256

from tests.bot.conftest import USER, DriverFactory, fund
from tests.bot.driver import Driver, generate_image, open_model, screen
from trt.domain import EventSource, JobId, JobState
from trt.kie.states import TaskState
from trt.sandbox.telegram.model import ChatMessage
from trt.store.sql import SqlStore


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + struct.pack(">II", 64, 64) + b"\0" * 8


class TestTextModel:
    async def test_prompt_settings_confirm_generate_and_result(self, en: Driver, snapshot):
        """Prompt → confirmation → settings → Generate → one status message edited → the
        photo with caption and buttons; the free model costs nothing."""
        await open_model(en, "🖼 Images", "Nano Banana ·")
        screens = [screen(en.last())]
        screens.append(screen(await en.send("a cat <b>&</b> a dog")))
        screens.append(screen(await en.click("⚙️ Change settings")))
        screens.append(screen(await en.click("Aspect ratio")))
        screens.append(screen(await en.click("16:9")))
        screens.append(screen(await en.click("✅ Done")))
        await en.click("🚀 Generate")
        [job] = await en.jobs()
        assert job.params["aspect_ratio"] == "16:9" and job.state is JobState.SUBMITTED
        await en.settle(job)
        result = en.last()
        status = en.tg.chat(USER).get(result.message_id - 1)
        assert [*screens, screen(status), screen(result)] == snapshot
        user = await en.services.store.users.get(USER)
        assert (user.balance, user.held) == (100, 0)  # free: a bonus equal to the price

    async def test_photo_where_text_is_expected_gets_a_hint(self, en: Driver):
        """A photo sent for the prompt is answered with what is asked."""
        await open_model(en, "🖼 Images", "Nano Banana ·")
        reply = await en.send_file("photo", png())
        assert (reply.text or "").startswith("Please send text here.")

    async def test_number_out_of_range_gets_the_range(self, en: Driver):
        """An out-of-range number is refused with the allowed range."""
        await open_model(en, "🎬 Video", "Seedance 2.0 ·")
        await en.send("a wave")
        await en.click("⚙️ Change settings")
        await en.click("Duration, s")
        reply = await en.send("99")
        assert reply.text == "That is not a number in range. Allowed: 4 to 15."
        await en.send("7")
        await en.click("✅ Done")
        assert "Duration, s: 7" in (en.last().text or "")


class TestMediaModel:
    async def test_images_then_prompt_then_upload_on_generate(self, en: Driver, kie):
        """Image inputs come first and accept a photo or a document; "Done" moves on;
        Generate downloads them from Telegram and uploads them to KIE."""
        await open_model(en, "✏️ Image editing", "Nano Banana Edit")
        asked = en.last().text or ""
        assert "Send images" in asked
        await en.send("a hat")  # text where an image is asked
        assert (en.last().text or "").startswith("Please send images")
        await en.send_file("photo", png())
        await en.send_file("document", png(), file_name="b.png", mime_type="image/png")
        assert "Added 2 of 10" in (en.last().text or "")
        await en.click("✅ Done")
        await en.send("put a hat on it")
        await en.click("🚀 Generate")
        assert len(kie.uploads) == 2
        # KIE overwrites an upload of the same name: each is named by its content
        assert all(u.name.startswith(sha256(u.content).hexdigest()[:12]) for u in kie.uploads)
        [job] = await en.jobs()
        assert job.params["image_urls"] == [u.url for u in kie.uploads]

    async def test_wrong_file_type_and_size_are_refused(self, en: Driver):
        """A PDF for an image input names the accepted types."""
        await open_model(en, "✏️ Image editing", "Nano Banana Edit")
        reply = await en.send_file(
            "document", b"%PDF-1.4", file_name="a.pdf", mime_type="application/pdf"
        )
        assert (reply.text or "").startswith("Please send images")


class TestGenerate:
    async def test_double_click_makes_one_job(self, en: Driver):
        """Pressing Generate twice creates one job and one hold."""
        await open_model(en, "🖼 Images", "Nano Banana ·")
        confirm = await en.send("a cat")
        generate = confirm.buttons()[0].callback_data
        await en.click("🚀 Generate", confirm)
        await en.tg.click(USER, confirm.message_id, generate, forge=True)
        await en.pump()
        [job] = await en.jobs()
        user = await en.services.store.users.get(USER)
        assert (user.balance, user.held) == (100, job.price_stars)  # one free bonus, one hold

    async def test_insufficient_balance_shows_shortfall_and_top_up(
        self, make_driver: DriverFactory, store: SqlStore
    ):
        """A paid model over the balance shows the shortfall and a Top up button."""
        await fund(store, USER, 1)
        d = make_driver()
        await open_model(d, "🎬 Video", "Seedance 2.0 ·")
        reply = await d.send("a wave")
        assert "Not enough Stars" in (reply.text or "") and "missing" in (reply.text or "")
        assert reply.buttons()[0].text == "⭐ Top up"

    async def test_stars_spent_before_the_press_are_a_refusal_in_words(
        self, make_driver: DriverFactory, store: SqlStore
    ):
        """Stars gone between the confirmation and Generate (another job took them): the
        press is refused with a message saying why, and makes no job and no status."""
        await fund(store, USER, 100)
        en = make_driver(free_daily_generations=0)
        await open_model(en, "🖼 Images", "Nano Banana ·")
        confirm = await en.send("a wave")
        await store.ledger.hold(USER, JobId("01ELSEWHERE"), 100)
        reply = await en.click("🚀 Generate", confirm)
        assert (reply.text or "").startswith("Not enough Stars"), reply.text
        assert await en.jobs() == []
        assert not [m for m in en.history() if "queued" in (m.text or "")]

    async def test_failure_tells_the_user_and_returns_stars(
        self, make_driver: DriverFactory, store: SqlStore, kie
    ):
        """A failed task: plain words, Stars returned, "Try again"."""
        await fund(store, USER, 100)
        en = make_driver(free_daily_generations=0)
        kie.script(TaskState.FAIL)
        await open_model(en, "🖼 Images", "Nano Banana ·")
        await en.send("a wave")
        await en.click("🚀 Generate")
        [job] = await en.jobs()
        await en.settle(job)
        assert (en.last().text or "").startswith("That did not work")
        assert en.last().buttons()[0].text == "🔁 Try again"
        assert (await en.services.store.users.get(USER)).balance == 100


class TestRestart:
    async def test_form_continues_after_a_restart(self, en: Driver, make_driver: DriverFactory):
        """A new dispatcher (a restart, or another instance) continues the half-filled form."""
        await open_model(en, "✏️ Image editing", "Nano Banana Edit")
        await en.send_file("photo", png())
        await en.click("✅ Done")
        restarted = make_driver()
        restarted.offset = en.offset
        reply = await restarted.send("put a hat on it")
        assert "Price:" in (reply.text or "") and "Images: 1 file(s)" in (reply.text or "")


class TestFileLimits:
    async def test_a_file_over_the_limit_is_refused_with_the_limit(self, en: Driver):
        """An image document over the input's 10 MB is refused before upload, naming both
        sizes, and nothing reaches KIE."""
        await open_model(en, "✏️ Image editing", "Nano Banana Edit ·")
        big = png() + b"\0" * (11 * 1024 * 1024)
        reply = await en.send_file("document", big, file_name="big.png", mime_type="image/png")
        assert reply.text == "That file is 11.0 MB; the limit is 10 MB."
        assert en.services.kie.uploads == []  # type: ignore[attr-defined]


class TestJobCap:
    async def _fourth_press(self, d: Driver, lang: str = "en") -> None:
        for prompt in ("one", "two", "three", "four"):
            await generate_image(d, prompt, lang)

    async def test_the_fourth_generate_is_refused_in_words_en(self, en: Driver):
        """Three jobs run: a fourth Generate says why it is refused, leaves no "queued"
        status behind, and its callback query is answered exactly once."""
        await self._fourth_press(en)
        assert len(await en.jobs()) == 3
        assert (en.last().text or "").startswith("You already have 3 generations running")
        assert len([m for m in en.history() if "queued" in (m.text or "")]) == 3  # not 4
        self._answered_once(en)

    async def test_the_fourth_generate_is_refused_in_words_ru(self, ru: Driver):
        await self._fourth_press(ru, "ru")
        assert len(await ru.jobs()) == 3
        assert (ru.last().text or "").startswith("У вас уже идут 3 генерации")
        self._answered_once(ru)

    def _answered_once(self, d: Driver) -> None:
        """No answerCallbackQuery refused: none was sent twice for one query."""
        answers = [c for c in d.tg.calls if c.method.lower() == "answercallbackquery"]
        assert all(c.ok for c in answers), [c.description for c in answers if not c.ok]


class TestMusic:
    """Suno's rules (simple mode needs a description; custom mode lyrics, style and title)
    are asked as steps: ✨ Start never opens on a rule's complaint."""

    async def test_simple_mode_asks_the_description_en(self, en: Driver):
        await open_model(en, "🎵 Music", "Suno V5 ·")
        asked = en.last().text or ""
        assert "Song description" in asked and "do not fit" not in asked
        assert "500" in asked  # simple mode's limit, not the input's 5000
        confirm = await en.send("a calm song about the sea")
        assert "Price:" in (confirm.text or ""), confirm.text
        await en.click("🚀 Generate")
        [job] = await en.jobs()
        assert job.params["prompt"] == "a calm song about the sea"
        assert job.params["customMode"] is False

    async def test_simple_mode_asks_the_description_ru(self, ru: Driver):
        await open_model(ru, "🎵 Музыка", "Suno V5 ·", "✨ Начать")
        asked = ru.last().text or ""
        assert "Описание песни" in asked and "несовместимы" not in asked
        confirm = await ru.send("спокойная песня о море")
        assert "Цена" in (confirm.text or ""), confirm.text

    async def test_custom_mode_asks_style_title_and_lyrics(self, en: Driver):
        await open_model(en, "🎵 Music", "Suno V5 ·")
        await en.send("a calm song")
        await en.click("⚙️ Change settings")
        await en.click("Custom mode")
        await en.click("Yes")
        asked = await en.click("✅ Done")
        assert "Style" in (asked.text or ""), asked.text
        asked = await en.send("ambient")
        assert "Title" in (asked.text or ""), asked.text
        confirm = await en.send("Sea")
        assert "Price:" in (confirm.text or ""), confirm.text
        await en.click("🚀 Generate")
        [job] = await en.jobs()
        assert (job.params["style"], job.params["title"]) == ("ambient", "Sea")

    async def test_in_custom_mode_the_prompt_is_the_lyrics(self, en: Driver):
        await open_model(en, "🎵 Music", "Suno V5 ·")
        await en.send("a calm song")
        await en.click("⚙️ Change settings")
        await en.click("Custom mode")
        await en.click("Yes")
        await en.click("Prompt")
        assert "Lyrics" in (en.last().text or ""), en.last().text

    async def _long_prompt_back_to_simple(self, d: Driver, b: dict[str, str]) -> ChatMessage:
        await open_model(d, b["section"], "Suno V5 ·", b["start"])
        await d.send("a calm song")
        await d.click(b["settings"])
        await d.click(b["custom"])
        await d.click(b["yes"])
        await d.click(b["done"])
        await d.send("ambient")  # style
        await d.send("Sea")  # title
        await d.click(b["settings"])
        await d.click(b["prompt"])
        await d.send("la " * 200)  # lyrics: custom mode takes 5000 characters
        await d.click(b["custom"])
        await d.click(b["no"])
        return await d.click(b["done"])  # simple mode takes 500: the rule speaks

    async def test_a_broken_rule_is_explained_in_english(self, en: Driver):
        buttons = {
            "section": "🎵 Music", "start": "✨ Start", "settings": "⚙️ Change settings",
            "custom": "Custom mode", "yes": "Yes", "no": "No", "done": "✅ Done",
            "prompt": "Prompt",
        }  # fmt: skip
        reply = await self._long_prompt_back_to_simple(en, buttons)
        assert (reply.text or "").startswith(
            "These settings do not fit together:\n• Prompt: at most 500 characters when "
            "Custom mode: No."
        ), reply.text

    async def test_a_broken_rule_is_explained_in_russian(self, ru: Driver):
        buttons = {
            "section": "🎵 Музыка", "start": "✨ Начать", "settings": "⚙️ Изменить настройки",
            "custom": "Свой текст и стиль", "yes": "Да", "no": "Нет", "done": "✅ Готово",
            "prompt": "Запрос",
        }  # fmt: skip
        reply = await self._long_prompt_back_to_simple(ru, buttons)
        assert (reply.text or "").startswith(
            "Эти настройки несовместимы:\n• Запрос: не больше 500 символов, когда "
            "Свой текст и стиль: Нет."
        ), reply.text


class TestFailureReasons:
    """A failed task tells the user why, by kind, and that the Stars are back."""

    async def _failed(self, d: Driver, kie, code: str, message: str, lang: str) -> str:
        kie.failure = (code, message)
        kie.script(TaskState.FAIL)
        await generate_image(d, "a wave", lang)
        [job] = await d.jobs()
        await d.settle(job)
        return d.last().text or ""

    async def test_content_filter_en(self, make_driver: DriverFactory, store: SqlStore, kie):
        await fund(store, USER, 100)
        d = make_driver(free_daily_generations=0)
        body = await self._failed(d, kie, "422", "Invalid prompt: prohibited content", "en")
        assert body == (
            "That did not work: the model's content filter refused the prompt or a file; the "
            "same request will be refused again, so change it first. 3 ⭐ are back on your "
            "balance."
        )
        assert (await d.services.store.users.get(USER)).balance == 100

    async def test_content_filter_ru(self, make_driver: DriverFactory, store: SqlStore, kie):
        await fund(store, USER, 100, language="ru")
        d = make_driver(language_code="ru", free_daily_generations=0)
        body = await self._failed(d, kie, "422", "Invalid prompt: prohibited content", "ru")
        assert body.startswith("Не получилось: фильтр содержимого модели отклонил запрос")
        assert body.endswith("3 ⭐ возвращены на баланс.")

    async def test_invalid_input_names_it(self, make_driver: DriverFactory, store: SqlStore, kie):
        await fund(store, USER, 100)
        d = make_driver(free_daily_generations=0)
        body = await self._failed(d, kie, "422", "image_size: <unsupported> value", "en")
        assert body.startswith(  # escaped once: shown as KIE wrote it
            "That did not work: the model did not accept an input (image_size: <unsupported"
        ), body

    async def test_busy_and_timeout_ru(self, make_driver: DriverFactory, store: SqlStore, kie):
        await fund(store, USER, 100, language="ru")
        d = make_driver(language_code="ru", free_daily_generations=0)
        body = await self._failed(d, kie, "500", "Server busy, try again later", "ru")
        assert "сервис перегружен или временно недоступен" in body
        kie.failure = ("408", "Generation timed out")
        kie.script(TaskState.FAIL)
        await generate_image(d, "another wave", "ru")
        job = next(j for j in await d.jobs() if j.state is not JobState.FAILED)
        await d.settle(job)
        assert "генерация заняла слишком много времени" in (d.last().text or "")

    async def test_create_task_refusal_by_content(self, make_driver: DriverFactory, store, kie):
        """createTask itself refused for content: the same reason, not "could not be sent"."""
        from trt.kie.errors import KieValidationError

        await fund(store, USER, 100)
        d = make_driver(free_daily_generations=0)
        kie.fail_next("create_task", KieValidationError(200, 422, "Your prompt was flagged"))
        await generate_image(d, "a wave")
        assert "content filter refused" in (d.last().text or ""), d.last().text


class TestFreeCaption:
    async def test_a_free_result_says_free_en(self, en: Driver):
        """The day's free generation is captioned "free", a paid one with its price."""
        await generate_image(en, "one")
        await generate_image(en, "two")
        first, second = sorted(await en.jobs(), key=lambda j: j.id)
        await en.settle(first)
        assert (en.last().caption or "").endswith("🎁 free"), en.last().caption
        await en.settle(second)
        assert (en.last().caption or "").endswith("3 ⭐"), en.last().caption

    async def test_a_free_result_says_free_ru(self, ru: Driver):
        await generate_image(ru, "один", "ru")
        [job] = await ru.jobs()
        await ru.settle(job)
        assert (ru.last().caption or "").endswith("🎁 бесплатно"), ru.last().caption


class TestStaleScreens:
    async def test_a_screen_replaced_by_a_new_message_loses_its_buttons(self, en: Driver):
        """Typing an answer sends the next screen as a new message: the one before keeps
        no Back/Cancel buttons that would lead nowhere."""
        await open_model(en, "🎬 Video", "Seedance 2.0 ·")
        step = en.last()
        assert step.buttons()
        confirm = await en.send("a wave")
        assert confirm.message_id != step.message_id and confirm.buttons()
        assert en.tg.chat(USER).get(step.message_id).buttons() == []


class TestSeveralResults:
    async def _wan(self, d: Driver, kie, images: int, returned: int, lang: str = "en") -> None:
        """Wan 2.7 Image asked for `images` images; KIE returns `returned`."""
        section, start = (
            ("🖼 Изображения", "✨ Начать") if lang == "ru" else ("🖼 Images", "✨ Start")
        )
        settings = "⚙️ Изменить настройки" if lang == "ru" else "⚙️ Change settings"
        count = "Количество изображений" if lang == "ru" else "Number of images"
        done = "✅ Готово" if lang == "ru" else "✅ Done"
        await open_model(d, section, "Wan 2.7 Image ·", start)
        await d.send("a cat")
        await d.click(settings)
        await d.click(count)
        await d.send(str(images))
        await d.click(done)
        await d.click("🚀")
        kie.results_per_task = returned
        [job] = await d.jobs()
        await d.settle(job)

    async def test_four_images_arrive_as_one_album_with_one_caption(
        self, make_driver: DriverFactory, store: SqlStore, kie
    ):
        await fund(store, USER, 100)
        d = make_driver(free_daily_generations=0)
        await self._wan(d, kie, 4, 4)
        photos = [m for m in d.history() if m.kind == "photo"]
        assert len(photos) == 4 and len({m.media_group_id for m in photos}) == 1
        assert [bool(m.caption) for m in photos] == [True, False, False, False]
        assert sum(bool(m.buttons()) for m in d.history()[-5:]) == 1  # one set of buttons
        assert d.last().buttons() and d.last().text == "⬆️ 4 results"

    async def test_fewer_results_than_paid_return_their_share_en(
        self, make_driver: DriverFactory, store: SqlStore, kie
    ):
        """4 images paid, 1 delivered: the price of 1 is kept, the rest comes back, in
        the ledger (refund_part) and in the caption."""
        await fund(store, USER, 100)
        d = make_driver(free_daily_generations=0)
        await self._wan(d, kie, 4, 1)
        [job] = await d.jobs()
        one = d.services.generation.quote(job.model_id, {"prompt": "a cat", "n": 1}).stars
        back = job.price_stars - one
        assert back > 0
        user = await store.users.get(USER)
        assert (user.balance, user.held) == (100 - one, 0)
        [entry] = [
            e
            for e in await store.ledger.entries(job_id=job.id)
            if e.key.startswith("refund_part:")
        ]
        assert entry.amount == back
        assert f"{back} ⭐ for the rest are back on your balance" in (d.last().caption or "")
        assert await store.ledger.invariant_violations() == []

    async def test_fewer_results_than_paid_ru(
        self, make_driver: DriverFactory, store: SqlStore, kie
    ):
        await fund(store, USER, 100, language="ru")
        d = make_driver(language_code="ru", free_daily_generations=0)
        await self._wan(d, kie, 3, 2, "ru")
        assert "за остальные возвращены на баланс" in (d.last().text or "") or any(
            "за остальные возвращены" in (m.caption or "") for m in d.history()
        )

    async def test_a_later_full_refund_returns_only_the_rest(
        self, make_driver: DriverFactory, store: SqlStore, kie
    ):
        """Support refunding the job afterwards gives back what was kept, not the charge
        again: never more than was charged."""
        await fund(store, USER, 100)
        d = make_driver(free_daily_generations=0)
        await self._wan(d, kie, 4, 1)
        [job] = await d.jobs()
        await store.pipeline.refund(job.id, reason="support", source=EventSource.CLI)
        assert (await store.users.get(USER)).balance == 100
        assert await store.ledger.invariant_violations() == []
