"""Render an HTML file in a real headless browser, for the tests of the HTML reports.

The browser is Debian's Chromium (``/usr/bin/chromium``, package ``chromium``, which
``.ci/run`` installs when it is missing), driven through Playwright's sync API. Playwright's
own browser download (``playwright install``) is never used: it cannot reach its servers here.

Playwright is imported inside the functions only, so that this module imports (and its
doctests are collected) on a machine without it; :func:`browser_available` tells whether the
browser can be started.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")

#: The flags that start Chromium headless as root on a machine that reaches no network but
#: the package registries: without the ``--disable-background-networking`` family Chromium
#: tries to reach its own services, and those connections are refused. Playwright gives it a
#: fresh, empty user data directory of its own.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

#: Milliseconds that any one browser step (launch, load, screenshot, print) may take.
TIMEOUT_MS = 30_000

# An A4 page at 96 CSS pixels per inch: 210 mm x 297 mm.
A4_WIDTH = 794
A4_HEIGHT = 1123

_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")

_IMAGES_JS = "images => images.map(i => [i.alt, i.naturalWidth, i.naturalHeight])"


@dataclass(frozen=True)
class Rendered:
    """What a page showed once loaded.

    Attributes
    ----------
    console_errors : list of str
        The console messages of type error, the uncaught page errors and the failed requests,
        in the order they happened.
    images : list of tuple of (str, int, int)
        For every ``<img>`` of the page, in document order: its alt text, its
        ``naturalWidth`` and its ``naturalHeight`` (both 0 when the image did not load).
    title : str
        The document's title.
    text : str
        ``document.body.innerText``: the text as a person sees it.
    """

    console_errors: list[str]
    images: list[tuple[str, int, int]]
    title: str
    text: str


def browser_available() -> bool:
    """Tell whether :func:`render` and :func:`pdf` can run here.

    Returns
    -------
    bool
        True when ``/usr/bin/chromium`` exists and the ``playwright`` package imports.
    """
    if not CHROMIUM.exists():
        return False
    try:
        return importlib.util.find_spec("playwright.sync_api") is not None
    except ImportError:
        return False


@contextmanager
def _page(path: Path, width: int, height: int) -> Iterator[tuple[Page, list[str]]]:
    """Open ``path`` in a fresh headless Chromium and wait until it has loaded.

    Parameters
    ----------
    path : Path
        The HTML file.
    width, height : int
        The viewport, in CSS pixels.

    Yields
    ------
    tuple of (Page, list of str)
        The loaded page, and the list that collects its errors (see
        :attr:`Rendered.console_errors`) as they happen.
    """
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(FLAGS), timeout=TIMEOUT_MS
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(TIMEOUT_MS)

            def on_console(message: Any) -> None:
                if message.type == "error":
                    errors.append(f"console: {message.text}")

            def on_request_failed(request: Any) -> None:
                errors.append(f"request failed: {request.url}: {request.failure}")

            page.on("console", on_console)
            page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
            page.on("requestfailed", on_request_failed)
            page.goto(Path(path).resolve().as_uri(), wait_until="load")
            yield page, errors
        finally:
            browser.close()


def render(
    path: Path, screenshot: Path, *, width: int = A4_WIDTH, height: int = A4_HEIGHT
) -> Rendered:
    """Load an HTML file in headless Chromium, take a screenshot and say what it showed.

    Parameters
    ----------
    path : Path
        The HTML file, opened as a ``file://`` address.
    screenshot : Path
        Where the full-page screenshot is written (PNG).
    width, height : int, optional
        The viewport, in CSS pixels; an A4 page at 96 dpi by default.

    Returns
    -------
    Rendered
        The errors, images, title and text of the loaded page.
    """
    with _page(path, width, height) as (page, errors):
        images = [
            (str(alt), int(w), int(h)) for alt, w, h in page.eval_on_selector_all("img", _IMAGES_JS)
        ]
        title = page.title()
        text = str(page.evaluate("() => document.body.innerText"))
        page.screenshot(path=str(screenshot), full_page=True)
        return Rendered(console_errors=list(errors), images=images, title=title, text=text)


def pdf(path: Path, output: Path) -> int:
    """Print an HTML file to an A4 PDF, as a person's "Print to PDF" would.

    Parameters
    ----------
    path : Path
        The HTML file, opened as a ``file://`` address.
    output : Path
        Where the PDF is written.

    Returns
    -------
    int
        The number of pages of the PDF.
    """
    with _page(path, A4_WIDTH, A4_HEIGHT) as (page, _):
        page.pdf(path=str(output), format="A4", print_background=True)
    return len(_PAGE_OBJECT.findall(Path(output).read_bytes()))


def is_blank(png_path: Path, *, tolerance: float = 0.01) -> bool:
    """Tell whether a PNG is (nearly) a single colour, as a page that drew nothing is.

    Parameters
    ----------
    png_path : Path
        The image.
    tolerance : float, optional
        The standard deviation of the pixel values (scaled to 0..1) under which the image is
        blank.

    Returns
    -------
    bool
        True when the pixels barely vary.
    """
    from matplotlib import image

    pixels = image.imread(png_path)
    if pixels.ndim == 3:
        pixels = pixels[..., :3]  # the alpha channel of a screenshot is uniformly opaque
    return bool(pixels.std() < tolerance)
