"""``crossbar estimate``: Monte Carlo accuracy of a model on emulated chips over time: table, JSON, plot."""

import json
from pathlib import Path

from emulator_common.atomic_write import atomic_write

from .._input_error import InputError
from ..array import Crossbar
from ..compiler import ChipNotEmulated, NetworkDoesNotFit
from ..estimation import (
    AccuracyEstimate,
    accuracy_plot,
    estimate_accuracy,
    estimate_document,
    estimate_table,
    load_data,
    parse_times,
    require_evaluation_memory,
    split_data_range,
)
from ..hardware import Chip, ResolvedHardware
from ..networks import load_onnx
from ._hardware_options import add_hardware_options, resolved_hardware
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
    estimate.add_argument("--times", default="1s,1h,1d,1mo,1y", help="read times (default: 1s,1h,1d,1mo,1y)")
    estimate.add_argument("--trials", type=int, default=10, help="chips to program (default: 10)")
    add_seed_option(estimate)
    estimate.add_argument("--json", default=None, help="write the results as JSON")
    estimate.add_argument("--plot", default=None, help="write a plot of accuracy vs time (PNG)")
    estimate.set_defaults(run=_run)


def _run(args) -> None:
    require_seed(args.seed)
    if args.trials < 1:
        raise InputError(f"--trials: expected an integer >= 1, got {args.trials}")
    times = parse_times(args.times)
    outputs = {"--json": args.json, "--plot": args.plot}
    for option, path in outputs.items():
        if path is not None:
            output_file(path, option)
    inputs = {
        "MODEL": args.model,
        "--data": split_data_range(args.data)[0],
        "--hardware": args.hardware or args.preset,
        "--device": args.device,
        "--chip": getattr(args, "chip", None),
    }
    distinct_outputs(outputs, {name: path for name, path in inputs.items() if path and Path(path).is_file()})
    resolved = resolved_hardware(args)
    _, table = run_estimate(
        args.model, args.data, resolved, times, args.trials, args.seed, args.json, args.plot
    )
    print(table)
    for path in (args.json, args.plot):
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
) -> tuple[AccuracyEstimate, str]:
    """Estimate, write the JSON and the plot if asked (paths checked by the caller); returns the estimate and
    the terminal table."""
    model = load_onnx(model_path)
    model.require_matrix_products()
    x, y = load_data(data, model.input_shape, model.output_size())
    tiles = resolved.hardware
    if isinstance(tiles, Chip):  # blocks split as the compiler splits them onto the chip's tiles
        g = tiles.profile.geometry
        tiles = Crossbar(tile_rows=g.rows, tile_cols=g.outputs)
    grids = [(*tiles.tile_grid(m.weight.shape), m.mvms_per_inference) for m in model.matrix_layers()]
    try:
        require_evaluation_memory(grids, len(x), trials)
    except ValueError as error:
        raise InputError(f"{resolved.label}: {error}") from None
    try:
        estimate = estimate_accuracy(model.apply, model.params, x, y, resolved.hardware, times, trials, seed)
    except (NetworkDoesNotFit, ChipNotEmulated) as error:
        raise InputError(f"--chip: {error}") from None
    run = {"model": str(model_path), "data": data, "times_s": list(times), "trials": trials, "seed": seed}
    document = estimate_document(estimate, {"hardware": resolved.document, **run, "examples": len(x)})
    # render both before writing either: a failure leaves no file behind
    text = json.dumps(document, indent=1)
    title = f"{Path(model_path).name} on {resolved.label}"
    figure = None if plot_path is None else accuracy_plot({"emulated chips": estimate}, title)
    if json_path is not None:
        with atomic_write(json_path) as handle:
            handle.write(text)
    if plot_path is not None:
        with atomic_write(plot_path, "wb") as handle:
            handle.write(figure)
    return estimate, estimate_table(estimate)
