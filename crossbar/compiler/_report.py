"""``report.md`` and ``report.html``: a compiled network on its chip, for people.

Both documents hold the same sections: the chip and the compile options, a chip summary (tiles, energy,
latency, throughput, TOPS/W, area), per-layer placement and fault tables, energy and latency per layer, the
peripheral figures the estimate rests on, and four figures. The Markdown links the figure PNGs beside it; the
HTML is self-contained (inline CSS, figures as base64 data URIs), so it opens without network access.
"""

import base64
import dataclasses
import html
import math

import numpy as np

from calibration import TECHNOLOGIES

from ._cost_model import COMPONENTS, ChipCost
from ._ir_drop_error import ir_drop_errors
from ._mapper import ChipMapping
from ._report_figures import render_figures

_PREFIXES = (
    (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""),
    (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f"),
)  # fmt: skip
_COMPONENT_NAMES = {"dac": "DAC", "array": "array", "adc": "ADC", "digital": "digital"}
_AREA_NAMES = {"array": "arrays", "dac": "DACs", "adc": "ADCs"}


@dataclasses.dataclass(frozen=True)
class _Table:
    """Rows of text cells; ``numeric`` columns are right-aligned; ``total`` is a closing, emphasized row;
    a ``key_value`` table's first column names its rows."""

    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    numeric: tuple[bool, ...]
    total: tuple[str, ...] | None = None
    key_value: bool = False


@dataclasses.dataclass(frozen=True)
class _Figure:
    """A figure's file name, its alt text and its caption."""

    file: str
    title: str
    caption: str


@dataclasses.dataclass(frozen=True)
class _Highlights:
    """Headline figures: (value, what it is) pairs."""

    items: list[tuple[str, str]]


@dataclasses.dataclass(frozen=True)
class _Section:
    """A titled part of the report (no heading for an empty title)."""

    title: str
    parts: list  # of str (a paragraph), _Highlights, _Table and _Figure


IR_DROP_TEXT = {
    "exact": "exactly (ir_drop: exact), against ideal wires.",
    "approximate": "each line on its own (ir_drop: approximate), against ideal wires.",
    "none": "but the hardware's ir_drop is none: wires are not modelled, and the error is 0.",
}
PLACEMENT_TEXT = {
    "default": "healthiest tiles first; shelves of blocks from the first row down",
    "ir-aware": "healthiest tiles first, then those with the least wire resistance; the blocks drawing the "
    "most current nearest the row drivers and column grounds (shelves from the last row up)",
}


def format_number(x: float) -> str:
    """``x`` to 3 significant digits, with thousands separators: 6414.8 -> "6,410", 0.03906 -> "0.0391"."""
    rounded = float(f"{x:.3g}")
    if rounded == 0 or not math.isfinite(rounded):
        return f"{rounded:g}"
    if not 1e-4 <= abs(rounded) < 1e9:
        return f"{rounded:.2e}"
    return f"{rounded:,.{max(0, 2 - math.floor(math.log10(abs(rounded))))}f}"


def format_si(x: float, unit: str) -> str:
    """``x`` (in ``unit``) with an SI prefix and 3 significant digits: 6.41e-9 J -> "6.41 nJ"."""
    rounded = float(f"{x:.3g}")
    scale, prefix = next(((s, p) for s, p in _PREFIXES if abs(rounded) >= s), _PREFIXES[-1])
    return f"{format_number(rounded / scale)} {prefix}{unit}".rstrip()


def format_percent(fraction: float) -> str:
    """A fraction as a percentage to 3 significant digits: 0.18096 -> "18.1 %"; below 1e-9 %, rounding
    noise of a zero, "0 %"."""
    return "0 %" if abs(fraction) < 1e-11 else f"{format_number(100 * fraction)} %"


def report_files(
    mapping: ChipMapping,
    cost: ChipCost,
    sources: dict,
    hardware: dict | None = None,
    ir_drop_error: tuple[float, ...] | None = None,
    ir_drop: str = "exact",
) -> dict[str, bytes]:
    """The contents of ``report.md``, ``report.html`` and the figure PNGs, by file name.

    ``sources`` names the model and profile files (e.g. ``{"model": ..., "profile": ...}``); ``hardware``,
    the chip's hardware as a hardware file holds it, gets a section of its own when given;
    ``ir_drop_error`` is each layer's under IR-drop model ``ir_drop`` (``ir_drop_errors``, computed if not
    given).
    """
    figures = render_figures(mapping, cost)
    errors = ir_drop_errors(mapping, ir_drop) if ir_drop_error is None else ir_drop_error
    sections = _sections(mapping, cost, sources, errors, ir_drop)
    if hardware is not None:
        sections.append(_Section("Hardware", [_hardware(hardware)]))
    title = f"Compilation report: chip {mapping.profile.chip_id}"
    documents = {"report.md": _markdown(title, sections), "report.html": _html(title, sections, figures)}
    return {**figures, **{name: text.encode("utf-8") for name, text in documents.items()}}


def _tile_list(tiles: tuple[int, ...]) -> str:
    """Tile indices with runs of three or more shortened: (0, 1, 4, 5, 6, 7, 10) -> "0, 1, 4–7, 10"."""
    runs: list[list[int]] = []
    for t in tiles:
        if runs and t == runs[-1][-1] + 1:
            runs[-1].append(t)
        else:
            runs.append([t])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs)


