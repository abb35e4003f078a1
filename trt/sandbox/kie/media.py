"""Tiny but real media files, made in code, for the emulator's results.

Each is a valid file that decoders accept: a PNG, a baseline JPEG (DC-only blocks), a WAV
tone, an MP3 of silence (MPEG-1 Layer III frames with empty granules) and an MP4 whose
H.264 frames are I_PCM macroblocks (raw samples, so no encoder is needed).
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Iterable, Sequence
from functools import cache

Rgb = tuple[int, int, int]


def _pattern(width: int, height: int, shift: int = 0) -> list[list[Rgb]]:
    return [
        [
            ((x * 255) // max(width - 1, 1), (y * 255) // max(height - 1, 1), (shift * 40) % 256)
            for x in range(width)
        ]  # fmt: skip
        for y in range(height)
    ]


# --- PNG ---------------------------------------------------------------------------------


@cache
def png(width: int = 16, height: int = 16) -> bytes:
    """An RGB gradient PNG."""
    rows = b"".join(
        b"\x00" + bytes(c for px in row for c in px) for row in _pattern(width, height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


# --- JPEG --------------------------------------------------------------------------------

_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)  # the standard luminance DC table
_DC_VALUES = tuple(range(12))
_AC_BITS = (1,) + (0,) * 15  # one symbol, EOB: every block is DC-only
_AC_VALUES = (0,)


def _huffman_codes(bits: Sequence[int], values: Sequence[int]) -> dict[int, tuple[int, int]]:
    codes: dict[int, tuple[int, int]] = {}
    code, k = 0, 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            codes[values[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


class _BitWriter:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def write(self, value: int, length: int) -> None:
        self.bits.extend((value >> i) & 1 for i in range(length - 1, -1, -1))

    def ue(self, value: int) -> None:
        """Exp-Golomb unsigned (H.264)."""
        length = (value + 1).bit_length()
        self.write(0, length - 1)
        self.write(value + 1, length)

    def align(self, fill: int) -> None:
        while len(self.bits) % 8:
            self.bits.append(fill)

    def tobytes(self) -> bytes:
        return bytes(
            int("".join(map(str, self.bits[i : i + 8])), 2) for i in range(0, len(self.bits), 8)
        )


def _ycbcr(r: int, g: int, b: int) -> tuple[int, int, int]:
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
    return round(y), round(cb), round(cr)


@cache
def jpeg(width: int = 16, height: int = 16) -> bytes:
    """A baseline YCbCr JPEG, one flat colour per 8×8 block (sizes are multiples of 8)."""
    dc = _huffman_codes(_DC_BITS, _DC_VALUES)
    eob_code, eob_len = _huffman_codes(_AC_BITS, _AC_VALUES)[0]
    writer = _BitWriter()
    previous = [0, 0, 0]
    pixels = _pattern(width, height)
    for by in range(0, height, 8):
        for bx in range(0, width, 8):
            colour = _ycbcr(*pixels[by + 4][bx + 4])
            for component, value in enumerate(colour):
                # With a quantiser of 8 the DC coefficient of a flat block is value - 128.
                coefficient = value - 128
                diff, previous[component] = coefficient - previous[component], coefficient
                category = abs(diff).bit_length()
                writer.write(*dc[category])
                if category:
                    writer.write(diff if diff > 0 else diff + (1 << category) - 1, category)
                writer.write(eob_code, eob_len)
    writer.align(1)
    scan = writer.tobytes().replace(b"\xff", b"\xff\x00")

    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">HH", marker, len(payload) + 2) + payload

    components = b"".join(bytes((i, 0x11, 0)) for i in (1, 2, 3))
    return b"".join(
        (
            b"\xff\xd8",
            segment(0xFFE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            segment(0xFFDB, b"\x00" + bytes([8] * 64)),
            segment(0xFFC0, struct.pack(">BHHB", 8, height, width, 3) + components),
            segment(0xFFC4, b"\x00" + bytes(_DC_BITS) + bytes(_DC_VALUES)),
            segment(0xFFC4, b"\x10" + bytes(_AC_BITS) + bytes(_AC_VALUES)),
            segment(
                0xFFDA, b"\x03" + b"".join(bytes((i, 0)) for i in (1, 2, 3)) + b"\x00\x3f\x00"
            ),
            scan,
            b"\xff\xd9",
        )
    )


# --- WAV and MP3 -------------------------------------------------------------------------


@cache
def wav(seconds: float = 0.5, rate: int = 8000, tone: float = 440.0) -> bytes:
    """A mono 16-bit PCM sine tone."""
    count = int(seconds * rate)
    samples = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * tone * i / rate)))
        for i in range(count)
    )
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(samples))
        + b"WAVEfmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", len(samples))
        + samples
    )


@cache
def mp3(frames: int = 14) -> bytes:
    """Silence as MPEG-1 Layer III, 32 kbit/s, 32 kHz mono: 144-byte frames of 36 ms."""
    # Header FF FB 18 C0: MPEG-1, Layer III, no CRC, 32 kbit/s, 32 kHz, no padding, mono.
    # All-zero side information means empty granules, which decode to silence.
    frame = b"\xff\xfb\x18\xc0" + bytes(140)
    return frame * frames


# --- MP4 (H.264 I_PCM) -------------------------------------------------------------------


def _nal(header: int, rbsp: bytes) -> bytes:
    out = bytearray([header])
    zeros = 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:  # emulation prevention
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _trailing(writer: _BitWriter) -> bytes:
    writer.write(1, 1)
    writer.align(0)
    return writer.tobytes()


def _sps(mb_width: int, mb_height: int) -> bytes:
    w = _BitWriter()
    w.write(66, 8)  # Baseline profile
    w.write(0xC0, 8)  # constraint_set0/1: constrained baseline
    w.write(20, 8)  # level 2.0
    for value in (0, 0, 2, 1):  # sps id, log2_max_frame_num-4, poc type 2, max refs
        w.ue(value)
    w.write(0, 1)  # gaps_in_frame_num_allowed
    w.ue(mb_width - 1)
    w.ue(mb_height - 1)
    w.write(0b1100, 4)  # frame_mbs_only, direct_8x8_inference, no cropping, no VUI
    return _nal(0x67, _trailing(w))


def _pps() -> bytes:
    w = _BitWriter()
    w.ue(0)  # pps id
    w.ue(0)  # sps id
    w.write(0, 2)  # CAVLC, no bottom-field poc
    w.ue(0)  # one slice group
    w.ue(0)  # num_ref_idx_l0_default_active_minus1
    w.ue(0)  # num_ref_idx_l1_default_active_minus1
    w.write(0, 3)  # no weighted prediction
    for _ in range(3):  # pic_init_qp/qs_minus26, chroma_qp_index_offset: se(0) is "1"
        w.ue(0)
    w.write(0, 3)  # no deblocking control, no constrained intra, no redundant pic cnt
    return _nal(0x68, _trailing(w))


def _idr_slice(frame: int, width: int, height: int) -> bytes:
    w = _BitWriter()
    w.ue(0)  # first_mb_in_slice
    w.ue(7)  # slice_type: I (all slices)
    w.ue(0)  # pps id
    w.write(0, 4)  # frame_num
    w.ue(frame % 2)  # idr_pic_id differs between consecutive IDR pictures
    w.write(0, 2)  # dec_ref_pic_marking: no_output_of_prior_pics, long_term_reference
    w.ue(0)  # slice_qp_delta = se(0)
    pixels = _pattern(width, height, shift=frame)
    for my in range(0, height, 16):
        for mx in range(0, width, 16):
            w.ue(25)  # mb_type I_PCM
            w.align(0)
            luma = [
                _clip(_ycbcr(*pixels[my + y][mx + x])[0]) for y in range(16) for x in range(16)
            ]
            cb, cr = [], []
            for y in range(0, 16, 2):
                for x in range(0, 16, 2):
                    _, u, v = _ycbcr(*pixels[my + y][mx + x])
                    cb.append(_clip(u))
                    cr.append(_clip(v))
            for sample in (*luma, *cb, *cr):
                w.write(sample, 8)
    return _nal(0x65, _trailing(w))


def _clip(value: int) -> int:
    return min(max(value, 16), 235)


def _box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I", len(payload) + 8) + kind + payload


def _full(kind: bytes, version_flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", version_flags), *parts)


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


@cache
def mp4(width: int = 32, height: int = 32, frames: int = 8, fps: int = 8) -> bytes:
    """An H.264 (Baseline, I_PCM) MP4 with a moving gradient; sizes are multiples of 16."""
    sps, pps = _sps(width // 16, height // 16), _pps()
    samples = [_idr_slice(i, width, height) for i in range(frames)]
    chunks = [struct.pack(">I", len(s)) + s for s in samples]
    delta = 1000 // fps
    duration = delta * frames
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso2avc1mp41")

    def moov(offset: int) -> bytes:
        avcc = _box(
            b"avcC",
            bytes((1, sps[1], sps[2], sps[3], 0xFF, 0xE1)),
            struct.pack(">H", len(sps)) + sps,
            b"\x01" + struct.pack(">H", len(pps)) + pps,
        )
        avc1 = _box(
            b"avc1",
            bytes(6) + struct.pack(">H", 1) + bytes(16),
            struct.pack(">HHIIIH", width, height, 0x480000, 0x480000, 0, 1),
            bytes(32) + struct.pack(">Hh", 0x18, -1),
            avcc,
        )
        stbl = _box(
            b"stbl",
            _full(b"stsd", 0, struct.pack(">I", 1), avc1),
            _full(b"stts", 0, struct.pack(">III", 1, frames, delta)),
            _full(b"stsc", 0, struct.pack(">IIII", 1, 1, frames, 1)),
            _full(b"stsz", 0, struct.pack(">II", 0, frames), *_u32s(len(c) for c in chunks)),
            _full(b"stco", 0, struct.pack(">II", 1, offset)),
        )
        dinf = _box(b"dinf", _full(b"dref", 0, struct.pack(">I", 1), _full(b"url ", 1)))
        minf = _box(b"minf", _full(b"vmhd", 1, bytes(8)), dinf, stbl)
        mdia = _box(
            b"mdia",
            _full(b"mdhd", 0, struct.pack(">IIIIHH", 0, 0, 1000, duration, 0x55C4, 0)),
            _full(b"hdlr", 0, bytes(4), b"vide", bytes(12), b"VideoHandler\x00"),
            minf,
        )
        tkhd = _full(
            b"tkhd", 3, struct.pack(">IIIII", 0, 0, 1, 0, duration), bytes(8),
            struct.pack(">hhhH", 0, 0, 0, 0), _MATRIX,
            struct.pack(">II", width << 16, height << 16),
        )  # fmt: skip
        mvhd = _full(
            b"mvhd", 0, struct.pack(">IIIIIH", 0, 0, 1000, duration, 0x10000, 0x100), bytes(10),
            _MATRIX, bytes(24), struct.pack(">I", 2),
        )  # fmt: skip
        return _box(b"moov", mvhd, _box(b"trak", tkhd, mdia))

    size = len(moov(0))
    offset = len(ftyp) + size + 8
    return ftyp + moov(offset) + _box(b"mdat", *chunks)


def _u32s(values: Iterable[int]) -> list[bytes]:
    return [struct.pack(">I", v) for v in values]


CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "mp4": "video/mp4",
}


def make(kind: str) -> bytes:
    """The sample file for an extension in `CONTENT_TYPES`."""
    return {"png": png, "jpg": jpeg, "wav": wav, "mp3": mp3, "mp4": mp4}[kind]()
