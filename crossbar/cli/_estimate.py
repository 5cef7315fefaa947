"""``crossbar estimate``: Monte Carlo accuracy of a model on emulated chips over time (the whole network, or
each layer alone with ``--per-layer``), with the analog/digital split of its MACs: table, JSON, plots."""

import json
from pathlib import Path

from emulator_common.atomic_write import write_files

from .._input_error import InputError
from ..array import Crossbar
from ..compiler import ChipNotEmulated, NetworkDoesNotFit
from ..estimation import (
    AccuracyEstimate,
    accuracy_plot,
    estimate_accuracy,
    estimate_document,
    estimate_per_layer,
    estimate_table,
    load_data,
    parse_times,
    per_layer_document,
    per_layer_plot,
    per_layer_table,
    require_evaluation_memory,
    split_data_range,
)
from ..hardware import Chip, ResolvedHardware
from ..networks import load_onnx, mac_split
from ._compile import add_placement_option
from ._hardware_options import add_hardware_options, resolved_hardware
from ._mapping_option import add_mapping_option, mapping_layout
from ._paths import distinct_outputs, output_file
from ._seed import add_seed_option, require_seed


def register(commands) -> None:
    estimate = commands.add_parser("estimate", help="accuracy of a model on emulated chips over time")
    estimate.add_argument("model", help="the network (ONNX)")
    estimate.add_argument(
        "--data",
        required=True,
        help="an .npz with arrays x and y, or mnist, or digits; a suffix [START:STOP] keeps those "
        "examples, e.g. mnist[8000:]",
    )
    add_hardware_options(estimate)
    add_mapping_option(estimate, "the model is estimated on (placement and permutations kept)")
    estimate.add_argument("--times", default="1s,1h,1d,1mo,1y", help="read times (default: 1s,1h,1d,1mo,1y)")
    estimate.add_argument("--trials", type=int, default=10, help="chips to program (default: 10)")
    add_seed_option(estimate)
    estimate.add_argument("--json", default=None, help="write the results as JSON")
    estimate.add_argument("--plot", default=None, help="write a plot of accuracy vs time (PNG)")
    estimate.add_argument(
        "--per-layer",
        action="store_true",
        help="estimate each layer alone on the chip, the rest digital, and rank the layers by accuracy loss",
    )
    estimate.add_argument(
        "--per-layer-plot", default=None, help="with --per-layer: a bar chart of each layer's loss (PNG)"
    )
    add_placement_option(estimate)
    estimate.set_defaults(run=_run)


def _run(args) -> None:
    require_seed(args.seed)
    if args.trials < 1:
        raise InputError(f"--trials: expected an integer >= 1, got {args.trials}")
    times = parse_times(args.times)
    if args.per_layer_plot is not None and not args.per_layer:
        raise InputError("--per-layer-plot: draws the per-layer estimate; give --per-layer too")
    if args.per_layer and args.plot is not None:
        raise InputError(
            "--plot: draws the whole network's accuracy over time; with --per-layer give --per-layer-plot"
        )
    outputs = {"--json": args.json, "--plot": args.plot, "--per-layer-plot": args.per_layer_plot}
    for option, path in outputs.items():
        if path is not None:
            output_file(path, option)
    inputs = {
        "MODEL": args.model,
        "--data": split_data_range(args.data)[0],
        "--hardware": args.hardware or args.preset,
        "--device": args.device,
        "--chip": getattr(args, "chip", None),
        "--mapping": args.mapping,
    }
    distinct_outputs(outputs, {name: path for name, path in inputs.items() if path and Path(path).is_file()})
    resolved = resolved_hardware(args)
    if args.placement != "default" and not isinstance(resolved.hardware, Chip):
        raise InputError("--placement: places a network's blocks on a chip's tiles; give --chip PROFILE")
    if args.placement != "default" and args.mapping is not None:
        raise InputError("--placement: --mapping keeps a layout's placement; give one of the two")
    common = (args.model, args.data, resolved, times, args.trials, args.seed, args.json)
    placement = (args.placement, args.mapping)
    if args.per_layer:
        table = run_per_layer(*common, args.per_layer_plot, *placement)
    else:
        _, table = run_estimate(*common, args.plot, *placement)
    print(table)
    for path in (args.json, args.plot, args.per_layer_plot):
        if path is not None:
            print(path)


