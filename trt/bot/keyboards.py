"""Inline keyboards for every screen; texts come from the locale files."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from trt.bot.callbacks import (
    AdminAct,
    AdminModelCb,
    BroadcastAct,
    BroadcastCb,
    CardCb,
    CategoryCb,
    GenAct,
    GenCb,
    HistoryOpenCb,
    HistoryPageCb,
    LangCb,
    NavCb,
    PrefsCb,
    ResultAct,
    ResultCb,
    Screen,
    StepAct,
    StepCb,
    TopupCb,
    UseCb,
)
from trt.bot.texts import Texts
from trt.catalog.kinds import Category

Markup = InlineKeyboardMarkup


def _button(text: str, data: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())  # type: ignore[attr-defined]


def _markup(rows: Sequence[Sequence[InlineKeyboardButton]]) -> Markup:
    return InlineKeyboardMarkup(inline_keyboard=[list(r) for r in rows if r])


def main_menu(t: Texts, categories: Sequence[Category]) -> Markup:
    return _main_menu(t.lang, tuple(categories))


@functools.cache
def _main_menu(lang: str, categories: tuple[Category, ...]) -> Markup:
    # Built once per language: fifteen validated buttons cost a few tenths of a millisecond
    # of every /start. The markup is only ever serialised, never changed.
    t = Texts(lang)
    buttons = [_button(t(f"category.{c.value}"), CategoryCb(category=c)) for c in categories]
    return _markup([
        *(buttons[i : i + 2] for i in range(0, len(buttons), 2)),
        [_button(t("button.balance"), NavCb(to=Screen.BALANCE)),
         _button(t("button.history"), HistoryPageCb(page=1))],
        [_button(t("button.language"), NavCb(to=Screen.LANGUAGE)),
         _button(t("button.help"), NavCb(to=Screen.HELP))],
        [_button(t("button.prefs"), NavCb(to=Screen.SETTINGS))],
    ])  # fmt: skip


def home(t: Texts) -> Markup:
    return _markup([[_button(t("button.menu"), NavCb(to=Screen.HOME))]])


def model_list(
    t: Texts, items: Sequence[tuple[str, str]], category: Category, page: int, pages: int
) -> Markup:
    """`items`: (button text, model ref)."""
    rows = [[_button(text, CardCb(model=model, page=page))] for text, model in items]
    nav = []
    if page > 0:
        nav.append(_button(t("button.prev"), CategoryCb(category=category, page=page - 1)))
    if page + 1 < pages:
        nav.append(_button(t("button.next"), CategoryCb(category=category, page=page + 1)))
    return _markup([*rows, nav, [_button(t("button.back"), NavCb(to=Screen.HOME))]])


def model_card(t: Texts, model: str, category: Category, page: int) -> Markup:
    return _markup([
        [_button(t("button.start"), UseCb(model=model))],
        [_button(t("button.back"), CategoryCb(category=category, page=page))],
    ])  # fmt: skip


def with_admin_controls(t: Texts, markup: Markup, model: str, *, disabled: bool) -> Markup:
    """`markup` with an admin's row on top: Disable (or Enable) and Markup."""
    toggle = (
        _button(t("button.admin_enable"), AdminModelCb(act=AdminAct.ENABLE, model=model))
        if disabled
        else _button(t("button.admin_disable"), AdminModelCb(act=AdminAct.DISABLE, model=model))
    )
    row = [
        toggle,
        _button(t("button.admin_markup"), AdminModelCb(act=AdminAct.MARKUP, model=model)),
    ]
    return _markup([row, *markup.inline_keyboard])


def choices(
    form: str, name: str, options: Sequence[str], marked: int | None
) -> list[list[InlineKeyboardButton]]:
    """One button per option (two per row when short); the current one marked."""
    buttons = [
        _button(
            f"• {o}" if i == marked else o, StepCb(form=form, act=StepAct.PICK, name=name, i=i)
        )
        for i, o in enumerate(options)
    ]
    width = 1 if any(len(o) > 14 for o in options) else 2
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def step_nav(
    t: Texts, form: str, *, optional: bool, name: str, done: bool = False
) -> list[list[InlineKeyboardButton]]:
    rows = []
    if done:
        rows.append([_button(t("button.done"), StepCb(form=form, act=StepAct.DONE, name=name))])
    if optional:
        rows.append(
            [_button(t("button.default"), StepCb(form=form, act=StepAct.DEFAULT, name=name))]
        )
    rows.append([
        _button(t("button.back"), StepCb(form=form, act=StepAct.BACK)),
        _button(t("button.reset"), StepCb(form=form, act=StepAct.RESET)),
        _button(t("button.cancel"), StepCb(form=form, act=StepAct.CANCEL)),
    ])  # fmt: skip
    return rows


