"""The console command fails on one line, with the documented exit code, in its own words.

Exit codes (``repartition --help``, :mod:`repartition.cli`): 2 for bad arguments, 1 for bad
data or any failure while running; a traceback only with ``--debug``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from repartition import cli
from repartition.cli import main
from repartition.synthetic import synthetic_community
from repartition.synthetic.enedis import write_enedis_export


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    consumption, production = synthetic_community(consumers=2, producers=1, seed=5)
    november = (consumption.index >= "2025-11-01") & (consumption.index < "2025-12-01")
    consumption = consumption.loc[november].set_axis(["30000000000001", "30000000000002"], axis=1)
    production = production.loc[november].set_axis(["50000000000001"], axis=1)
    path = tmp_path_factory.mktemp("exports") / "export.csv"
    write_enedis_export(path, consumption, production)
    return path


def month(export: Path, out: Path, *extra: str) -> list[str]:
    return ["month", str(export), "--month", "2025-11", "--out", str(out), *extra]


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--month", "11/2025", "YYYY-MM"),
        ("--month", "2025-13", "YYYY-MM"),
        ("--tz", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_bad_arguments_exit_2(
    export: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    said: str,
) -> None:
    arguments = [*month(export, tmp_path), option, value]
    with pytest.raises(SystemExit) as exited:
        main(arguments)
    assert exited.value.code == 2
    assert said in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--coefficients", "static.csv"], "--coefficients is only used with --key static"),
        (["--key", "static"], "--key static needs --coefficients"),
        (["--rounding", "recover"], "--rounding applies to the key file: give --operation"),
        (["--overwrite"], "--overwrite applies to the key file: give --operation"),
    ],
)
def test_options_that_would_be_ignored_or_are_missing_are_refused(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], said: str
) -> None:
    assert main(month(export, tmp_path / "out", *extra)) == 2
    assert said in one_line(capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def test_bad_data_exits_1_on_one_line(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(month(tmp_path, tmp_path / "out")) == 1  # a folder given as an export
    assert one_line(capsys.readouterr().err).startswith("repartition month: ")
    assert main(month(tmp_path / "none.csv", tmp_path / "out")) == 1
    assert "none.csv" in one_line(capsys.readouterr().err)


def test_messages_use_the_command_line_spelling(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(month(export, tmp_path, "--operation", "OPE1")) == 0
    capsys.readouterr()
    assert main(month(export, tmp_path, "--operation", "OPE1")) == 1
    message = one_line(capsys.readouterr().err)
    assert "--overwrite" in message
    assert "overwrite=True" not in message
    assert main(month(export, tmp_path, "--operation", "OPE1", "--overwrite")) == 0


def test_an_unexpected_error_is_one_line_and_a_traceback_with_debug(
    export: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(args: object) -> int:
        raise RuntimeError("something broke")

    monkeypatch.setattr(cli, "_month", broken)  # the parser looks it up when built
    assert main(month(export, tmp_path)) == 1
    message = one_line(capsys.readouterr().err)
    assert "unexpected RuntimeError: something broke" in message
    assert "--debug" in message
    with pytest.raises(RuntimeError, match="something broke"):
        main([*month(export, tmp_path), "--debug"])
    with pytest.raises(RuntimeError, match="something broke"):
        main(["--debug", *month(export, tmp_path)])


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "repartition", *month(tmp_path / "none.csv", tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert one_line(done.stderr).startswith("repartition month: ")


def test_ctrl_c_is_one_line_and_exit_code_130(
    export: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_month", interrupted)
    assert main(month(export, tmp_path)) == 130
    assert "interrupted" in one_line(capsys.readouterr().err)


# ------------------------------------------------------------- statements in the same run


def members_file(folder: Path, *, drop: str | None = None) -> Path:
    rows = [
        "prm;name;role;type;tariff;local_price;surplus_price;email",
        "30000000000001;Famille Martin;consommateur;home;0,2516;;;",
        "30000000000002;École Jules Ferry;consommateur;school;0,2000;;;",
        "50000000000001;Toit de la mairie;producteur;pv;;0,12;0,04;",
    ]
    rows = [r for r in rows if drop is None or not r.startswith(drop)]
    path = folder / "members.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("key", ["economic", "optimal"])
def test_month_writes_the_statements_with_any_key(
    export: Path, tmp_path: Path, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("openpyxl")
    charges = tmp_path / "charges.csv"
    charges.write_text("name;on;price\nAccise;complement;0,0225\n", encoding="utf-8")
    out = tmp_path / "out"
    extra = ["--members", str(members_file(tmp_path)), "--charges", str(charges), "--key", key]
    extra += ["--operation", "OPE123", "--compare"]
    if key == "optimal":
        extra += ["--floor", "0.05"]
    assert main(month(export, out, *extra)) == 0
    said = capsys.readouterr().out
    assert "statements    2 consumers, 1 producers" in said
    statements = out / "statements"
    for prm in ("30000000000001", "30000000000002", "50000000000001"):
        for suffix in ("html", "xlsx", "csv"):
            assert (statements / f"2025-11_statement_{prm}.{suffix}").exists()
    report = (statements / "2025-11_operator.html").read_text(encoding="utf-8")
    assert "Accise" in report
    assert "Economic greedy" in report  # the comparison of keys
    assert "Traitement" in report  # how the holes were treated (refused: none)


def test_month_checks_the_members_before_writing_anything(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    members = members_file(tmp_path, drop="30000000000002")
    assert main(month(export, out, "--members", str(members))) == 1
    said = one_line(capsys.readouterr().err)
    assert "30000000000002" in said
    assert not out.exists()
    assert main(month(export, out, "--key", "economic")) == 2
    assert "--key economic needs --members" in capsys.readouterr().err


def test_compare_recommends_a_key_per_goal(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["compare", str(export), "--month", "2025-11", "--members"]
    assert main([*argv, str(members_file(tmp_path)), "--present", "equal-share"]) == 0
    out = capsys.readouterr().out
    for key in ("prorata", "equal-share (present)", "economic", "optimal"):
        assert key in out
    for goal in ("most self-consumption", "fairest", "most savings", "closest to the present"):
        assert goal in out
    assert main(["compare", str(export), "--month", "2025-11", "--present", "static"]) == 2
    assert "--present static is not among the keys" in capsys.readouterr().err


def test_keys_check_and_apply_a_key_file(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "month"
    assert main(month(export, out, "--operation", "OPE123", "--key", "equal-share")) == 0
    capsys.readouterr()
    (key_file,) = out.glob("OPE123_30_*.txt")
    assert main(["keys", "check", str(key_file), str(export)]) == 0
    said = capsys.readouterr().out
    assert "operation OPE123, steps of 30 min, 2025-11-01 to 2025-11-30" in said
    assert "2 consumers, 1,440 steps" in said
    assert "exactly the consumers of the exports" in said
    applied = tmp_path / "applied"
    assert main(["keys", "apply", str(key_file), str(export), "--out", str(applied)]) == 0
    capsys.readouterr()
    import pandas as pd

    (totals,) = applied.glob("*_totals.csv")
    (month_totals,) = out.glob("*totals*.csv")
    mine = pd.read_csv(totals, sep=";", decimal=",")
    theirs = pd.read_csv(month_totals, sep=";", decimal=",")
    shared = [c for c in mine.columns if c in theirs.columns and mine[c].dtype.kind == "f"]
    assert shared
    # The DSO applying the rounded-down key gives each member at most what the key's
    # allocation gave, within the rounding loss the month command reported.
    for column in shared:
        difference = (mine[column] - theirs[column]).abs().max()
        assert difference < 0.5, column  # kWh over the month
    assert main(["keys", "apply", str(key_file)]) == 2
    assert "keys apply needs the exports and --out" in capsys.readouterr().err


@pytest.mark.parametrize("objective", ["savings", "bills", "self-consumption", "fairness"])
def test_optimize_writes_the_optimal_key_file(
    export: Path, tmp_path: Path, objective: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "keys"
    argv = ["optimize", str(export), "--month", "2025-11", "--members"]
    argv += [str(members_file(tmp_path)), "--objective", objective, "--floor", "0.02"]
    assert main([*argv, "--operation", "OPE123", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "optimum" in said
    assert "Prorata" in said
    assert "certified gap" in said
    (key_file,) = out.glob("OPE123_30_01112025_30112025.txt")
    assert main(["keys", "check", str(key_file), str(export)]) == 0


def test_report_writes_the_statements_of_a_key_file_already_sent(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("openpyxl")
    sent = tmp_path / "sent"
    assert main(month(export, sent, "--operation", "OPE123")) == 0
    capsys.readouterr()
    (key_file,) = sent.glob("OPE123_30_*.txt")
    out = tmp_path / "statements"
    argv = ["report", str(export), "--key-file", str(key_file), "--members"]
    argv += [str(members_file(tmp_path)), "--out", str(out), "--lang", "en"]
    assert main(argv) == 0
    # 3 statements in 3 formats, the operator's HTML, workbook and 2 CSV tables.
    assert "statements    13 files" in capsys.readouterr().out
    page = (out / "2025-11_statement_30000000000001.html").read_text(encoding="utf-8")
    assert "Monthly collective self-consumption statement" in page
    assert main(argv) == 1  # the folder exists: nothing replaced
    assert "exists" in capsys.readouterr().err