def _sections(
    mapping: ChipMapping, cost: ChipCost, sources: dict, errors: tuple[float, ...], ir_drop: str
) -> list[_Section]:
    g = mapping.profile.geometry
    fault_aware = " and after the fault-aware permutation and compensation" if mapping.fault_aware else ""
    idle_partner = (
        "; one device of each differential pair stays at g_min (the spike on the left)"
        if g.scheme == "differential"
        else ""
    )
    occupancy = _Figure(
        "occupancy.png",
        "Chip occupancy",
        "Each tile's devices, colored by the layer whose real weights they hold, with stuck devices on top "
        "(black: stuck at g_min, red: stuck at g_max); tile titles give the stuck fraction.",
    )
    fault_error = _Figure(
        "fault_error.png",
        "Weight error due to stuck devices",
        "Relative weight error ||W_held − W|| / ||W|| of each layer due to stuck devices, with the blocks "
        f"placed as they come{fault_aware}.",
    )
    conductances = _Figure(
        "conductance_histograms.png",
        "Conductance targets per layer",
        f"Conductances (µS) to program into the devices that hold each layer's real weights{idle_partner}.",
    )
    return [
        _Section("", [_setup(mapping, sources)]),
        _Section("Summary per inference", _summary(mapping, cost)),
        _Section("Layers", _layers(mapping, cost, errors, ir_drop)),
        _Section("Chip occupancy", [occupancy]),
        _Section("Weight error due to stuck devices", [fault_error]),
        _Section("Conductance targets", [conductances]),
        _Section("Energy and latency per layer", _energy(cost)),
        _Section("Peripheral figures", _peripherals(mapping.profile.peripherals)),
    ]


def _hardware(document: dict) -> _Table:
    """Every field of a hardware document, by its parameter path."""

    def leaves(section: dict, prefix: str = ""):
        for key, value in section.items():
            if isinstance(value, dict):
                yield from leaves(value, f"{prefix}{key}.")
            elif key not in ("description", "sources"):
                yield f"{prefix}{key}", "–" if value is None else str(value)

    return _Table(("Parameter", "Value"), list(leaves(document)), (False, False), key_value=True)


def _setup(mapping: ChipMapping, sources: dict) -> _Table:
    """The chip, the files compiled, and the compile options."""
    profile, g = mapping.profile, mapping.profile.geometry
    scheme = (
        "differential: a signed weight is a pair of adjacent device columns"
        if g.scheme == "differential"
        else "reference column: the last device column of each tile is every output's reference"
    )
    clip = (
        "abs-max of each block's weights"
        if mapping.clip_percentile is None
        else f"percentile {mapping.clip_percentile:g} of each block's |w| (larger weights clip)"
    )
    geometry = f"{g.tiles} tiles of {g.rows} rows × {g.cols} device columns, {g.outputs} outputs each"
    return _Table(
        ("Setting", "Value"),
        [
            ("Chip", profile.chip_id),
            ("Technology", TECHNOLOGIES[profile.technology]),
            ("Profile date", profile.date),
            ("Geometry", geometry),
            ("Scheme", scheme),
            *((name.capitalize(), str(path)) for name, path in sources.items()),
            ("Fault-aware mapping", "on" if mapping.fault_aware else "off"),
            ("Placement", PLACEMENT_TEXT[mapping.placement]),
            ("Weight scale (w_max)", clip),
        ],
        (False, False),
        key_value=True,
    )


