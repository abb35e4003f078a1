"""KIE stand-ins: an emulator server (`emulator`, over the pure model in `emulation`), its
sample result files (`media`, package data in ``samples/``) and `fake.FakeKie`, the port in
memory.

Import the pieces from their modules: this package import stays light (no aiohttp).
"""
