"""The analysis commands of the `floatsim` command line, each run in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest


def run(*args, check=True):
    res = subprocess.run([sys.executable, "-m", "floatsim", *args], capture_output=True, text=True, timeout=120)
    if check:
        assert res.returncode == 0, res.stderr
    return res


def test_info_of_a_custom_spec():
    info = json.loads(run("info", "e5m2:bias=15:fn", "--json").stdout)
    assert info["max"] == 98304.0 and info["specials"] == "fn" and info["nan_code"] == "0x7f"
    assert "smallest_subnormal" in run("info", "float8_e4m3fn").stdout


def test_info_p3109_and_int_specs():
    assert json.loads(run("info", "p3109:k=8:p=3:se", "--json").stdout)["max"] == 49152.0
    assert json.loads(run("info", "int4", "--json").stdout)["min"] == -8


def test_cast_prints_values_and_codes():
    rows = json.loads(run("cast", "float8_e4m3fn", "0.1", "1.0625", "500", "--overflow", "saturate", "--codes",
                          "--json").stdout)
    assert [r["value"] for r in rows] == [0.1015625, 1.0, 448.0]
    assert [r["code"] for r in rows] == ["0x1d", "0x38", "0x7e"]
    assert json.loads(run("cast", "float8_e4m3fn", "500", "--json").stdout)[0]["value"] == "nan"


def test_cast_npy_round_trip(tmp_path):
    src, dst = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(src, np.array([1.3, -2.7], np.float32))
    run("cast", "bfloat16", "--input", str(src), "--output", str(dst))
    y = np.load(dst)
    assert y.dtype == np.float32 and y.tolist() == [1.296875, -2.703125]


def test_cast_errors_exit_2(tmp_path):
    assert run("cast", "e4m3fn", "abc", check=False).returncode == 2
    assert run("cast", "e4m3fn", "--input", str(tmp_path / "missing.npy"), check=False).returncode == 2
    bad = run("cast", "e4m3f", "1", check=False)
    assert bad.returncode == 2 and "Close matches" in bad.stderr
    assert run("cast", "e5m2:bogus", "1", check=False).returncode == 2
    assert run("cast", "float4_e2m1fn", "nan", check=False).returncode == 2


def test_explain():
    out = run("explain", "0.1", "float8_e4m3fn").stdout
    assert "0.1015625" in out and "0.09375" in out
    data = json.loads(run("explain", "0.1", "float8_e4m3fn", "--json").stdout)
    assert isinstance(data, dict)
    assert run("explain", "x", "float8_e4m3fn", check=False).returncode == 2


def test_compare():
    rows = json.loads(run("compare", "float16", "bfloat16", "float8_e4m3fn", "--json").stdout)
    assert [r["max"] for r in rows][2] == 448.0 and len(rows) == 3
    assert "float8_e5m2" in run("compare").stdout
    assert run("compare", "float16", "--markdown").stdout.startswith("|")


def test_memory_seed_numbers():
    data = json.loads(run("memory", "70e9", "--formats", "float64", "float32", "bfloat16", "--json").stdout)
    assert [round(r["gb"]) for r in data["storage"]] == [560, 280, 140]
    assert "training" in json.loads(run("memory", "1e9", "--training", "--json").stdout)


def test_plot_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    for kind, fmts in [("spacing", ["float16", "float8_e4m3fn"]), ("number-line", ["float4_e2m1fn"]),
                       ("binades", ["float8_e5m2"]), ("rounding", ["float8_e4m3fn"])]:
        png = tmp_path / f"{kind}.png"
        run("plot", kind, *fmts, "-o", str(png))
        assert png.stat().st_size > 1000


def test_every_command_has_help_with_an_example():
    for cmd in ("info", "cast", "explain", "compare", "memory", "plot", "table", "list"):
        out = run(cmd, "--help").stdout
        assert "usage" in out
        if cmd not in ("table", "list"):
            assert "example:" in out


def test_table_range_json_markdown():
    rows = json.loads(run("table", "float8_e4m3fn", "--range", "400", "500", "--json").stdout)
    assert [r["value"] for r in rows] == [416.0, 448.0]
    wide = run("table", "float32", "--range", "1", "1.0000003").stdout.splitlines()
    assert len(wide) == 1 + 3 and "0x3f800000" in wide[1]
    md = run("table", "float4_e2m1fn", "--markdown").stdout.splitlines()
    assert md[0].startswith("| code") and len(md) == 2 + 16
    assert run("table", "float32", "--range", "0", "1e30", check=False).returncode == 2


def test_docs_comparison_table_is_current():
    """docs/formats.md embeds `floatsim compare --markdown`; regenerate it when the catalogue changes."""
    import pathlib

    page = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "formats.md").read_text()
    start, end = "<!-- compare:start -->\n", "<!-- compare:end -->"
    embedded = page[page.index(start) + len(start): page.index(end)].strip()
    assert embedded == run("compare", "--markdown").stdout.strip()


def test_explain_one_rounding_mode():
    out = run("explain", "0.1", "float8_e4m3fn", "--rounding", "toward_zero").stdout.splitlines()
    assert len(out) == 2 and "0.09375" in out[1]
    data = json.loads(run("explain", "0.1", "float8_e4m3fn", "--rounding", "rz", "--json").stdout)
    assert list(data["modes"]) == ["toward_zero"]
    assert run("explain", "0.1", "float8_e4m3fn", "--rounding", "bogus", check=False).returncode == 2


def test_info_binades_and_density():
    data = json.loads(run("info", "float8_e4m3fn", "--binades", "--json").stdout)
    counts = [r["count"] for r in data["binades"]]
    assert counts[0] == 7 and counts[1:-1] == [8] * 14 and counts[-1] == 7  # subnormals, full binades, top binade
    assert data["near_zero"][-1]["values_in_[-t,t]"] == 254


def test_plot_cast_error(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "err.png"
    run("plot", "cast-error", "bfloat16", "float8_e4m3fn", "-o", str(png))
    assert png.stat().st_size > 1000


def test_quantization_error_of_named_distributions():
    from floatsim import analysis

    rows = analysis.quantization_error("normal", ["bfloat16", "float8_e4m3fn"])
    assert rows[0]["sqnr_db"] > rows[1]["sqnr_db"] > 20  # more mantissa bits, less noise
    with pytest.raises(ValueError, match="allowed"):
        analysis.quantization_error("cauchy", "bfloat16")