def _summary(mapping: ChipMapping, cost: ChipCost) -> list:
    g = mapping.profile.geometry
    devices = int(np.sum(mapping.used_devices()))
    all_devices = g.tiles * g.rows * g.cols
    energy, latency = format_si(cost.energy_pj * 1e-12, "J"), format_si(cost.latency_ns * 1e-9, "s")
    total_area = f"{format_number(sum(cost.area_mm2.values()))} mm²"
    highlights = _Highlights(
        [
            (energy, "energy per inference"),
            (latency, "latency per inference"),
            (f"{format_number(cost.tops_per_watt)} TOPS/W", "energy efficiency"),
            (f"{format_number(cost.tops)} TOPS", "throughput"),
            (total_area, "chip area"),
            (f"{cost.tiles_used} of {g.tiles}", "tiles used"),
        ]
    )
    area_rows = [
        (f"Area of the {_AREA_NAMES[k]}", f"{format_number(v)} mm²") for k, v in cost.area_mm2.items()
    ]
    table = _Table(
        ("Quantity", "Value"),
        [
            ("Tiles used", f"{cost.tiles_used} of {g.tiles}"),
            (
                "Devices holding weights",
                f"{devices:,} of {all_devices:,} ({format_percent(devices / all_devices)})",
            ),
            ("Operations", f"{int(cost.ops):,}"),
            ("Energy", energy),
            ("Latency", latency),
            ("Inferences per second", format_si(cost.inferences_per_second, "")),
            ("Throughput", f"{format_number(cost.tops)} TOPS"),
            ("Energy efficiency", f"{format_number(cost.tops_per_watt)} TOPS/W"),
            (f"Chip area ({g.tiles} tiles)", total_area),
            *area_rows,
            ("Area efficiency", f"{format_number(cost.tops_per_mm2)} TOPS/mm²"),
        ],
        (False, True),
        key_value=True,
    )
    return [
        highlights,
        table,
        "An analytical estimate from the profile's peripheral figures (below), in the spirit of "
        "DNN+NeuroSim. Inputs are taken at full scale, so the array energy is an upper bound (every "
        "device in a driven row conducts, those of other blocks and unused ones too). Blocks of a layer on "
        "different tiles run in parallel, blocks on one tile one after another; a layer's MVMs and the "
        "layers run one after another (no pipelining), so inferences per second are 1 / latency. An "
        "operation is a multiply or an add (2 per weight per MVM). The area counts the arrays and converters "
        "of all tiles, not the digital logic.",
    ]


