"""KIE.ai adapter: the port (`base`), its httpx client, a fake, and an emulator server.

Import the pieces from their modules; this package import stays light (no httpx, no
aiohttp) so that `trt --help` does not pay for them.
"""
