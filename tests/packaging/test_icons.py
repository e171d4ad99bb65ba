"""packaging/icons.py: PNG sizes and a multi-size .ico rendered from the one SVG source."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_icons_rendered_from_svg(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "packaging/icons.py"), str(tmp_path)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    for size in (16, 24, 32, 48, 64, 128, 256, 512, 1024):
        png = (tmp_path / f"chainfolio-{size}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", png[16:24]) == (size, size)
        assert len(png) > 300  # not blank: the SVG was actually drawn
    ico = (tmp_path / "chainfolio.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind, count) == (0, 1, 7)
    edges = [ico[6 + 16 * i] or 256 for i in range(count)]
    assert edges == [16, 24, 32, 48, 64, 128, 256]
    first_offset = struct.unpack("<I", ico[6 + 12 : 6 + 16])[0]
    assert ico[first_offset : first_offset + 8] == b"\x89PNG\r\n\x1a\n"