def _layers(mapping: ChipMapping, cost: ChipCost, errors: tuple[float, ...], ir_drop: str) -> list:
    g = mapping.profile.geometry
    header = (
        "Layer",
        "Shape (IN × OUT)",
        "MVMs / inference",
        "Blocks",
        "Tiles",
        "Tile indices",
        "Utilization",
        "Stuck devices",
        "Fault error as placed",
        *(("Fault error fault-aware",) if mapping.fault_aware else ()),
        "IR-drop error",
    )
    rows = []
    for layer, layer_cost, error in zip(mapping.layers, cost.layers, errors, strict=True):
        devices = round(layer_cost.utilization * layer_cost.tiles * g.rows * g.cols)
        rows.append(
            (
                layer.name,
                f"{layer.shape[0]:,} × {layer.shape[1]:,}",
                f"{layer.mvms_per_inference:,}",
                f"{layer.grid[0]} × {layer.grid[1]} of {layer.block[0]} × {layer.block[1]}",
                str(len(layer.tiles)),
                _tile_list(layer.tiles),
                format_percent(layer_cost.utilization),
                f"{layer.stuck_devices:,} ({format_percent(layer.stuck_devices / devices)})",
                format_percent(layer.fault_error_in_place),
                *((format_percent(layer.fault_error),) if mapping.fault_aware else ()),
                format_percent(error),
            )
        )
    return [
        _Table(
            header, rows, (False, True, True, True, True, False, True, True, True, True, True)[: len(header)]
        ),
        "Blocks: the layer's grid of blocks and the size (rows × outputs) of each. Utilization: devices "
        "holding the layer's weights / devices of its tiles. Stuck devices: those under the layer's real "
        "weights. Fault error: ||W_held − W|| / ||W||, the relative weight error due to stuck devices, with "
        "blocks placed as they come"
        + (" and after the fault-aware permutation and compensation." if mapping.fault_aware else ".")
        + " IR-drop error: ||W_wires − W|| / ||W||, the relative weight error the tiles' wires (the "
        "profile's r_row and r_col) cause at the programmed targets (stuck devices at their stuck value, no "
        "noise or drift): each used tile solved as one resistive network with every block placed on it, "
        + IR_DROP_TEXT[ir_drop],
    ]


def _energy(cost: ChipCost) -> list:
    header = (
        "Layer",
        *(f"{_COMPONENT_NAMES[c]} (pJ)" for c in COMPONENTS),
        "Energy (pJ)",
        "Share",
        "Latency (ns)",
        "Operations",
        "TOPS/W",
    )
    rows = []
    for layer in cost.layers:
        energy = sum(layer.energy_pj.values())
        rows.append(
            (
                layer.name,
                *(format_number(layer.energy_pj[c]) for c in COMPONENTS),
                format_number(energy),
                format_percent(energy / cost.energy_pj),
                format_number(layer.latency_ns),
                f"{int(layer.ops):,}",
                format_number(layer.ops / energy),
            )
        )
    total = (
        "chip",
        *(format_number(sum(layer.energy_pj[c] for layer in cost.layers)) for c in COMPONENTS),
        format_number(cost.energy_pj),
        "100 %",
        format_number(cost.latency_ns),
        f"{int(cost.ops):,}",
        format_number(cost.tops_per_watt),
    )
    figure = _Figure(
        "energy.png",
        "Energy and latency per layer",
        "Energy per inference of each layer by component (pJ), with its total, and latency per inference "
        "(ns).",
    )
    return [_Table(header, rows, (False,) + (True,) * (len(header) - 1), total), figure]


def _peripherals(p) -> list:
    """The profile's figures as given (``:g``, no rounding)."""
    converters = _Table(
        ("Converter", "Bits", "Energy / conversion", "Time / conversion", "Area", "Shared by"),
        [
            (
                name,
                str(c.bits),
                f"{c.energy_pj:g} pJ",
                f"{c.time_ns:g} ns",
                f"{c.area_um2:g} µm²",
                f"{c.shared_by} {unit}{'s' if c.shared_by != 1 else ''}",
            )
            for name, c, unit in (("DAC", p.dac, "row"), ("ADC", p.adc, "output"))
        ],
        (False, True, True, True, True, True),
    )
    array = _Table(
        ("Array and digital", "Value"),
        [
            ("Read voltage (full scale)", f"{p.v_read:g} V"),
            ("Integration time of one MVM", f"{p.integration_ns:g} ns"),
            ("Area of one device with its access transistor", f"{p.cell_area_um2:g} µm²"),
            ("Digital addition of a partial sum", f"{p.add_energy_pj:g} pJ, {p.add_time_ns:g} ns"),
        ],
        (False, True),
        key_value=True,
    )
    return [converters, array]


def _markdown_row(cells) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _markdown(title: str, sections: list[_Section]) -> str:
    lines = [f"# {title}", ""]
    for section in sections:
        if section.title:
            lines += [f"## {section.title}", ""]
        for part in section.parts:
            if isinstance(part, _Table):
                lines.append(_markdown_row(part.header))
                lines.append("|" + "|".join("---:" if n else "---" for n in part.numeric) + "|")
                lines += [_markdown_row(row) for row in part.rows]
                if part.total:
                    lines.append(_markdown_row(f"**{c}**" for c in part.total))
            elif isinstance(part, _Figure):
                lines += [f"![{part.title}]({part.file})", "", f"*{part.caption}*"]
            elif isinstance(part, _Highlights):
                lines.append(" · ".join(f"**{value}** {label}" for value, label in part.items))
            else:
                lines.append(part)
            lines.append("")
    return "\n".join(lines)


