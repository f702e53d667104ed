"""repartition.report: the numbers of every format equal the allocation's, money counted by
hand, a statement shows only its member, the members table and its errors, and the HTML
rendered in a real browser (tests/browser.py)."""

from __future__ import annotations

import zipfile
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import browser  # tests/browser.py
from repartition import allocate, errors, keys
from repartition.report import Charge, Members, month_report, read_members, write_month

pytest.importorskip("openpyxl")
pytest.importorskip("jinja2")
image = pytest.importorskip("matplotlib.image")

CONSUMERS = ["30000000000001", "30000000000002", "30000000000003"]
PRODUCERS = ["30000000002001", "30000000002002"]
NAMES = [
    "Famille Martin",
    "Famille Bernard",
    "École Jules Ferry",
    "Toit de l'école",
    "Toit du gymnase",
]


def members_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "prm": CONSUMERS + PRODUCERS,
            "name": NAMES,
            "role": ["consommateur"] * 3 + ["producteur"] * 2,
            "type": ["home", "home", "school", "pv", "pv"],
            "tariff": ["0,2516", "0,2276", "0,2000", "", ""],
            "local_price": ["", "", "", "0,12", "0,10"],
            "surplus_price": ["", "", "", "0,04", "0,05"],
            "email": ["martin@example.org", "", "", "", ""],
        }
    )


def month(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    index = pd.date_range(
        "2025-06-01", "2025-07-01", freq="30min", tz="Europe/Paris", inclusive="left"
    )
    hour = index.hour.to_numpy() + index.minute.to_numpy() / 60
    sun = np.clip(np.sin((hour - 6) / 14 * np.pi), 0, None)
    consumption = pd.DataFrame(
        rng.uniform(0.1, 1.5, (len(index), 3)), index=index, columns=CONSUMERS
    )
    production = pd.DataFrame(
        np.outer(sun, [4.5, 18.0]) * rng.uniform(0.3, 1.0, (len(index), 1)),
        index=index,
        columns=PRODUCERS,
    )
    return consumption, production


CHARGES = (
    Charge("Accise sur l'électricité", "complement", 0.0225),
    Charge("Accise, petites centrales", "autocons", {PRODUCERS[0]: 0.0}, default=0.0225),
    Charge("TURPE, part énergie", "consumption", 0.0102),
)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory):
    consumption, production = month()
    allocation = allocate(consumption, production, keys.Prorata())
    members = Members.from_frame(members_frame())
    tariffs = members.tariffs(consumption.index)
    from repartition import compare

    candidates = {"Prorata": keys.Prorata(), "Equal share": keys.EqualShare()}
    comparison = compare(consumption, production, candidates, tariffs=tariffs, reference="Prorata")
    report = month_report(
        allocation,
        members,
        tariffs,
        charges=CHARGES,
        key=keys.Prorata(),
        operation_name="Test",
        comparison=comparison,
    )
    folder = tmp_path_factory.mktemp("month") / "out"
    files = write_month(report, folder)
    return SimpleNamespace(
        allocation=allocation, report=report, folder=folder, files=files, tariffs=tariffs
    )


def test_the_money_of_a_case_counted_by_hand():
    # One step: A consumes 2, B 1; PV 1.5 kWh (local 0.10, surplus 0.05); Prorata gives
    # A 1.0 and B 0.5. Retail 0.20; excise 0.02 on COMPLEMENT; 0.01 on AUTOCONS.
    index = pd.date_range("2025-06-02 12:00", periods=1, freq="30min", tz="Europe/Paris")
    consumption = pd.DataFrame({"30000000000001": [2.0], "30000000000002": [1.0]}, index=index)
    production = pd.DataFrame({"30000000002001": [1.5]}, index=index)
    allocation = allocate(consumption, production, keys.Prorata())
    members = Members.from_frame(
        pd.DataFrame(
            {
                "prm": ["30000000000001", "30000000000002", "30000000002001"],
                "name": ["A", "B", "PV"],
                "role": ["consumer", "consumer", "producer"],
                "tariff": ["0.20", "0.20", ""],
                "local_price": ["", "", "0.10"],
                "surplus_price": ["", "", "0.05"],
            }
        )
    )
    charges = [Charge("excise", "complement", 0.02), Charge("network", "autocons", 0.01)]
    report = month_report(allocation, members, members.tariffs(index), charges=charges)
    a = report.consumers["30000000000001"].money
    # A: supplier 0.20 x 1.0, local 0.10 x 1.0, excise 0.02 x 1.0, network 0.01 x 1.0.
    assert a["supplier"] == pytest.approx(0.20)
    assert a["local"] == pytest.approx(0.10)
    assert a["excise"] == pytest.approx(0.02)
    assert a["network"] == pytest.approx(0.01)
    assert a["cost"] == pytest.approx(0.33)
    # Without the operation: 2 kWh at 0.20 + the excise on all of it, 0.02 x 2.
    assert a["cost_without"] == pytest.approx(0.44)
    assert a["savings"] == pytest.approx(0.11)
    pv = report.producers["30000000002001"].total
    assert pv["local_revenue"] == pytest.approx(0.15)  # 1.5 kWh shared at 0.10
    assert pv["surplus_revenue"] == pytest.approx(0.0)
    assert report.consumers["30000000000002"].total["self_sufficiency"] == pytest.approx(0.5)


