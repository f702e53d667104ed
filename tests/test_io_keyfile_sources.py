"""The text files a PMO sends or keeps, as paths or buffers, and what their bytes may hold.

The dynamic key file (:mod:`repartition.io.keyfile`), the Spanish coefficients file
(:mod:`repartition.io.spain`) and the static coefficients file
(:func:`repartition.io.read_static_coefficients`) are UTF-8 text: anything else (a
Latin-1 file, UTF-16, a NUL byte, an empty file) is an
:class:`~repartition.errors.EncodingError` or another
:class:`~repartition.errors.FileFormatError`, naming the file, the line and, for bytes,
the byte offset. Each reader takes a path, an ``os.PathLike``, a binary or a text buffer;
each writer a path or a writable buffer. Random bytes put anywhere in a valid file give a
typed error or a read of what the file now says, never anything else.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from repartition import errors
from repartition.io import (
    read_dynamic_key,
    read_full_dynamic_key,
    read_spanish_coefficients,
    read_static_coefficients,
    write_dynamic_key,
    write_full_dynamic_key,
    write_spanish_coefficients,
)
from repartition.io.keyfile import KeyFileName

KEYS = Path(__file__).parent / "data" / "keys"
DAY = KEYS / "OPE123_30_01112024_01112024.txt"
DAY_BYTES = DAY.read_bytes()
DAY_TEXT = DAY_BYTES.decode("utf-8")
PRMS = ["30000000000001", "30000000000002", "30000000000003"]
STATIC = "PRM;coefficient\r\n30000000000001;0,5\r\n30000000000002;0.3\r\n30000000000003;0,2\r\n"
STATIC_BYTES = STATIC.encode()


def spanish_bytes(year: int = 2025) -> bytes:
    hours = 8784 if year % 4 == 0 else 8760
    shares = (("ES0021000000000001AA", "0,250000"), ("ES0021000000000002BB", "0,750000"))
    lines = [f"{cups};{hour:04d};{share}" for cups, share in shares for hour in range(1, hours + 1)]
    return ("\r\n".join(lines) + "\r\n").encode()


SPAIN = "CAU1_2025.txt"
SPAIN_BYTES = spanish_bytes()
SPAIN_TABLE = read_spanish_coefficients(io.BytesIO(SPAIN_BYTES), name=SPAIN)


def _read_key(data: bytes | str) -> pd.DataFrame:
    buffer = io.StringIO(data) if isinstance(data, str) else io.BytesIO(data)
    return read_dynamic_key(buffer, name=DAY.name)


def _read_spain(data: bytes | str) -> pd.DataFrame:
    buffer = io.StringIO(data) if isinstance(data, str) else io.BytesIO(data)
    return read_spanish_coefficients(buffer, name=SPAIN)


def _read_static(data: bytes | str) -> pd.Series:
    return read_static_coefficients(
        io.StringIO(data) if isinstance(data, str) else io.BytesIO(data)
    )


READERS = {"key": (_read_key, DAY_BYTES), "spain": (_read_spain, SPAIN_BYTES),
           "static": (_read_static, STATIC_BYTES)}  # fmt: skip


# ------------------------------------------------------------------------------------------
# Encodings: EncodingError naming the file, line and byte offset
# ------------------------------------------------------------------------------------------


def test_a_latin_1_key_file_names_its_line_and_byte(tmp_path):
    # A PMO's spreadsheet saved a PRM followed by an 'é' in Latin-1 (0xE9).
    data = DAY_BYTES.replace(b"30000000000002;", "30000000000002é;".encode("latin-1"), 1)
    path = tmp_path / DAY.name
    path.write_bytes(data)
    with pytest.raises(errors.EncodingError) as caught:
        read_dynamic_key(path)
    raised = caught.value
    assert (raised.path, raised.line, raised.offset) == (path, 1, data.index(b"\xe9"))
    for words in (str(path), "line 1", f"offset {raised.offset}", "0xE9", "Latin-1", "UTF-8"):
        assert words in str(raised)


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize(
    ("damage", "line", "words"),
    [
        (lambda data: data.decode().encode("utf-16"), 1, ["UTF-16", "FF FE"]),
        (lambda data: data.decode().encode("utf-16-le"), 1, ["UTF-16", "every other byte"]),
        (lambda data: data.replace(b"\n", b"\n\x00", 1), 2, ["NUL"]),
        (lambda data: data.replace(b"\n", b"\n\xff", 1), 2, ["0xFF", "not valid UTF-8"]),
        (lambda data: data.replace(b"\n", b"\n\x07", 1), 2, ["control", "0x07"]),
    ],
    ids=["utf-16", "utf-16 without mark", "nul", "invalid utf-8", "control"],
)
def test_bytes_that_are_not_utf8_text(reader, damage, line, words):
    read, valid = READERS[reader]
    data = damage(valid)
    with pytest.raises(errors.EncodingError) as caught:
        read(data)
    raised = caught.value
    assert raised.line == line
    assert raised.path == "<BytesIO>"
    assert raised.offset is not None
    for word in [f"line {line}", f"offset {raised.offset}", *words]:
        assert word in str(raised)


@pytest.mark.parametrize("reader", list(READERS))
def test_an_empty_file(reader, tmp_path):
    read, _ = READERS[reader]
    for empty in (b"", "", b"\xef\xbb\xbf"):
        with pytest.raises(errors.FileFormatError, match="is empty"):
            read(empty)


# ------------------------------------------------------------------------------------------
# The static coefficients file, line by line
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error", "line", "member", "words"),
    [
        ("PRM;share\nA;0,5\n", errors.ColumnError, 1, None, ["PRM;coefficient"]),
        ("PRM\nA;0,5\n", errors.ColumnError, 1, None, ["PRM;coefficient"]),
        ("PRM;coefficient\n", errors.FileFormatError, 1, None, ["no coefficient"]),
        # An extra field (a third column, a ';' in a number) names its own line.
        ("PRM;coefficient\nA;0,5\nB;0;3\nC;0,1\n", errors.ColumnError, 3, None, ["3 fields"]),
        ("PRM;coefficient\nA;0,5\nB\n", errors.ColumnError, 3, None, ["1 fields"]),
        ("PRM;coefficient\nA;0,5\n\nB;0,1\n", errors.FileFormatError, 3, None, ["empty"]),
        ("PRM;coefficient\nA;0,5\n\n", errors.FileFormatError, 3, None, ["empty"]),
        ("PRM;coefficient\n;0,5\n", errors.FileFormatError, 2, None, ["empty"]),
        ("PRM;coefficient\nA B;0,5\n", errors.FileFormatError, 2, "A B", ["spaces"]),
        ("PRM;coefficient\nA;half\n", errors.FileFormatError, 2, "A", ["'half'", "0,25"]),
        ("PRM;coefficient\nA;0,5,1\n", errors.FileFormatError, 2, "A", ["not a number"]),
        ("PRM;coefficient\nA;nan\n", errors.FileFormatError, 2, "A", ["not a number"]),
        ("PRM;coefficient\nA;1e-3\n", errors.FileFormatError, 2, "A", ["not a number"]),
        ("PRM;coefficient\nA;-0,5\n", errors.FileFormatError, 2, "A", ["not a number"]),
        ("PRM;coefficient\nA;\n", errors.FileFormatError, 2, "A", ["not a number"]),
        ("PRM;coefficient\nA;25\n", errors.CoefficientRangeError, 2, "A", ["above 1", "25 %"]),
        ("PRM;coefficient\nA;0,5\nB;0,1\nA;0,2\n", errors.FileFormatError, 4, "A",
         ["twice", "line 2"]),
        ("PRM;coefficient\nA;0,\uff15\n", errors.FileFormatError, 2, "A", ["not a number"]),
    ],
)  # fmt: skip
def test_static_coefficients_are_read_strictly(tmp_path, text, error, line, member, words):
    path = tmp_path / "static.csv"
    path.write_text(text, encoding="utf-8")
    for given_file, name in ((path, path), (io.StringIO(text), "<StringIO>")):
        with pytest.raises(error) as caught:
            read_static_coefficients(given_file)
        raised = caught.value
        assert (raised.path, raised.line, raised.member) == (name, line, member)
        for word in [str(name), f"line {line}", *words]:
            assert word in str(raised)


def test_static_coefficients_accept_spaces_a_bom_and_both_marks(tmp_path):
    text = "\ufeff PRM ; Coefficient \r\n0001 ; 0,25\r\nB;.5\r\nC;1\r\nD;0\r\n".replace(".5", "0.5")
    series = read_static_coefficients(io.BytesIO(text.encode()))
    assert series.index.tolist() == ["0001", "B", "C", "D"]  # leading zeros kept
    assert series.tolist() == [0.25, 0.5, 1.0, 0.0]


# ------------------------------------------------------------------------------------------
# Readers take paths, PathLike, binary and text buffers
# ------------------------------------------------------------------------------------------


def test_key_file_readers_take_buffers(tmp_path):
    expected = read_dynamic_key(DAY)
    with open(DAY, "rb") as binary, open(DAY, encoding="utf-8", newline="") as text:
        for source in (str(DAY), binary, text, io.BytesIO(DAY_BYTES), io.StringIO(DAY_TEXT)):
            pd.testing.assert_frame_equal(read_dynamic_key(source), expected)
    # A buffer is checked against the name given, then its own name, else its content.
    with pytest.raises(errors.FileFormatError, match="file name says 02/11/2024"):
        read_dynamic_key(io.BytesIO(DAY_BYTES), name="OPE123_30_02112024_02112024.txt")
    with pytest.raises(errors.StepLengthError):
        read_dynamic_key(
            io.BytesIO(DAY_BYTES), name=KeyFileName.parse("X_60_01112024_01112024.txt")
        )
    named = io.BytesIO(DAY_BYTES)
    named.name = "uploads/OPE123_15_01112024_01112024.txt"
    with pytest.raises(errors.StepLengthError, match="uploads/OPE123_15"):
        read_dynamic_key(named)
    inferred = read_dynamic_key(io.BytesIO(DAY_BYTES))
    pd.testing.assert_frame_equal(inferred, expected)
    one_row = "Horodate;A\r\n01/11/2024 00:00;10,00\r\n"
    with pytest.raises(errors.ParameterError, match="name="):
        read_dynamic_key(io.StringIO(one_row))


def test_full_key_readers_take_buffers():
    files = sorted((KEYS / "full").glob("*.txt"))
    expected = read_full_dynamic_key(files)
    buffers = []
    for path in files:
        buffer = io.BytesIO(path.read_bytes())
        buffer.name = path.name
        buffers.append(buffer)
    assert read_full_dynamic_key(buffers).keys() == expected.keys()
    mapping = {
        producer: io.BytesIO(path.read_bytes())
        for producer, path in zip(expected, files, strict=True)
    }
    tables = read_full_dynamic_key(mapping)
    for producer in expected:
        pd.testing.assert_frame_equal(tables[producer], expected[producer])
    with pytest.raises(errors.ParameterError, match="mapping"):
        read_full_dynamic_key([io.BytesIO(files[0].read_bytes())])


def test_spanish_reader_takes_buffers(tmp_path):
    path = tmp_path / SPAIN
    path.write_bytes(SPAIN_BYTES)
    expected = read_spanish_coefficients(path)
    with open(path, "rb") as binary:
        pd.testing.assert_frame_equal(read_spanish_coefficients(binary), expected)
    pd.testing.assert_frame_equal(_read_spain(SPAIN_BYTES.decode()), expected)
    with pytest.raises(errors.ParameterError, match="name="):
        read_spanish_coefficients(io.BytesIO(SPAIN_BYTES))
    with pytest.raises(errors.FileFormatError, match="is not 0001 to 8760"):
        read_spanish_coefficients(io.BytesIO(spanish_bytes(2024)), name=SPAIN)


def test_what_is_not_a_file_is_a_typed_error():
    for read in (read_dynamic_key, read_spanish_coefficients, read_static_coefficients):
        with pytest.raises(errors.ParameterTypeError, match="path"):
            read(3.5)


# ------------------------------------------------------------------------------------------
# Writers take a folder or a writable buffer
# ------------------------------------------------------------------------------------------


def day_key() -> pd.DataFrame:
    index = pd.date_range("2024-11-01", periods=48, freq="30min", tz="Europe/Paris")
    return pd.DataFrame({"30000000000001": 0.6, "30000000000002": 0.39869}, index=index)


def test_a_key_file_written_to_a_buffer_is_the_file(tmp_path):
    on_disk = write_dynamic_key(day_key(), tmp_path, "OPE123")
    assert on_disk.path is not None
    binary, text = io.BytesIO(), io.StringIO()
    for buffer in (binary, text):
        written = write_dynamic_key(day_key(), buffer, "OPE123")
        assert written.path is None
        assert str(written.name) == on_disk.path.name
        pd.testing.assert_frame_equal(written.coefficients, on_disk.coefficients)
    assert binary.getvalue() == on_disk.path.read_bytes()
    assert text.getvalue() == on_disk.path.read_bytes().decode()
    # Read back from the buffer, checked against the name the format gives it.
    back = read_dynamic_key(io.BytesIO(binary.getvalue()), name=str(on_disk.name))
    pd.testing.assert_frame_equal(back, on_disk.coefficients, check_freq=False)


def test_a_refused_key_leaves_the_buffer_untouched():
    bad = day_key()
    bad.iloc[5, 0] = 1.5
    buffer = io.BytesIO(b"before")
    buffer.seek(0, io.SEEK_END)
    with pytest.raises(errors.CoefficientRangeError):
        write_dynamic_key(bad, buffer, "OPE123")
    with pytest.raises(errors.ParameterError):
        write_dynamic_key(day_key(), buffer, "OPE123", line_ending="\r")
    assert buffer.getvalue() == b"before"
    closed = io.BytesIO()
    closed.close()
    for destination in (closed, 42):
        with pytest.raises(errors.ParameterTypeError, match="open for writing"):
            write_dynamic_key(day_key(), destination, "OPE123")


def test_a_full_key_written_to_buffers(tmp_path):
    key = {"PV1": day_key(), "PV2": day_key() * 0.5}
    on_disk = write_full_dynamic_key(key, tmp_path, "OPE1")
    buffers = {"PV1": io.BytesIO(), "PV2": io.StringIO()}
    written = write_full_dynamic_key(key, buffers, "OPE1")
    for producer, buffer in buffers.items():
        path = on_disk[producer].path
        assert path is not None
        assert str(written[producer].name) == path.name
        content = buffer.getvalue()
        assert (content if isinstance(content, bytes) else content.encode()) == path.read_bytes()
    with pytest.raises(errors.ParameterError, match="one buffer per producer"):
        write_full_dynamic_key(key, {"PV1": io.BytesIO()}, "OPE1")
    bad = {"PV1": day_key(), "PV2": day_key() * 1.2}  # PV2's rows sum above 1
    buffers = {"PV1": io.BytesIO(), "PV2": io.BytesIO()}
    with pytest.raises(errors.CoefficientSumError):
        write_full_dynamic_key(bad, buffers, "OPE1")
    assert all(buffer.getvalue() == b"" for buffer in buffers.values())


def test_spanish_coefficients_written_to_a_buffer(tmp_path):
    fixed = pd.Series({"ES0021000000000001AA": 0.6, "ES0021000000000002BB": 0.4})
    on_disk = write_spanish_coefficients(fixed, tmp_path, "CAU1", 2025)
    buffer = io.BytesIO()
    written = write_spanish_coefficients(fixed, buffer, "CAU1", 2025)
    assert written.path is None
    assert on_disk.path is not None
    assert written.name == on_disk.path.name == "CAU1_2025.txt"
    assert buffer.getvalue() == on_disk.path.read_bytes()


# ------------------------------------------------------------------------------------------
# Random damage: a typed error or a read of what the file now says
# ------------------------------------------------------------------------------------------

DAMAGE = {
    "where": st.floats(0, 1, exclude_max=True),
    "new": st.one_of(
        st.binary(min_size=1, max_size=3),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=2).map(
            str.encode
        ),
        st.sampled_from([b"\xff", b"\xe9", b"\x00", b";", b"\n", b"\r\n", b",", b"9", b"-"]),
    ),
    "insert": st.booleans(),
}


def _damage(data: bytes, where: float, new: bytes, insert: bool) -> tuple[bytes, set[int]]:
    """``data`` with ``new`` put at a relative position; the 0-based lines it touched."""
    at = int(where * len(data))
    damaged = data[:at] + new + data[at + (0 if insert else len(new)) :]
    first = data.count(b"\n", 0, at)
    last = data.count(b"\n", 0, min(len(data), at + len(new)))
    return damaged, set(range(first, last + 1))


@given(**DAMAGE)
def test_a_damaged_key_file(where, new, insert):
    """A damaged key file: a RepartitionError, or the same steps and PRMs in which only
    the damaged row's (or the header's) values may differ."""
    expected = _read_key(DAY_BYTES)
    damaged, touched = _damage(DAY_BYTES, where, new, insert)
    try:
        table = _read_key(damaged)
    except errors.RepartitionError:
        return
    assert table.index.equals(expected.index)
    if 0 in touched:  # the header: a PRM renamed, the values all kept
        np.testing.assert_array_equal(table.to_numpy(), expected.to_numpy())
        return
    assert list(table.columns) == list(expected.columns)
    differs = np.flatnonzero((table.to_numpy() != expected.to_numpy()).any(axis=1))
    assert set((differs + 1).tolist()) <= touched  # row r is line r + 2, 0-based r + 1


@given(**DAMAGE)
def test_a_damaged_spanish_file(where, new, insert):
    """Every hour must sum to 1 and every CUPS have every hour: one damaged line cannot
    keep both, so a read is the file as it was (spaces after a CUPS aside)."""
    damaged, _ = _damage(SPAIN_BYTES, where, new, insert)
    try:
        table = _read_spain(damaged)
    except errors.RepartitionError:
        return
    pd.testing.assert_frame_equal(table, SPAIN_TABLE)


@given(**DAMAGE)
def test_a_damaged_static_file(where, new, insert):
    """A RepartitionError, or the lines left whole read as they were, and at most one
    other value per damaged line."""
    expected = _read_static(STATIC_BYTES)
    damaged, touched = _damage(STATIC_BYTES, where, new, insert)
    try:
        series = _read_static(damaged)
    except errors.RepartitionError:
        return
    lines = STATIC_BYTES.decode().splitlines()
    for number, (prm, value) in enumerate(expected.items(), start=1):
        if number not in touched:
            assert series.get(prm) == value, lines[number]
    assert len(series) <= len(expected) + new.count(b"\n")
