"""report.html in a real browser: headless Chromium renders it with no console message, the table and the
figures are in the DOM, and a screenshot is saved (path printed; kept under pytest's tmp directory).

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it when missing); ``SKILLIT_CHROMIUM`` names
another binary. Console messages are read from Chromium's own log (``--enable-logging=stderr``), where every
``console.*`` call and uncaught error of the page appears as a ``CONSOLE`` line; a control page with a
deliberate error checks that this detection works on the installed Chromium.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from skillit.report.html import write_report
from tests.report.rundirs import make_run_dir

PNG = b"\x89PNG\r\n\x1a\n"


def find_chromium() -> str | None:
    for name in (os.environ.get("SKILLIT_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def chromium() -> str:
    found = find_chromium()
    if found is None:
        pytest.skip("no Chromium found (install Debian's `chromium` package, as .ci/run does, or set SKILLIT_CHROMIUM)")
    return found


def run_chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}",
               *args, page.resolve().as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_console_detection_catches_a_page_error(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><body><script>console.error('planted'); missing();</script></body></html>")
    result = run_chromium(page, tmp_path / "profile", "--dump-dom")
    messages = console_messages(result.stderr)
    assert any("planted" in m for m in messages) and any("missing is not defined" in m for m in messages)


def test_report_renders_without_console_errors_with_table_and_figures(tmp_path):
    page = write_report([make_run_dir(tmp_path / "one", name="first"), make_run_dir(tmp_path / "two", name="second")],
                        tmp_path / "report.html")
    dom = run_chromium(page, tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert console_messages(dom.stderr) == []
    html = dom.stdout
    assert html.count('<table class="methods') == 3  # the comparison and each run's method table
    images = re.findall(r'<img class="figure" alt="([^"]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 9  # comparison + (loss, accuracy, mixture, learned graph) × 2 runs
    import base64

    assert all(base64.b64decode(data).startswith(PNG) for _, data in images)
    shot = tmp_path / "report.png"
    result = run_chromium(page, tmp_path / "profile", "--window-size=1280,1600", f"--screenshot={shot}",
                          "--hide-scrollbars")
    assert console_messages(result.stderr) == []
    assert shot.read_bytes().startswith(PNG) and shot.stat().st_size > 50_000  # a page with figures, not blank
    print(f"screenshot: {shot}")