def test_every_format_has_the_allocations_numbers(written):
    allocation, report, folder, tariffs = (
        written.allocation,
        written.report,
        written.folder,
        written.tariffs,
    )
    totals = allocation.by_consumer()
    for prm in CONSUMERS:
        table = pd.read_csv(
            folder / f"2025-06_statement_{prm}.csv", sep=";", decimal=",", index_col=0
        )
        total = table.iloc[-1]
        assert total.iloc[0] == pytest.approx(totals.loc[prm, "consumption"], abs=1e-6)
        assert total.iloc[1] == pytest.approx(totals.loc[prm, "allocated"], abs=1e-6)
        assert total.iloc[2] == pytest.approx(totals.loc[prm, "grid_supply"], abs=1e-6)
        assert table.iloc[:-1, 0].sum() == pytest.approx(totals.loc[prm, "consumption"], abs=1e-4)
        sheet = pd.read_excel(folder / f"2025-06_statement_{prm}.xlsx", sheet_name=0, index_col=0)
        assert sheet.iloc[-1, 1] == pytest.approx(totals.loc[prm, "allocated"], rel=1e-12)
        assert sheet.columns[0].endswith("[kWh]")
        assert pd.api.types.is_float_dtype(sheet.iloc[:, 0])  # numbers as numbers
        text = (folder / f"2025-06_statement_{prm}.html").read_text(encoding="utf-8")
        shown = f"{totals.loc[prm, 'allocated']:,.1f}".replace(",", "\u202f").replace(".", ",")
        assert shown in text
    producers = allocation.by_producer()
    operator = pd.read_excel(folder / "2025-06_operator.xlsx", sheet_name=None, index_col=0)
    sheet = operator["Producteurs"]
    np.testing.assert_allclose(sheet.iloc[:, 1], producers["production"], rtol=1e-12)
    np.testing.assert_allclose(sheet.iloc[:, 3], producers["surplus"], rtol=1e-12)
    savings = operator["Consommateurs"].iloc[:, -1].to_numpy()
    from repartition.metrics import bills

    plain = bills(allocation, tariffs)["savings"].to_numpy()
    # The statement's savings add the charges' difference to the energy's (tested by hand
    # above); without charges they are metrics.bills' savings.
    no_charges = month_report(allocation, report.members, tariffs)
    np.testing.assert_allclose(
        [s.money["savings"] for s in no_charges.consumers.values()], plain, rtol=1e-12
    )
    assert len(savings) == 3


def test_a_statement_shows_only_its_member(written):
    folder = written.folder
    for own in CONSUMERS:
        others = [p for p in CONSUMERS + PRODUCERS if p != own]
        other_names = [NAMES[k] for k, p in enumerate(CONSUMERS) if p != own]
        for suffix in ("html", "csv", "xlsx"):
            path = folder / f"2025-06_statement_{own}.{suffix}"
            if suffix == "xlsx":
                with zipfile.ZipFile(path) as archive:
                    content = "".join(
                        archive.read(n).decode("utf-8", "replace") for n in archive.namelist()
                    )
            else:
                content = path.read_text(encoding="utf-8")
            for prm in others:
                assert prm not in content, (own, suffix, prm)
            for name in other_names:
                assert name not in content, (own, suffix, name)
    # The operator's report has everyone.
    operator = (folder / "2025-06_operator.html").read_text(encoding="utf-8")
    assert all(prm in operator for prm in CONSUMERS + PRODUCERS)


