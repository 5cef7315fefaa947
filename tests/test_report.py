"""The compile report: its files, numbers as the cost model computes them, a self-contained HTML, atomic
writes."""

import base64
import os
import re
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

import calibration
from crossbar.compiler import _report, compile_network, estimate_cost
from crossbar.compiler._output import write_files
from crossbar.compiler._report import format_number, format_percent, format_si, report_files
from crossbar.compiler._report_figures import layer_color, layer_owner, tile_image
from crossbar.networks import MatrixLayer
from emulator_common.fault_codes import STUCK_ON

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURES = ("occupancy.png", "conductance_histograms.png", "fault_error.png", "energy.png")
SOURCES = {"model": "weights.npz", "profile": "chip.yaml"}
_SI_PREFIXES = {"k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "m": 1e-3, "µ": 1e-6, "n": 1e-9, "p": 1e-12}


def _layers():
    rng = np.random.default_rng(0)
    return [
        MatrixLayer("dense_in", rng.standard_normal((100, 40))),
        MatrixLayer("hidden", rng.standard_normal((40, 12)), 3),
        MatrixLayer("out", rng.standard_normal((12, 3))),
    ]


@pytest.fixture(scope="module")
def compiled():
    """Three layers on five 64 x 64 tiles; the last two share a tile with a block of the first."""
    profile = calibration.synthesize("rram", 5, seed=1, rows=64, cols=64)
    mapping = compile_network(_layers(), profile)
    return mapping, estimate_cost(mapping)


@pytest.fixture(scope="module")
def report(compiled, tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    paths = write_files(report_files(*compiled, SOURCES), folder)
    return folder, paths


def _tables(markdown: str) -> dict[str, list[dict[str, str]]]:
    """Every Markdown table, by its first two header cells ("Layer | DAC (pJ)"): rows as {header: cell}."""
    tables, lines = {}, markdown.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|---"):
            header = _cells(lines[i - 1])
            rows = []
            for row in lines[i + 1 :]:
                if not row.startswith("| "):
                    break
                rows.append(dict(zip(header, _cells(row), strict=True)))
            tables[" | ".join(header[:2])] = rows
    return tables


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split(" | ")]


def _by_first_column(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {next(iter(row.values())): row for row in rows}


def _value(text: str) -> float:
    """The number of a formatted cell, SI prefix applied: "6,410" -> 6410, "386 pJ" -> 3.86e-10, "2.46 M" ->
    2.46e6, "40,364 (10.1 %)" -> 40364."""
    number, *rest = text.replace("**", "").split()
    unit = rest[0] if rest and not rest[0].startswith("(") else ""
    plain = ("", "%", "J", "s", "TOPS", "TOPS/W", "TOPS/mm²", "mm²")
    return float(number.replace(",", "")) * (1.0 if unit in plain else _SI_PREFIXES[unit[0]])


def _tile_indices(text: str) -> list[int]:
    """The tiles a "Tile indices" cell names: "0–2, 4" -> [0, 1, 2, 4]."""
    indices = []
    for part in text.split(", "):
        first, _, last = part.partition("–")
        indices += range(int(first), int(last or first) + 1)
    return indices


def test_format_number_gives_three_significant_digits():
    assert [format_number(x) for x in (6414.83, 78.44, 1.5, 0.0390625, 0.000819, 0.0)] == [
        "6,410",
        "78.4",
        "1.50",
        "0.0391",
        "0.000819",
        "0",
    ]
    assert format_si(6.414e-9, "J") == "6.41 nJ"
    assert format_si(3.86e-10, "J") == "386 pJ"
    assert format_si(999.96e-9, "s") == "1.00 µs"
    assert format_si(3.65e6, "") == "3.65 M"
    assert format_percent(0.18096) == "18.1 %"


def test_writes_the_documents_and_figures_and_returns_their_paths(report):
    folder, paths = report
    assert sorted(p.name for p in paths) == sorted(("report.md", "report.html", *FIGURES))
    assert all(p.parent == folder and p.stat().st_size > 0 for p in paths)
    for name in FIGURES:
        data = (folder / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        assert matplotlib.image.imread(folder / name).ndim == 3


def test_leaves_no_temporary_files(report):
    folder, paths = report
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths)


def test_markdown_summary_is_the_cost_model(compiled, report):
    mapping, cost = compiled
    folder, _ = report
    tables = _tables((folder / "report.md").read_text(encoding="utf-8"))
    summary = {k: row["Value"] for k, row in _by_first_column(tables["Quantity | Value"]).items()}
    area = sum(cost.area_mm2.values())
    expected = {
        "Energy": (format_si(cost.energy_pj * 1e-12, "J"), cost.energy_pj * 1e-12),
        "Latency": (format_si(cost.latency_ns * 1e-9, "s"), cost.latency_ns * 1e-9),
        "Inferences per second": (format_si(cost.inferences_per_second, ""), cost.inferences_per_second),
        "Throughput": (f"{format_number(cost.tops)} TOPS", cost.tops),
        "Energy efficiency": (f"{format_number(cost.tops_per_watt)} TOPS/W", cost.tops_per_watt),
        "Area efficiency": (f"{format_number(cost.tops_per_mm2)} TOPS/mm²", cost.tops_per_mm2),
        "Chip area (5 tiles)": (f"{format_number(area)} mm²", area),
        "Area of the ADCs": (f"{format_number(cost.area_mm2['adc'])} mm²", cost.area_mm2["adc"]),
    }
    for key, (text, value) in expected.items():
        assert summary[key] == text, key
        assert _value(summary[key]) == pytest.approx(value, rel=5e-3), key
    assert summary["Tiles used"] == f"{cost.tiles_used} of 5"
    assert summary["Operations"] == f"{int(cost.ops):,}"
    chip = _by_first_column(tables["Layer | DAC (pJ)"])["**chip**"]
    assert chip["Energy (pJ)"] == f"**{format_number(cost.energy_pj)}**"
    assert _value(chip["TOPS/W"]) == pytest.approx(cost.tops_per_watt, rel=5e-3)


def test_markdown_layer_rows_are_the_mapping_and_the_cost_model(compiled, report):
    mapping, cost = compiled
    folder, _ = report
    tables = _tables((folder / "report.md").read_text(encoding="utf-8"))
    placement = _by_first_column(tables["Layer | Shape (IN × OUT)"])
    energy = _by_first_column(tables["Layer | DAC (pJ)"])
    for layer, layer_cost in zip(mapping.layers, cost.layers, strict=True):
        row = placement[layer.name]
        assert row["Shape (IN × OUT)"] == f"{layer.shape[0]} × {layer.shape[1]}"
        assert row["MVMs / inference"] == str(layer.mvms_per_inference)
        assert row["Tiles"] == str(len(layer.tiles))
        assert _value(row["Utilization"]) == pytest.approx(100 * layer_cost.utilization, rel=5e-3)
        assert _value(row["Stuck devices"]) == layer.stuck_devices
        assert _value(row["Fault error as placed"]) == pytest.approx(
            100 * layer.fault_error_in_place, rel=5e-3
        )
        assert _value(row["Fault error fault-aware"]) == pytest.approx(100 * layer.fault_error, rel=5e-3)
        total = sum(layer_cost.energy_pj.values())
        assert _value(energy[layer.name]["Energy (pJ)"]) == pytest.approx(total, rel=5e-3)
        assert _value(energy[layer.name]["ADC (pJ)"]) == pytest.approx(layer_cost.energy_pj["adc"], rel=5e-3)
        assert _value(energy[layer.name]["Latency (ns)"]) == pytest.approx(layer_cost.latency_ns, rel=5e-3)
        assert _tile_indices(row["Tile indices"]) == list(layer.tiles)
    assert placement["dense_in"]["Tile indices"] == "0–2, 4"


def test_markdown_links_every_figure_and_names_the_sources(report):
    folder, _ = report
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    assert sorted(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)) == sorted(FIGURES)
    assert all(path in markdown for path in SOURCES.values())


def test_html_is_self_contained(report):
    folder, _ = report
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"<(script|link|iframe)\b", page)
    assert not re.search(r"url\(", page)
    sources = re.findall(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", page)
    assert len(sources) == len(re.findall(r"<img\b", page)) == len(FIGURES)
    decoded = []
    for source in sources:
        prefix = "data:image/png;base64,"
        assert source.startswith(prefix)
        decoded.append(base64.b64decode(source[len(prefix) :], validate=True))
    assert sorted(decoded) == sorted((folder / name).read_bytes() for name in FIGURES)


def test_html_holds_the_tables(compiled, report):
    mapping, cost = compiled
    folder, _ = report
    page = (folder / "report.html").read_text(encoding="utf-8")
    for layer in mapping.layers:
        assert f"<td>{layer.name}</td>" in page
    assert f'<td class="num">{format_number(cost.tops_per_watt)} TOPS/W</td>' in page


def test_occupancy_colors_devices_by_layer_and_marks_stuck_ones(compiled):
    mapping, _ = compiled
    owner = layer_owner(mapping)
    for index, layer in enumerate(mapping.layers):
        tile = layer.tiles[0]
        image = tile_image(mapping, owner, tile)
        stuck = mapping.profile.tiles[tile].stuck
        healthy_used = (owner[tile] == index) & (stuck == 0)
        assert healthy_used.any()
        np.testing.assert_allclose(
            image[healthy_used], np.broadcast_to(layer_color(index), image[healthy_used].shape)
        )
        assert np.all(image[stuck == STUCK_ON] == (0.9, 0.0, 0.0))
    np.testing.assert_array_equal(owner >= 0, mapping.used_devices())
    assert np.all(image[(owner[tile] < 0) & (stuck == 0)] == 0.93)


def test_without_fault_awareness_the_report_says_so(compiled, tmp_path):
    mapping, _ = compiled
    plain = compile_network(_layers(), mapping.profile, fault_aware=False, clip_percentile=99.0)
    write_files(report_files(plain, estimate_cost(plain), SOURCES), tmp_path)
    tables = _tables((tmp_path / "report.md").read_text(encoding="utf-8"))
    setup = {k: row["Value"] for k, row in _by_first_column(tables["Setting | Value"]).items()}
    assert setup["Fault-aware mapping"] == "off"
    assert setup["Weight scale (w_max)"].startswith("percentile 99 ")
    assert "Fault error fault-aware" not in tables["Layer | Shape (IN × OUT)"][0]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_ones(compiled, tmp_path, monkeypatch):
    (tmp_path / "report.html").write_text("old")
    monkeypatch.setattr(
        _report, "render_figures", lambda mapping, cost: dict.fromkeys(FIGURES, PNG_SIGNATURE)
    )
    replace = os.replace

    def failing_replace(source, target):
        if Path(target).name == "report.html":
            raise OSError("disk full")
        replace(source, target)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_files(report_files(*compiled, SOURCES), tmp_path)
    assert (tmp_path / "report.html").read_text() == "old"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_nothing_is_written_when_a_document_fails(compiled, tmp_path, monkeypatch):
    monkeypatch.setattr(
        _report, "render_figures", lambda mapping, cost: dict.fromkeys(FIGURES, PNG_SIGNATURE)
    )

    def broken(*args):
        raise RuntimeError("broken")

    monkeypatch.setattr(_report, "_html", broken)
    with pytest.raises(RuntimeError):
        write_files(report_files(*compiled, SOURCES), tmp_path)
    assert list(tmp_path.iterdir()) == []
