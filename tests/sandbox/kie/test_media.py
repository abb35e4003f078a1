"""The emulator's shipped sample files are structurally valid for their formats."""

from __future__ import annotations

import struct
import zlib

import pytest

from trt.sandbox.kie import media


def chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    found, pos = [], 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF
        found.append((kind, data))
        pos += 12 + length
    return found


def boxes(data: bytes, start: int = 0, end: int | None = None) -> dict[bytes, tuple[int, int]]:
    found, pos, end = {}, start, len(data) if end is None else end
    while pos < end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        found[kind] = (pos + 8, pos + size)
        pos += size
    assert pos == end
    return found


def idr_samples(mp4: bytes) -> list[bytes]:
    """The NAL units the sample table points at, each checked to fill its sample exactly."""
    top = boxes(mp4)
    assert list(top) == [b"ftyp", b"moov", b"mdat"]
    moov = boxes(mp4, *top[b"moov"])
    trak = boxes(mp4, *moov[b"trak"])
    mdia = boxes(mp4, *trak[b"mdia"])
    minf = boxes(mp4, *mdia[b"minf"])
    stbl = boxes(mp4, *minf[b"stbl"])
    assert b"avcC" in mp4[slice(*stbl[b"stsd"])]
    stsz_at = stbl[b"stsz"][0]
    _, _, count = struct.unpack(">III", mp4[stsz_at : stsz_at + 12])
    sizes = struct.unpack(f">{count}I", mp4[stsz_at + 12 : stsz_at + 12 + 4 * count])
    offset = struct.unpack(">I", mp4[stbl[b"stco"][0] + 8 : stbl[b"stco"][0] + 12])[0]
    assert offset == top[b"mdat"][0]
    assert sum(sizes) == top[b"mdat"][1] - top[b"mdat"][0]
    nals = []
    for size in sizes:
        (nal_length,) = struct.unpack(">I", mp4[offset : offset + 4])
        assert nal_length == size - 4
        nals.append(mp4[offset + 4 : offset + size])
        offset += size
    return nals


class TestSamples:
    @pytest.mark.parametrize("kind", sorted(media.CONTENT_TYPES))
    def test_every_kind_ships_a_small_file(self, kind):
        """Each extension the emulator serves has a packaged sample of a few KB at most."""
        assert 100 < len(media.sample(kind)) < 8 * 1024

    def test_an_unknown_kind_has_no_sample(self):
        """Asking for an extension the emulator does not serve is a KeyError."""
        with pytest.raises(KeyError):
            media.sample("wav")


class TestImages:
    def test_png_decompresses_to_its_size(self):
        """The PNG has valid CRCs and IDAT holds height rows of 1 + 3×width bytes."""
        png = media.sample("png")
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        parts = chunks(png)
        assert [k for k, _ in parts] == [b"IHDR", b"IDAT", b"IEND"]
        assert struct.unpack(">II", parts[0][1][:8]) == (16, 16)
        assert len(zlib.decompress(parts[1][1])) == 16 * (1 + 3 * 16)

    def test_jpeg_markers_and_size(self):
        """The JPEG is a 16×16 baseline JFIF between SOI and EOI, its scan byte-stuffed."""
        jpeg = media.sample("jpg")
        assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
        assert jpeg[6:11] == b"JFIF\x00"
        sof = jpeg.index(b"\xff\xc0")
        assert struct.unpack(">HH", jpeg[sof + 5 : sof + 9]) == (16, 16)
        scan = jpeg[jpeg.index(b"\xff\xda") + 14 : -2]
        assert all(scan[i + 1] == 0 for i in range(len(scan) - 1) if scan[i] == 0xFF)


class TestAudio:
    def test_mp3_is_a_sequence_of_layer3_frames(self):
        """The MP3 is whole MPEG-1 Layer III frames, each starting with a sync word."""
        mp3 = media.sample("mp3")
        assert len(mp3) > 0 and len(mp3) % 144 == 0
        for offset in range(0, len(mp3), 144):
            header = struct.unpack(">I", mp3[offset : offset + 4])[0]
            assert header >> 21 == 0x7FF  # sync
            assert (header >> 17) & 0b1111 == 0b1101  # MPEG-1, Layer III, no CRC


class TestVideo:
    def test_mp4_box_layout_and_samples(self):
        """The MP4 has ftyp, moov and mdat; stco and stsz point at distinct IDR NAL units."""
        nals = idr_samples(media.sample("mp4"))
        assert len(nals) > 1
        assert all(nal[0] & 0x1F == 5 for nal in nals)  # IDR slices
        assert len(set(nals)) == len(nals)  # every frame differs: the video moves

    def test_no_start_code_emulation_in_nal_units(self):
        """No NAL unit contains 00 00 0x (x ≤ 3): emulation prevention was applied."""
        for nal in idr_samples(media.sample("mp4")):
            assert not any(bytes([0, 0, x]) in nal for x in range(4))
