"""The menu screens: text and keyboard for each, from the locale files."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from trt.bot import free, keyboards
from trt.bot.catalog import PAGE_SIZE, Catalog, ref
from trt.bot.keyboards import Markup
from trt.bot.labels import label, localized, title
from trt.bot.texts import Texts
from trt.catalog.kinds import Category
from trt.catalog.spec import ModelSpec
from trt.core.services import Services
from trt.records import UserRecord

Screen = tuple[str, Markup]


async def home(t: Texts, services: Services, catalog: Catalog, user: UserRecord) -> Screen:
    lines = [t("menu.title")]
    left = await free.free_left(services, user)
    if left:
        lines.append(t("menu.free_left", left=left))
    return "\n".join(lines), keyboards.main_menu(t, list(catalog.categories()))


def all_models(t: Texts, catalog: Catalog) -> str:
    """/models: every model the bot offers, by section, with its starting price (the
    section buttons below open them); the same for everyone, so built once per language."""

    def build() -> str:
        parts = [t("catalog.all_title")]
        for cat, specs in catalog.categories().items():
            lines = [f"• {escape(_model_button(t, catalog, s), quote=False)}" for s in specs]
            parts.append(f"<b>{escape(t(f'category.{cat.value}'), quote=False)}</b>\n"
                         + "\n".join(lines))  # fmt: skip
        return "\n\n".join(parts)

    return catalog.remember(("all models", t.lang), build)


def category(t: Texts, catalog: Catalog, cat: Category, page: int) -> Screen | None:
    specs = catalog.categories().get(cat)
    if not specs:
        return None
    pages = (len(specs) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 0), pages - 1)
    # The registry alone decides a page, so it is built once per language (its keyboard,
    # a dozen validated buttons, costs more than the rest of the click).
    return catalog.remember(
        ("category", t.lang, cat, page), lambda: _category_page(t, catalog, specs, page, pages)
    )


def _category_page(
    t: Texts, catalog: Catalog, specs: Sequence[ModelSpec], page: int, pages: int
) -> Screen:
    cat = specs[0].category
    items = [(_model_button(t, catalog, s), ref(s.id))
             for s in specs[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]]  # fmt: skip
    body = t("catalog.list", category=t(f"category.{cat.value}"), page=page + 1, pages=pages)
    return body, keyboards.model_list(t, items, cat, page, pages)


def _model_button(t: Texts, catalog: Catalog, spec: ModelSpec) -> str:
    if spec.free:
        return t("catalog.model_free", title=title(spec, t.lang))
    return t("catalog.model", title=title(spec, t.lang), price=catalog.price_range(spec)[0])


def card(t: Texts, catalog: Catalog, spec: ModelSpec, page: int, free_left: int) -> Screen:
    low, high = catalog.price_range(spec)
    price = (t("catalog.price_one", price=low) if low == high
             else t("catalog.price_range", low=low, high=high))  # fmt: skip
    default = catalog.default_price(spec)
    if default is not None and low != high:  # what ✨ Start will cost unless changed
        price += t("catalog.price_default", price=default)
    inputs = ", ".join(label(i, t.lang) for i in spec.inputs if i.required)
    body = t.markup(
        "catalog.card", title=_e(title(spec, t.lang)),
        description=_e(localized(spec.description, t.lang)),
        inputs=_e(inputs) or t("catalog.no_inputs"), output=t(f"output.{spec.output.value}"),
        price=price,
    )  # fmt: skip
    if spec.free and free_left:
        body += "\n" + t("catalog.free_note", left=free_left)
    return body, keyboards.model_card(t, ref(spec.id), spec.category, page)


def _e(value: str) -> str:
    return escape(value, quote=False)


async def balance(t: Texts, services: Services, user: UserRecord) -> Screen:
    lines = [t("balance.text", balance=user.balance)]
    if user.held:
        lines.append(t("balance.held", held=user.held))
    left = await free.free_left(services, user)
    if left:
        lines.append(t("menu.free_left", left=left))
    return "\n".join(lines), keyboards.balance(t)


def prefs(t: Texts, user: UserRecord) -> Screen:
    """/settings: whether the user gets announcements."""
    on = not user.broadcast_opt_out
    body = t("prefs.title", state=t("prefs.on") if on else t("prefs.off"))
    return body, keyboards.prefs(t, announcements=on)


def topup(t: Texts, services: Services, user: UserRecord) -> Screen:
    """The Stars packages (with their bonus) and how to buy another amount."""
    settings = services.settings
    items = [
        (t("topup.package_bonus", stars=stars, bonus=stars * pct // 100) if pct * stars >= 100
         else t("topup.package", stars=stars), stars)
        for stars, pct in settings.packages
    ]  # fmt: skip
    body = t("topup.choose", balance=user.balance, min=settings.topup_min, max=settings.topup_max)
    return body, keyboards.topup(t, items)
