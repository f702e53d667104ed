"""tests/browser.py renders HTML in a real headless Chromium, and sees what a person would.

These tests need Debian's Chromium (``/usr/bin/chromium``, which ``.ci/run`` installs) and the
``playwright`` package (in the ``test`` extra). When either is missing they fail, so that CI
can never pass them by skipping. Set ``REPARTITION_NO_BROWSER=1`` to skip them instead, on a
machine that has no browser on purpose.
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import pytest

import browser

pytestmark = pytest.mark.slow  # a browser start costs about 2 s; CI runs the slow pass too


@pytest.fixture(autouse=True)
def _chromium() -> None:
    """Fail (or, with ``REPARTITION_NO_BROWSER=1``, skip) when the browser is missing."""
    if os.environ.get("REPARTITION_NO_BROWSER") == "1":
        pytest.skip("REPARTITION_NO_BROWSER=1: the browser tests are skipped")
    if not browser.browser_available():
        pytest.fail(
            "No browser: tests/browser.py needs /usr/bin/chromium (Debian's package 'chromium', "
            "which .ci/run installs: `apt-get install chromium`) and the 'playwright' package "
            "(`pip install -e '.[test]'`). Set REPARTITION_NO_BROWSER=1 to skip these tests."
        )


def _png() -> bytes:
    """A small real PNG: a line drawn by matplotlib."""
    figure_module = pytest.importorskip("matplotlib.figure")
    figure = figure_module.Figure(figsize=(2, 1), dpi=50)
    figure.add_subplot().plot([0, 1, 2], [0, 1, 0], color="tab:blue")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _write(tmp_path: Path, name: str, title: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body>{body}</body></html>\n",
        encoding="utf-8",
    )
    return path


def test_a_good_page_loads_cleanly_shows_its_image_and_prints_on_one_page(tmp_path):
    data = base64.b64encode(_png()).decode("ascii")
    page = _write(
        tmp_path,
        "good.html",
        "Statement",
        "<h1>Member statement</h1><p>Your share of the production this month.</p>"
        f'<img alt="production" src="data:image/png;base64,{data}">',
    )
    shot = tmp_path / "good.png"
    rendered = browser.render(page, shot)
    assert rendered.console_errors == []
    assert rendered.title == "Statement"
    assert "Member statement" in rendered.text
    assert "Your share of the production this month." in rendered.text
    assert rendered.images == [("production", 100, 50)]
    assert shot.stat().st_size > 0
    assert not browser.is_blank(shot)
    assert browser.pdf(page, tmp_path / "good.pdf") == 1


def test_an_empty_page_screenshot_is_blank(tmp_path):
    shot = tmp_path / "empty.png"
    rendered = browser.render(_write(tmp_path, "empty.html", "Empty", ""), shot, width=200)
    assert rendered.console_errors == []
    assert rendered.images == []
    assert browser.is_blank(shot)


def test_a_broken_page_reports_its_errors_and_its_missing_image(tmp_path):
    page = _write(
        tmp_path,
        "broken.html",
        "Broken",
        '<h1>Broken</h1><img alt="missing" src="missing.png">'
        '<script>throw new Error("boom")</script>',
    )
    rendered = browser.render(page, tmp_path / "broken.png")
    assert rendered.console_errors
    assert any("boom" in error for error in rendered.console_errors)
    assert any("missing.png" in error for error in rendered.console_errors)
    assert rendered.images == [("missing", 0, 0)]
