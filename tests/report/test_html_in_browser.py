"""The HTML report opened in headless Chromium: it renders (the screenshot is not blank),
its charts are in the DOM, and the browser logs no console message at all (a Content-
Security-Policy violation, i.e. anything external, would log one).

Needs the `chromium` binary (Debian package `chromium`). Skipped with the reason when it
is missing, unless MODELAUDIT_REQUIRE_REALSERVERS=1 (CI), where it fails instead.
"""

from __future__ import annotations

import re
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from modelaudit.report.formats.base import ReportFormat
from modelaudit.report.model import build_report
from modelaudit.report.render import render
from tests.week_history import NOW, SPAN, registry, week_history

pytestmark = pytest.mark.realserver


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            # Nothing may be resolved, let alone fetched: the page must stand alone.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        timeout=90,
        check=False,
    )


def console_lines(stderr: bytes) -> list[str]:
    """What the page said on the console: Chromium logs each message as `...:CONSOLE...`."""
    return [line for line in stderr.decode(errors="replace").splitlines() if ":CONSOLE" in line]


def png_pixels(data: bytes) -> tuple[int, int, list[int]]:
    """Width, height and the grey level of every pixel of an 8-bit RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        chunks.append((data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    header = next(body for kind, body in chunks if kind == b"IHDR")
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8
    assert color in (2, 6)  # RGB or RGBA
    assert interlace == 0
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * channels
    previous = bytearray(stride)
    greys: list[int] = []
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                near = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + near) & 0xFF
        greys.extend(
            (line[i] * 299 + line[i + 1] * 587 + line[i + 2] * 114) // 1000
            for i in range(0, stride, channels)
        )
        previous = line
    return width, height, greys


@pytest.fixture
def report_page(isolated_env: Path) -> Path:
    page = isolated_env / "report.html"
    built = build_report(registry(), week_history(), now=NOW, span=SPAN)
    page.write_text(render(built, ReportFormat.HTML), encoding="utf-8")
    return page


def test_the_report_renders_with_its_charts_and_no_console_message(
    chromium: str, report_page: Path, tmp_path: Path
) -> None:
    done = run_chromium(chromium, tmp_path / "profile", "--dump-dom", report_page.as_uri())

    dom = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert "Model continuity report: last 7d" in dom
    models = 11
    assert len(re.findall(r'<svg[^>]* class="timeline"', dom)) == 2 * models  # table + detail
    assert len(re.findall(r'<svg[^>]* class="latency"', dom)) == models
    assert len(re.findall(r'<svg[^>]* class="factors"', dom)) == models - 1  # one unscored
    assert "<script" not in dom
    assert console_lines(done.stderr) == []


def test_the_screenshot_is_not_blank(chromium: str, report_page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"

    done = run_chromium(
        chromium,
        tmp_path / "profile",
        "--window-size=900,700",
        "--hide-scrollbars",
        f"--screenshot={shot}",
        report_page.as_uri(),
    )

    assert done.returncode == 0, done.stderr.decode()[-2000:]
    width, height, greys = png_pixels(shot.read_bytes())
    assert (width, height) == (900, 700)
    mean = sum(greys) / len(greys)
    variance = sum((g - mean) ** 2 for g in greys) / len(greys)
    assert variance > 500, variance  # a blank page is one grey level: variance 0
    dark = sum(1 for g in greys if g < 128) / len(greys)
    assert dark > 0.01, dark  # text and coloured chart cells, not an empty white page
    assert console_lines(done.stderr) == []


def test_the_console_check_catches_a_page_that_reaches_outside(
    chromium: str, report_page: Path, tmp_path: Path
) -> None:
    # The same report with one external image slipped in: the CSP blocks it and logs.
    page = report_page.read_text().replace(
        "</body>", '<img src="http://cdn.example.invalid/x.png"></body>'
    )
    broken = tmp_path / "broken.html"
    broken.write_text(page)

    done = run_chromium(chromium, tmp_path / "profile", "--dump-dom", broken.as_uri())

    assert any("Content Security Policy" in line for line in console_lines(done.stderr))
