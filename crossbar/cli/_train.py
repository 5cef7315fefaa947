"""``crossbar train``: hardware-aware fine-tuning of an ONNX model through the emulated chip; writes the same
graph with the tuned initializers (and, on a chip, the mapping it was tuned on), and with ``--eval``
estimates the model before and after."""

import dataclasses
import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from emulator_common.atomic_write import write_files
from emulator_common.validation import is_number

from .._input_error import InputError
from ..compiler import (
    ChipNotEmulated,
    NetworkDoesNotFit,
    compile_network,
    estimate_cost,
    layout_of,
    mapping_document,
)
from ..estimation import (
    accuracy_plot,
    estimate_accuracy,
    human_time,
    load_data,
    parse_times,
    split_data_range,
)
from ..hardware import Chip
from ..networks import load_onnx
from ..training import train_hardware_aware
from ._estimate import require_estimate_memory
from ._hardware_options import add_hardware_options, resolved_hardware
from ._mapping_option import add_mapping_option, mapping_layout
from ._paths import distinct_outputs, output_file
from ._seed import add_seed_option, require_seed


def register(commands) -> None:
    train = commands.add_parser("train", help="hardware-aware fine-tuning of a model through emulated chips")
    train.add_argument("model", help="the network (ONNX)")
    train.add_argument(
        "--data", required=True, help="training data, as estimate reads it (e.g. mnist[:8000])"
    )
    add_hardware_options(train)
    add_mapping_option(train, "the model is tuned on (default: compiled afresh from MODEL)")
    train.add_argument("--epochs", type=int, default=3, help="passes over the data (default: 3)")
    train.add_argument("--batch-size", type=int, default=64, help="examples per step (default: 64)")
    train.add_argument(
        "--lr", type=float, default=1e-3, help="Adam's peak learning rate, cosine decay (1e-3)"
    )
    train.add_argument(
        "--t-range", default="1s,1y", help="first and last read time; each step draws one (default: 1s,1y)"
    )
    train.add_argument("--clip", type=float, default=None, help="clip weights to this many std per layer")
    add_seed_option(train)
    train.add_argument("--out", required=True, help="the tuned model (ONNX): the same graph, tuned weights")
    train.add_argument("--eval", default=None, help="data to estimate the model on before and after")
    train.add_argument("--times", default="1s,1h,1d,1mo,1y", help="read times of --eval (1s,1h,1d,1mo,1y)")
    train.add_argument("--trials", type=int, default=10, help="chips to program for --eval (default: 10)")
    train.add_argument("--plot", default=None, help="with --eval: a plot of both curves (PNG)")
    train.set_defaults(run=_run)


