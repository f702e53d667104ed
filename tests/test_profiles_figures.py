"""docs/figures/profiles.py draws the figures of docs/profiles.md: it runs, and every figure
is a real image that the page shows."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
pytest.importorskip("pvlib")
image = pytest.importorskip("matplotlib.image")


@pytest.mark.slow
def test_the_figures_script_draws_every_figure_of_the_page(tmp_path):
    spec = importlib.util.spec_from_file_location("figures", ROOT / "docs/figures/profiles.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.draw(tmp_path)
    page = (ROOT / "docs/profiles.md").read_text(encoding="utf-8")
    assert len(written) == len(module.TITLES) + 1
    for path in written:
        pixels = image.imread(path)
        assert pixels.shape[0] > 200
        assert pixels.shape[1] > 800
        assert pixels.std() > 0.05  # something is drawn
        assert f"figures/profiles/{path.name}" in page  # and the page shows it
        assert (ROOT / "docs/figures/profiles" / path.name).exists()  # committed
