"""The ``floatsim`` command line: output shape and values against published constants.

Expected values are typed in from the specifications (OCP Microscaling Formats
v1.0, OCP 8-bit Floating Point v1.0), not computed with floatsim.
"""

import csv
import doctest
import io
import math
import pathlib
import subprocess
import sys

import pytest

from floatsim.cli import exact_decimal, hex_float, main

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"

# OCP MX v1.0, table of FP4 (E2M1) values: codes 0x0..0x7, then the same magnitudes negated
FP4_VALUES = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def data_lines(text):
    """Table rows: every line that is not a '#' header line."""
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_fp4_table_text(capsys):
    status, out, err = run(capsys, "table", "float4_e2m1fn")
    assert status == 0, err
    rows = [line.split() for line in data_lines(out)]
    assert len(rows) == 16
    # code  S EE M  class  hex  value
    for code, row in enumerate(rows):
        assert row[0] == f"0x{code:X}"
        assert "".join(row[1:4]) == format(code, "04b")
        magnitude = FP4_VALUES[code & 7]
        expected = -magnitude if code & 8 else magnitude
        assert float(row[-1]) == expected
        assert math.copysign(1.0, float(row[-1])) == (-1.0 if code & 8 else 1.0)  # -0 printed as "-0"
        assert float.fromhex(row[-2]) == expected
    classes = [r[4] for r in rows]
    assert classes[:8] == ["zero", "subnormal"] + ["normal"] * 6
    assert classes[8:] == classes[:8]
    assert "# float4_e2m1fn: FloatFormat(exponent_bits=2, mantissa_bits=1" in out


def test_fp4_table_csv(capsys):
    status, out, _ = run(capsys, "table", "fp4", "--format", "csv")
    assert status == 0
    records = list(csv.DictReader(io.StringIO(out)))
    assert len(records) == 16
    assert list(records[0]) == ["code", "sign", "exponent", "mantissa", "class", "hex", "value"]
    assert [float(r["value"]) for r in records[:8]] == FP4_VALUES
    assert [float(r["value"]) for r in records[8:]] == [-v for v in FP4_VALUES]
    assert records[7] == {
        "code": "0x7",
        "sign": "0",
        "exponent": "11",
        "mantissa": "1",
        "class": "normal",
        "hex": "0x1.8p+2",
        "value": "6",
    }


def test_e4m3fn_max_and_nan(capsys):
    status, out, _ = run(capsys, "table", "float8_e4m3fn")
    assert status == 0
    rows = {r.split()[0]: r.split() for r in data_lines(out)}
    assert len(rows) == 256
    # OCP FP8 v1.0: E4M3 max normal S.1111.110 = 448, S.1111.111 = NaN, min subnormal 2**-9
    assert rows["0x7E"][1:] == ["0", "1111", "110", "normal", "0x1.cp+8", "448"]
    assert rows["0x7F"][4] == "nan" and rows["0x7F"][-1] == "nan"
    assert rows["0xFF"][4] == "nan"
    assert rows["0xFE"][-1] == "-448"
    assert rows["0x01"][4:] == ["subnormal", "0x1p-9", "0.001953125"]
    assert rows["0x08"][4:] == ["normal", "0x1p-6", "0.015625"]


def test_e5m2_has_infinities(capsys):
    status, out, _ = run(capsys, "table", "float8_e5m2", "--format", "csv")
    assert status == 0
    records = {r["code"]: r for r in csv.DictReader(io.StringIO(out))}
    assert records["0x7B"]["value"] == "57344"  # OCP FP8 E5M2 max normal
    assert (records["0x7C"]["class"], records["0x7C"]["value"]) == ("inf", "inf")
    assert (records["0xFC"]["class"], records["0xFC"]["value"]) == ("inf", "-inf")
    assert records["0x7D"]["class"] == "nan"


def test_e8m0_unsigned_without_mantissa(capsys):
    status, out, _ = run(capsys, "table", "float8_e8m0fnu", "--format", "csv")
    assert status == 0
    records = list(csv.DictReader(io.StringIO(out)))
    assert list(records[0]) == ["code", "exponent", "class", "hex", "value"]
    assert len(records) == 256
    # OCP MX v1.0 E8M0: 0x00 = 2**-127, 0x7F = 1, 0xFE = 2**127, 0xFF = NaN
    assert records[0]["hex"] == "0x1p-127"
    assert records[0x7F]["value"] == "1"
    assert records[0xFE]["value"] == "1.70141183460469231731687303715884105728e+38"  # 2**127, every digit
    assert records[0xFF]["class"] == "nan"


