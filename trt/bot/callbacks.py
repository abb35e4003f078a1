"""Typed callback data for every button (aiogram packs them; never split strings by hand).

Buttons name models by a short stable hash (`catalog.ref`) and form buttons carry the
form's nonce, so a button from an old form or a rebuilt registry is recognised as stale.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class Screen(StrEnum):
    HOME = "home"
    BALANCE = "balance"
    LANGUAGE = "language"
    HELP = "help"
    TOPUP = "topup"
    MODELS = "models"
    SETTINGS = "settings"


class NavCb(CallbackData, prefix="n"):
    to: Screen


class CategoryCb(CallbackData, prefix="c"):
    category: str
    page: int = 0


class CardCb(CallbackData, prefix="mc"):
    model: str
    page: int = 0


class UseCb(CallbackData, prefix="mu"):
    model: str


class StepAct(StrEnum):
    PICK = "pick"  # an enum value, a boolean or a number preset, by index
    DONE = "done"  # finished adding files to a list input
    BACK = "back"
    RESET = "reset"
    CANCEL = "cancel"
    DEFAULT = "default"  # clear an optional input back to its default
    EDIT = "edit"  # open an optional input from the settings screen
    SETTINGS = "settings"
    CONFIRM = "confirm"


class StepCb(CallbackData, prefix="s"):
    form: str
    act: StepAct
    name: str = ""
    i: int = -1


class GenAct(StrEnum):
    GO = "go"
    TOPUP = "topup"


class GenCb(CallbackData, prefix="g"):
    form: str
    act: GenAct


class ResultAct(StrEnum):
    REPEAT = "repeat"
    PROMPT = "prompt"
    RESEND = "resend"


class ResultCb(CallbackData, prefix="r"):
    act: ResultAct
    job: str


class HistoryPageCb(CallbackData, prefix="hp"):
    page: int
    before: str = ""


class HistoryOpenCb(CallbackData, prefix="ho"):
    job: str


class LangCb(CallbackData, prefix="l"):
    lang: str


class TopupCb(CallbackData, prefix="tu"):
    stars: int


class AdminAct(StrEnum):
    DISABLE = "off"
    ENABLE = "on"
    MARKUP = "mk"


class AdminModelCb(CallbackData, prefix="am"):
    """An admin's control on a model's card (only admins' presses are handled)."""

    act: AdminAct
    model: str


class PrefsCb(CallbackData, prefix="p"):
    announcements: bool  # the state the button turns them to


class BroadcastAct(StrEnum):
    CONFIRM = "confirm"
    CANCEL = "cancel"


class BroadcastCb(CallbackData, prefix="bc"):
    act: BroadcastAct
    draft: str  # the preview's nonce: a button of an older preview is stale