def run_estimate(
    model_path: str,
    data: str,
    resolved: ResolvedHardware,
    times: tuple[float, ...],
    trials: int,
    seed: int,
    json_path: str | None,
    plot_path: str | None,
    placement: str = "default",
    mapping: str | None = None,
) -> tuple[AccuracyEstimate, str]:
    """Estimate, write the JSON and the plot if asked (paths checked by the caller), on the layout of the
    mapping file ``mapping`` if given; returns the estimate and the terminal text: the analog/digital split,
    then the table."""
    model, x, y = _inputs(model_path, data, resolved, trials)
    layout = mapping_layout(mapping, resolved, model.matrix_layers())
    split = mac_split(model.apply, model.params, model.input_shape)
    estimate = _on_chip(estimate_accuracy, model, x, y, resolved, times, trials, seed, placement, layout)
    run = {"model": str(model_path), "data": data, "times_s": list(times), "trials": trials, "seed": seed}
    run |= {"placement": placement} if isinstance(resolved.hardware, Chip) else {}
    document = estimate_document(estimate, {"hardware": resolved.document, **run, "examples": len(x)}, split)
    # render both before writing either: a failure leaves no file behind
    title = f"{Path(model_path).name} on {resolved.label}"
    figure = None if plot_path is None else accuracy_plot({"emulated chips": estimate}, title)
    _write(json_path, json.dumps(document, indent=1), plot_path, figure)
    return estimate, f"{split.table()}\n\n{estimate_table(estimate)}"


def run_per_layer(
    model_path: str,
    data: str,
    resolved: ResolvedHardware,
    times: tuple[float, ...],
    trials: int,
    seed: int,
    json_path: str | None,
    plot_path: str | None,
    placement: str = "default",
    mapping: str | None = None,
) -> str:
    """Estimate each layer alone, write the JSON and the bar chart if asked (paths checked by the caller), on
    the layout of the mapping file ``mapping`` if given; returns the terminal text: the analog/digital split,
    then the layers ranked by loss."""
    model, x, y = _inputs(model_path, data, resolved, trials)
    layout = mapping_layout(mapping, resolved, model.matrix_layers())
    split = mac_split(model.apply, model.params, model.input_shape)
    per_layer = _on_chip(estimate_per_layer, model, x, y, resolved, times, trials, seed, placement, layout)
    run = {"model": str(model_path), "data": data, "times_s": list(times), "trials": trials, "seed": seed}
    run |= {"placement": placement} if isinstance(resolved.hardware, Chip) else {}
    config = {"hardware": resolved.document, **run, "examples": len(x), "per_layer": True}
    document = per_layer_document(per_layer, config, split)
    title = f"{Path(model_path).name} on {resolved.label}"
    figure = None if plot_path is None else per_layer_plot(per_layer, title)
    _write(json_path, json.dumps(document, indent=1), plot_path, figure)
    return f"{split.table()}\n\n{per_layer_table(per_layer, split)}"


def _inputs(model_path: str, data: str, resolved: ResolvedHardware, trials: int):
    """The model and the data, refused where the machine cannot hold the estimate."""
    model = load_onnx(model_path)
    model.require_matrix_products()
    x, y = load_data(data, model.input_shape, model.output_size())
    require_estimate_memory(model, resolved, len(x), trials, resolved.label)
    return model, x, y


def require_estimate_memory(model, resolved: ResolvedHardware, examples: int, trials: int, name: str) -> None:
    """``InputError`` starting with ``name`` where the machine cannot hold an estimate of ``model`` on the
    hardware with ``trials`` chips and ``examples`` examples."""
    tiles = resolved.hardware
    if isinstance(tiles, Chip):  # blocks split as the compiler splits them onto the chip's tiles
        g = tiles.profile.geometry
        tiles = Crossbar(tile_rows=g.rows, tile_cols=g.outputs)
    grids = [(*tiles.tile_grid(m.weight.shape), m.mvms_per_inference) for m in model.matrix_layers()]
    try:
        require_evaluation_memory(grids, examples, trials)
    except ValueError as error:
        raise InputError(f"{name}: {error}") from None


def _on_chip(
    estimator, model, x, y, resolved: ResolvedHardware, times, trials: int, seed: int, placement: str, layout
):
    """``estimator`` (``estimate_accuracy`` or ``estimate_per_layer``) of the model on the hardware, a chip's
    blocks placed by ``placement`` (or its ``layout`` kept, if not ``None``); a network that a chip cannot
    hold is ``InputError``."""
    try:
        return estimator(
            model.apply,
            model.params,
            x,
            y,
            resolved.hardware,
            times,
            trials,
            seed,
            placement=placement,
            layout=layout,
        )
    except (NetworkDoesNotFit, ChipNotEmulated) as error:
        raise InputError(f"--chip: {error}") from None


def _write(json_path: str | None, text: str, plot_path: str | None, figure: bytes | None) -> None:
    """The JSON and the figure, each where asked, written together: a failure leaves neither."""
    files = {json_path: text, plot_path: figure}
    write_files({Path(path): content for path, content in files.items() if path is not None})
