"""The aiogram Dispatcher with every router; services reach handlers as a keyword argument."""

from __future__ import annotations

from aiogram import Dispatcher

from trt.bot.routers import start
from trt.runtime import Services


def build_dispatcher(services: Services) -> Dispatcher:
    dp = Dispatcher(services=services)
    dp.include_routers(start.make_router())
    return dp
