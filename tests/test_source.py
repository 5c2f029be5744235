"""The shared input layer (vmlife.io.source): encodings, bounds, and where errors point."""

from __future__ import annotations

import io

import pytest

from vmlife.errors import InputError
from vmlife.io.source import (
    MAX_CSV_FIELD,
    MAX_DEPTH,
    MAX_NUMBER_CHARS,
    Text,
    csv_records,
    decode,
    loads,
    open_text,
    read_json,
    read_text,
)

DOC = '{"name": "web-1", "statuses": [{"code": "PowerState/running"}], "n": 1.5}'


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (DOC.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + DOC.encode("utf-8"), "utf-8"),  # Out-File -Encoding utf8
        (DOC.encode("utf-16"), "utf-16-le"),  # Windows PowerShell 5.1 '>' (BOM, little end)
        (b"\xfe\xff" + DOC.encode("utf-16-be"), "utf-16-be"),
        (DOC.encode("utf-32"), "utf-32-le"),
        (b"\x00\x00\xfe\xff" + DOC.encode("utf-32-be"), "utf-32-be"),
        (DOC.encode("utf-16-le"), "utf-16-le"),  # no mark: NULs interleaved with ASCII
    ],
)
def test_every_encoding_by_its_mark_reads_the_same(data: bytes, encoding: str) -> None:
    doc = read_json(data, name="view.json")
    assert doc.value["name"] == "web-1" and doc.value["n"] == 1.5
    assert doc.encoding == encoding


def test_paths_streams_and_stdin_read_alike(tmp_path, monkeypatch) -> None:
    path = tmp_path / "v.json"
    path.write_bytes(DOC.encode("utf-16"))
    assert read_json(path).value == read_json(str(path)).value
    assert read_json(path).name == str(path)
    assert read_json(io.BytesIO(DOC.encode("utf-16"))).value["name"] == "web-1"
    assert read_json(io.StringIO(DOC)).value["name"] == "web-1"

    class Stdin(io.StringIO):
        buffer = io.BytesIO(b"\xef\xbb\xbf" + DOC.encode())

    monkeypatch.setattr("sys.stdin", Stdin())
    doc = read_json("-")
    assert doc.name == "<stdin>" and doc.value["name"] == "web-1"


def test_bad_utf8_names_the_encoding_line_and_byte() -> None:
    with pytest.raises(InputError) as err:
        decode(b'{\n"a": "\xff"}', name="f.json")
    e = err.value
    assert e.source == "f.json" and e.record == "line 2"
    assert "UTF-8" in e.reason and "byte 8" in e.reason and "0xff" in e.reason


def test_a_cut_utf16_file_names_utf16() -> None:
    with pytest.raises(InputError, match="UTF-16-LE"):
        decode(DOC.encode("utf-16")[:-1], name="f.json")


def test_a_missing_file_is_an_input_error(tmp_path) -> None:
    with pytest.raises(InputError, match="cannot read") as err:
        read_text(tmp_path / "nope.json")
    assert err.value.source == str(tmp_path / "nope.json")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[" * 100_000, f"deeper than {MAX_DEPTH}"),
        ('{"a": ' * 5000 + "1" + "}" * 5000, f"deeper than {MAX_DEPTH}"),
        ("[" + "1" * 4301 + "]", "an integer of 4301 digits"),
        ("[0." + "1" * 500 + "]", "a number of 502 characters"),
        ("[1e400]", "out of range"),
        ('{"start": NaN}', "NaN is not a JSON number"),
        ('{"start": Infinity}', "Infinity is not a JSON number"),
        ("[-Infinity]", "-Infinity is not a JSON number"),
        ('{"a": 1} {"b": 2}', "extra data"),
        ('{"a": }', "not valid JSON"),
    ],
)
def test_json_beyond_the_bounds_is_refused_by_name(text: str, match: str) -> None:
    with pytest.raises(InputError, match=match) as err:
        loads(text, name="f.json")
    assert err.value.source == "f.json"


def test_json_within_the_bounds_is_read() -> None:
    deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert loads(deep) is not None
    assert loads("[" + "9" * MAX_NUMBER_CHARS + "]") == [int("9" * MAX_NUMBER_CHARS)]
    # brackets inside strings are not nesting
    assert loads('["' + "[" * 1000 + '"]') == ["[" * 1000]


def test_empty_input_says_empty() -> None:
    with pytest.raises(InputError, match="empty"):
        read_json(b"\xef\xbb\xbf  \n", name="p.json")


def test_errors_in_utf16_say_so() -> None:
    with pytest.raises(InputError, match=r"read as UTF-16-LE"):
        read_json('{"a": }'.encode("utf-16"), name="p.json")


def test_csv_records_are_numbered_from_one() -> None:
    rows = list(csv_records(Text("sku,os\nA,linux\n\nB,windows\n", "p.csv", "utf-8")))
    assert rows == [(1, {"sku": "A", "os": "linux"}), (3, {"sku": "B", "os": "windows"})]


def test_csv_field_over_the_limit_names_the_record() -> None:
    text = 'sku,os\nA,linux\n"' + "x" * (MAX_CSV_FIELD + 1) + '",linux\n'
    with pytest.raises(InputError, match=f"longer than {MAX_CSV_FIELD}") as err:
        list(csv_records(Text(text, "p.csv", "utf-8")))
    assert err.value.record == 2


def test_csv_row_with_too_many_fields() -> None:
    with pytest.raises(InputError, match="3 fields but the header has 2") as err:
        list(csv_records(Text("a,b\n1,2,3\n", "p.csv", "utf-8")))
    assert err.value.record == 1


def test_open_text_decodes_a_stream_once_and_leaves_the_callers_stream_open() -> None:
    from vmlife.io.source import close_text

    raw = io.BytesIO(("line1\nline2\n").encode("utf-16"))
    fh, _name, enc, owned = open_text(raw)
    assert (fh.readline(), fh.readline(), enc, owned) == ("line1\n", "line2\n", "utf-16-le", False)
    close_text(fh, owned)
    assert not raw.closed
