"""The sandbox: the whole product on one machine with no tokens and no network.

`trt serve --sandbox` runs a Telegram Bot API emulator (which also serves the chat page
at `/`), the KIE emulator, and the real `trt serve` wired to both in webhook mode with
SQLite under ``./data/sandbox/``. Its settings are built in code, so tokens in the
environment are never used. Heavy modules load in `trt.sandbox.run`.
"""