def test_the_members_table_is_checked_against_the_exports(tmp_path):
    consumption, production = month()
    allocation = allocate(consumption, production, keys.Prorata())
    frame = members_frame()
    path = tmp_path / "members.csv"
    frame.to_csv(path, sep=";", index=False)
    members = read_members(path)
    assert members.name_of(CONSUMERS[2]) == "École Jules Ferry"
    excel = tmp_path / "members.xlsx"
    frame.to_excel(excel, index=False)
    assert read_members(excel).table.equals(members.table)
    missing = Members.from_frame(frame.drop(index=1))
    with pytest.raises(errors.MissingMemberError, match=CONSUMERS[1]):
        month_report(allocation, missing, members.tariffs(consumption.index))
    extra = pd.concat([frame, frame.iloc[[0]].assign(prm="30000000000009", name="X")])
    with pytest.raises(errors.UnknownMemberError, match="30000000000009"):
        Members.from_frame(extra).check(allocation)
    bad = frame.copy()
    bad.loc[2, "prm"] = "3000"
    bad.to_csv(path, sep=";", index=False)
    with pytest.raises(errors.FileFormatError, match=r"line 4: PRM '3000'") as caught:
        read_members(path)
    assert caught.value.line == 4
    bad = frame.copy()
    bad.loc[0, "tariff"] = "cheap"
    with pytest.raises(errors.ParameterError, match="cheap"):
        Members.from_frame(bad).tariffs(consumption.index)


def test_english_labels_and_an_atomic_folder(written, tmp_path):
    allocation, report, tariffs = written.allocation, written.report, written.tariffs
    english = month_report(allocation, report.members, tariffs, lang="en")
    paths = write_month(english, tmp_path / "en", formats=("html",))
    text = paths[0].read_text(encoding="utf-8")
    assert "Monthly collective self-consumption statement" in text
    assert "Relevé" not in text
    with pytest.raises(FileExistsError):
        write_month(english, tmp_path / "en", formats=("html",))
    with pytest.raises(errors.ParameterError, match="pdf"):
        write_month(english, tmp_path / "other", formats=("pdf",))
    assert not (tmp_path / "other").exists()
    with pytest.raises(errors.ParameterError, match="lang"):
        month_report(allocation, report.members, tariffs, lang="de")  # type: ignore[arg-type]


@pytest.mark.slow
def test_the_html_reads_well_in_a_real_browser(written, tmp_path):
    if not browser.browser_available():
        pytest.fail("No browser: .ci/run installs Debian's chromium (tests/browser.py).")
    folder = written.folder
    for page in (
        f"2025-06_statement_{CONSUMERS[2]}.html",
        f"2025-06_statement_{PRODUCERS[1]}.html",
        "2025-06_operator.html",
    ):
        shot = tmp_path / f"{page}.png"
        rendered = browser.render(folder / page, shot)
        assert rendered.console_errors == []
        assert rendered.images, page
        for alt, width, height in rendered.images:
            assert alt
            assert width > 0
            assert height > 0
        assert not browser.is_blank(shot)
        assert image.imread(shot).shape[1] <= 800  # A4 width: nothing wider than the page
        assert browser.pdf(folder / page, tmp_path / f"{page}.pdf") >= 2  # A4 pages
    school = browser.render(folder / f"2025-06_statement_{CONSUMERS[2]}.html", tmp_path / "s.png")
    assert "École Jules Ferry" in school.text
    assert "Taux d'autoproduction" in school.text
    operator = browser.render(folder / "2025-06_operator.html", tmp_path / "o.png")
    assert "Énergie déplacée" in operator.text  # the comparison, labelled
    assert "jain_savings" not in operator.text


def test_a_time_of_use_tariff_whose_calendar_changes_during_the_month():
    # Off-peak hours 22-6 until the 15th, then 23-7 (a supplier moving its off-peak hours):
    # the supplier's line is sum_t price[t] x COMPLEMENT[t] with the price of each step.
    consumption, production = month()
    index = consumption.index
    hours = index.hour
    before = (hours >= 22) | (hours < 6)
    after = (hours >= 23) | (hours < 7)
    off_peak = np.where(index.day <= 15, before, after)
    price = pd.Series(np.where(off_peak, 0.1696, 0.2146), index=index)
    frame = members_frame()
    frame.loc[0, "tariff"] = "HPHC"
    members = Members.from_frame(frame)
    tariffs = members.tariffs(index, time_of_use={"HPHC": price})
    allocation = allocate(consumption, production, keys.Prorata())
    report = month_report(allocation, members, tariffs)
    prm = CONSUMERS[0]
    complement = allocation.grid_supply[prm].to_numpy()
    expected = float((price.to_numpy() * complement).sum())
    assert report.consumers[prm].money["supplier"] == pytest.approx(expected, rel=1e-12)
    # The flat-priced members are unchanged by it.
    other = report.consumers[CONSUMERS[1]].money["supplier"]
    flat = 0.2276 * allocation.grid_supply[CONSUMERS[1]].sum()
    assert other == pytest.approx(flat, rel=1e-12)