def step(rows: list[list[InlineKeyboardButton]]) -> Markup:
    return _markup(rows)


def settings(t: Texts, form: str, items: Sequence[tuple[str, str]]) -> Markup:
    """`items`: (button text, input name)."""
    rows = [
        [_button(text, StepCb(form=form, act=StepAct.EDIT, name=name))] for text, name in items
    ]
    rows.append([_button(t("button.done"), StepCb(form=form, act=StepAct.CONFIRM))])
    rows.append([_button(t("button.cancel"), StepCb(form=form, act=StepAct.CANCEL))])
    return _markup(rows)


def confirm(t: Texts, form: str, *, generate: str | None) -> Markup:
    """`generate`: the Generate button's text, or None when the balance is short."""
    first = (
        _button(generate, GenCb(form=form, act=GenAct.GO))
        if generate
        else _button(t("button.topup"), GenCb(form=form, act=GenAct.TOPUP))
    )
    return _markup([
        [first],
        [_button(t("button.settings"), StepCb(form=form, act=StepAct.SETTINGS))],
        [_button(t("button.cancel"), StepCb(form=form, act=StepAct.CANCEL))],
    ])  # fmt: skip


def result(t: Texts, job: str, *, prompt: bool) -> Markup:
    first = [_button(t("button.repeat"), ResultCb(act=ResultAct.REPEAT, job=job))]
    if prompt:
        first.append(_button(t("button.change_prompt"), ResultCb(act=ResultAct.PROMPT, job=job)))
    return _markup([first, [_button(t("button.menu"), NavCb(to=Screen.HOME))]])


def failure(t: Texts, job: str) -> Markup:
    return _markup([
        [_button(t("button.try_again"), ResultCb(act=ResultAct.REPEAT, job=job))],
        [_button(t("button.menu"), NavCb(to=Screen.HOME))],
    ])  # fmt: skip


def history(t: Texts, items: Sequence[tuple[str, str]], page: int, before: str | None) -> Markup:
    """`items`: (button text, job id); `before`: the cursor of the next page, if any."""
    rows = [[_button(text, HistoryOpenCb(job=job))] for text, job in items]
    nav = []
    if page > 1:
        nav.append(_button(t("button.prev"), HistoryPageCb(page=1)))
    if before:
        nav.append(_button(t("button.next"), HistoryPageCb(page=page + 1, before=before)))
    return _markup([*rows, nav, [_button(t("button.menu"), NavCb(to=Screen.HOME))]])


def history_item(t: Texts, job: str, *, resend: bool) -> Markup:
    rows = (
        [[_button(t("button.resend"), ResultCb(act=ResultAct.RESEND, job=job))]] if resend else []
    )
    rows.append([_button(t("button.repeat"), ResultCb(act=ResultAct.REPEAT, job=job))])
    rows.append([_button(t("button.back"), HistoryPageCb(page=1))])
    return _markup(rows)


def languages() -> Markup:
    return _markup(
        [[_button("Русский", LangCb(lang="ru")), _button("English", LangCb(lang="en"))]]
    )


def topup(t: Texts, packages: Sequence[tuple[str, int]]) -> Markup:
    """`packages`: (button text, Stars)."""
    rows = [[_button(text, TopupCb(stars=stars))] for text, stars in packages]
    return _markup([*rows, [_button(t("button.menu"), NavCb(to=Screen.HOME))]])


def balance(t: Texts) -> Markup:
    return _markup([[_button(t("button.topup"), NavCb(to=Screen.TOPUP))],
                    [_button(t("button.menu"), NavCb(to=Screen.HOME))]])  # fmt: skip


def prefs(t: Texts, *, announcements: bool) -> Markup:
    """/settings: one toggle (it names what a press does), and the menu."""
    toggle = (
        _button(t("prefs.turn_off"), PrefsCb(announcements=False))
        if announcements
        else _button(t("prefs.turn_on"), PrefsCb(announcements=True))
    )
    return _markup([[toggle], [_button(t("button.menu"), NavCb(to=Screen.HOME))]])


def broadcast_confirm(t: Texts, draft: str, audience: int) -> Markup:
    return _markup([
        [_button(t("broadcast.confirm", audience=audience),
                 BroadcastCb(act=BroadcastAct.CONFIRM, draft=draft))],
        [_button(t("broadcast.cancel"), BroadcastCb(act=BroadcastAct.CANCEL, draft=draft))],
    ])  # fmt: skip