_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1f2328; background: #fff; max-width: 1240px; margin: 2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.2rem; margin: 2.4rem 0 0.8rem; padding-bottom: 0.3rem; border-bottom: 1px solid #d0d7de; }
.cards { display: flex; flex-wrap: wrap; gap: 0.75rem; margin: 0.8rem 0 1.2rem; }
.card { border: 1px solid #d0d7de; border-radius: 8px; background: #f6f8fa; padding: 0.6rem 1.1rem;
  min-width: 9rem; }
.card .value { font-size: 1.35rem; font-weight: 600; white-space: nowrap; }
.card .label { color: #57606a; font-size: 13px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-size: 14px; }
th, td { padding: 0.35rem 0.75rem; border-bottom: 1px solid #e4e7eb; text-align: left; vertical-align: top; }
td { white-space: nowrap; }
thead th { background: #f6f8fa; border-bottom: 2px solid #d0d7de; font-weight: 600; vertical-align: bottom; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:hover { background: #f9fafb; }
tr.total td { font-weight: 600; border-top: 2px solid #d0d7de; }
table.kv th { font-weight: normal; color: #57606a; padding-right: 2rem; white-space: nowrap; }
table.kv td { white-space: normal; }
figure { margin: 1rem 0 1.5rem; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption, p.note { color: #57606a; font-size: 13.5px; max-width: 62rem; }
figcaption { margin-top: 0.5rem; }
"""


def _html_table(table: _Table) -> str:
    def cell(tag: str, text: str, numeric: bool, extra: str = "") -> str:
        cls = ' class="num"' if numeric else ""
        return f"<{tag}{cls}{extra}>{html.escape(text)}</{tag}>"

    out = ['<div class="scroll">', '<table class="kv">' if table.key_value else "<table>"]
    if table.key_value:
        out.append("<tbody>")
        for key, *values in table.rows:
            values_html = "".join(cell("td", v, n) for v, n in zip(values, table.numeric[1:], strict=True))
            out.append(f"<tr>{cell('th', key, False, ' scope=row')}{values_html}</tr>")
    else:
        out.append(
            "<thead><tr>"
            + "".join(cell("th", h, n) for h, n in zip(table.header, table.numeric, strict=True))
        )
        out.append("</tr></thead><tbody>")
        for row in table.rows:
            out.append(
                "<tr>" + "".join(cell("td", c, n) for c, n in zip(row, table.numeric, strict=True)) + "</tr>"
            )
        if table.total:
            total = "".join(cell("td", c, n) for c, n in zip(table.total, table.numeric, strict=True))
            out.append(f'<tr class="total">{total}</tr>')
    out += ["</tbody></table>", "</div>"]
    return "\n".join(out)


def _html(title: str, sections: list[_Section], figures: dict[str, bytes]) -> str:
    body = [f"<h1>{html.escape(title)}</h1>"]
    for section in sections:
        if section.title:
            body.append(f"<h2>{html.escape(section.title)}</h2>")
        for part in section.parts:
            if isinstance(part, _Table):
                body.append(_html_table(part))
            elif isinstance(part, _Highlights):
                cards = "".join(
                    f'<div class="card"><div class="value">{html.escape(value)}</div>'
                    f'<div class="label">{html.escape(label)}</div></div>'
                    for value, label in part.items
                )
                body.append(f'<div class="cards">{cards}</div>')
            elif isinstance(part, _Figure):
                data = base64.b64encode(figures[part.file]).decode("ascii")
                body.append(
                    f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(part.title)}">'
                    f"<figcaption>{html.escape(part.caption)}</figcaption></figure>"
                )
            else:
                body.append(f'<p class="note">{html.escape(part)}</p>')
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