def test_int4_table(capsys):
    status, out, _ = run(capsys, "table", "int4")
    assert status == 0
    rows = [line.split() for line in data_lines(out)]
    assert [int(r[-1]) for r in rows] == list(range(8)) + list(range(-8, 0))
    assert rows[0xF][1:] == ["1111", "int", "-1"]


def test_bfloat16_has_65536_rows(capsys):
    status, out, _ = run(capsys, "table", "bfloat16")
    assert status == 0
    assert len(data_lines(out)) == 65536


def test_wide_format_needs_limit(capsys):
    status, out, err = run(capsys, "table", "float32")
    assert status == 2
    assert out == ""
    assert "--limit" in err and "4294967296" in err
    status, out, err = run(capsys, "table", "float32", "--limit", "3")
    assert status == 0, err
    rows = [line.split() for line in data_lines(out)]
    assert [r[0] for r in rows] == ["0x00000000", "0x00000001", "0x00000002"]
    assert rows[1][-2:] == ["0x1p-149", exact_decimal(2.0**-149)]


def test_unknown_format_exits_2(capsys):
    status, out, err = run(capsys, "table", "float8_e4m3fm")
    assert status == 2
    assert out == ""
    assert "Close matches" in err and "float8_e4m3fn" in err


def test_list(capsys):
    status, out, _ = run(capsys, "list")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["name", "bits", "layout"]
    e4m3fn = next(line.split() for line in lines if line.startswith("float8_e4m3fn "))
    assert e4m3fn == ["float8_e4m3fn", "8", "E4M3", "7", "fn", "448", "2^-6", "2^-9"]


def test_readme_format_table_is_current(capsys):
    """The README's table of formats is the output of `floatsim list --format markdown`."""
    status, out, _ = run(capsys, "list", "--format", "markdown")
    assert status == 0
    if not README.exists():
        pytest.skip("README.md not present (installed package)")
    text = README.read_text(encoding="utf-8")
    start, end = "<!-- formats-table:start -->\n", "<!-- formats-table:end -->"
    assert start in text and end in text
    table = text.split(start, 1)[1].split(end, 1)[0]
    assert table.strip() == out.strip(), "regenerate with: python -m floatsim list --format markdown"


def test_readme_example():
    """The README's Python example runs and prints what it shows."""
    if not README.exists():
        pytest.skip("README.md not present (installed package)")
    text = README.read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    assert blocks, "README has no ```python block"
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for k, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, {}, f"README.md python block {k}", str(README), 0))
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0


def test_readme_commands_match_ci():
    """The README's one-line test command is exactly what .ci/run executes."""
    if not (README.exists() and CI_RUN.exists()):
        pytest.skip("source checkout only")
    ci = CI_RUN.read_text(encoding="utf-8")
    command = ci.split('TEST_COMMAND="', 1)[1].split('"\n', 1)[0]
    assert command == "pip install -e '.[test]' && pytest -q"
    readme_lines = README.read_text(encoding="utf-8").splitlines()
    assert command in readme_lines
    assert "pip install . && floatsim table float8_e4m3fn" in readme_lines
    docs = ci.split('DOCS_COMMAND="', 1)[1].split('"\n', 1)[0]
    assert docs == "pip install -e '.[docs]' && mkdocs build"
    assert docs in readme_lines


def test_number_formatting():
    assert exact_decimal(2.0**-24) == "5.9604644775390625e-8"
    assert exact_decimal(2.0**70) == "1.180591620717411303424e+21"
    assert exact_decimal(57344.0) == "57344"
    assert exact_decimal(0.1) == "0.1000000000000000055511151231257827021181583404541015625"
    assert hex_float(448.0) == "0x1.cp+8"
    assert hex_float(-1.0) == "-0x1p+0"


def test_python_dash_m():
    proc = subprocess.run(
        [sys.executable, "-m", "floatsim", "table", "float4_e2m1fn"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in data_lines(proc.stdout)]
    assert len(rows) == 16
    assert [float(r[-1]) for r in rows] == FP4_VALUES + [-v for v in FP4_VALUES]


def test_python_dash_m_unknown_format():
    proc = subprocess.run(
        [sys.executable, "-m", "floatsim", "table", "float4_e2m1fx"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 2
    assert "Close matches" in proc.stderr