def _run(args) -> None:
    require_seed(args.seed)
    if args.epochs < 1:
        raise InputError(f"--epochs: expected an integer >= 1, got {args.epochs}")
    if args.batch_size < 1:
        raise InputError(f"--batch-size: expected an integer >= 1, got {args.batch_size}")
    if not (is_number(args.lr) and args.lr > 0):
        raise InputError(f"--lr: expected a finite number > 0, got {args.lr}")
    if args.clip is not None and not (is_number(args.clip) and args.clip > 0):
        raise InputError(f"--clip: expected a finite number > 0, got {args.clip}")
    t_range = parse_times(args.t_range)
    if len(t_range) != 2 or t_range[0] <= 0:
        raise InputError(
            f"--t-range: expected two times after 0, first then last, e.g. 1s,1y; got {args.t_range}"
        )
    if args.eval is None and args.plot is not None:
        raise InputError("--plot: needs --eval (the data to estimate the model on)")
    if args.trials < 1:
        raise InputError(f"--trials: expected an integer >= 1, got {args.trials}")
    times = parse_times(args.times)
    outputs = {"--out": args.out, "--plot": args.plot}
    if args.chip is not None:
        outputs["--out's mapping"] = mapping_path(args.out)
    for option, path in outputs.items():
        if path is not None:
            output_file(path, option)
    inputs = {
        "MODEL": args.model,
        "--data": split_data_range(args.data)[0],
        "--eval": None if args.eval is None else split_data_range(args.eval)[0],
        "--hardware": args.hardware or args.preset,
        "--device": args.device,
        "--chip": args.chip,
        "--mapping": args.mapping,
    }
    distinct_outputs(outputs, {name: path for name, path in inputs.items() if path and Path(path).is_file()})
    resolved = resolved_hardware(args)
    model = load_onnx(args.model)
    model.require_matrix_products()
    classes = model.output_size()
    x, y = load_data(args.data, model.input_shape, classes)
    if args.batch_size > len(x):
        raise InputError(
            f"--batch-size: expected at most the {len(x)} examples of --data, got {args.batch_size}"
        )
    evaluation = None if args.eval is None else load_data(args.eval, model.input_shape, classes)
    if evaluation is not None:
        require_estimate_memory(model, resolved, len(evaluation[0]), args.trials, "--eval")
    layout = mapping_layout(args.mapping, resolved, model.matrix_layers())
    if layout is None and isinstance(resolved.hardware, Chip):
        try:
            layout = layout_of(compile_network(model.matrix_layers(), resolved.hardware.profile))
        except NetworkDoesNotFit as error:
            raise InputError(f"--chip: {error}") from None

    steps = args.epochs * (len(x) // args.batch_size)
    bars = []  # opened at the first step, so that a refusal before it (a chip too small) stays one line

    def on_step(epoch, loss, accuracy):
        if not bars:
            bars.append(tqdm(total=steps, desc="HWA training", leave=False))
        bars[0].set_postfix_str(f"epoch {epoch + 1}/{args.epochs} loss {loss:.4f} accuracy {accuracy:.4f}")
        bars[0].update()

    try:
        tuned, history = train_hardware_aware(
            model.apply,
            model.params,
            x,
            y,
            resolved.hardware,
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.lr,
            seed=args.seed,
            t_range=t_range,
            clip_sigmas=args.clip,
            layout=layout,
            on_step=on_step,
        )
    except (NetworkDoesNotFit, ChipNotEmulated) as error:
        raise InputError(f"--chip: {error}") from None
    finally:
        for bar in bars:
            bar.close()
    lines = [
        f"epoch {e + 1}: loss {loss:.4f}, accuracy {a:.4f}"
        for e, (loss, a) in enumerate(zip(history.loss, history.accuracy, strict=True))
    ]
    files = {args.out: tuned_onnx(args.model, tuned)}
    if layout is not None:
        layers = dataclasses.replace(model, params=tuned).matrix_layers()
        mapping = compile_network(layers, resolved.hardware.profile, layout=layout)
        sources = {"model": str(args.out), "profile": str(resolved.hardware.path)}
        document = mapping_document(mapping, estimate_cost(mapping), sources, resolved.document)
        files[mapping_path(args.out)] = json.dumps(document, indent=1).encode("utf-8")
    if evaluation is not None:
        ex, ey = evaluation
        before, after = (
            estimate_accuracy(
                model.apply, p, ex, ey, resolved.hardware, times, args.trials, args.seed, layout=layout
            )
            for p in (model.params, tuned)
        )
        lines += _comparison(before, after)
        if args.plot is not None:
            title = f"{Path(args.model).name} on {resolved.label}, before and after HWA training"
            files[args.plot] = accuracy_plot({"before": before, "after HWA training": after}, title)
    write_files({path: content for path, content in files.items()})
    print("\n".join(lines))
    for path in files:
        print(path)


def mapping_path(out: str) -> str:
    """Where ``crossbar train --chip`` writes the mapping the model was tuned on: next to ``out``,
    ``NAME.mapping.json`` for ``NAME.onnx``."""
    return str(Path(out).with_suffix(".mapping.json"))


def _comparison(before, after) -> list[str]:
    """A table of the mean accuracy and its 95 % interval per time, before and after."""
    lines = [f"digital accuracy: before {before.digital_accuracy:.4f}, after {after.digital_accuracy:.4f}"]
    lines.append(f"{'time':>8}  {'before':>24}  {'after':>24}")
    for a, b in zip(before.summary(), after.summary(), strict=True):
        cells = [
            f"{r['mean']:.4f}" + ("" if r["ci95"] is None else f" [{r['ci95'][0]:.4f}, {r['ci95'][1]:.4f}]")
            for r in (a, b)
        ]
        lines.append(f"{human_time(a['t_s']):>8}  {cells[0]:>24}  {cells[1]:>24}")
    return lines


def tuned_onnx(path: str, params: dict) -> bytes:
    """The ONNX file at ``path`` with its initializers replaced by ``params`` (name -> array, same dtypes)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    for initializer in model.graph.initializer:
        value = np.asarray(params[initializer.name]).astype(numpy_helper.to_array(initializer).dtype)
        initializer.CopyFrom(numpy_helper.from_array(value, initializer.name))
    return model.SerializeToString()
