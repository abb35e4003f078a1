"""The sandbox: the whole product on one machine with no tokens and no network.

`trt serve --sandbox` runs a Telegram Bot API emulator (`telegram`, which also serves the
chat page at `/`), the KIE emulator (`kie`), and the real `trt serve` wired to both in
webhook mode with SQLite under ``./data/sandbox/``. Its settings are built in code, so
tokens in the environment are never used. Heavy modules load in `trt.sandbox.run`.

Every local stand-in lives here (`kie.fake.FakeKie` too), used by tests, bench/,
`trt kie emulate` and the emulator modes; the adapters never import this package.
"""
