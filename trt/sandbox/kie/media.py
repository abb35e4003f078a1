"""The emulator's result files: small real media shipped as package data in ``samples/``.

Each is a file decoders accept: a 16×16 PNG, a 16×16 baseline JPEG, half a second of MP3
silence and a one-second 32×32 H.264 MP4 of four distinct frames. They were written once by
small encoders; keeping the bytes instead of the encoders keeps ~300 lines of bit packing
out of the tree.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "mp3": "audio/mpeg",
    "mp4": "video/mp4",
}


@cache
def sample(kind: str) -> bytes:
    """The sample file for an extension in `CONTENT_TYPES`.

    Raises: KeyError for any other extension.
    """
    if kind not in CONTENT_TYPES:
        raise KeyError(kind)
    return files("trt.sandbox.kie").joinpath("samples", f"sample.{kind}").read_bytes()
