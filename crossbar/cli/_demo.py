"""``crossbar demo``: the main job on embedded defaults (device models over time, then an MNIST network's
accuracy over a year on emulated chips and its mapping onto a synthesized chip)."""

from . import _accuracy_demo, _device_demo
from ._paths import output_folder
from ._seed import add_seed_option, require_seed


def register(commands) -> None:
    demo = commands.add_parser("demo", help="run the main job on embedded defaults")
    demo.add_argument("--out", default="demo-output", help="output folder (default: demo-output)")
    demo.add_argument("--force", action="store_true", help="replace the files of an earlier demo in --out")
    add_seed_option(demo)
    demo.set_defaults(run=_run)


def _run(args) -> None:
    require_seed(args.seed)
    own = (_device_demo.OUTPUT_FILE, *_accuracy_demo.OUTPUT_FILES)
    output_folder(args.out, "--out", own, args.force)
    path, table = _device_demo.run(args.out, seed=args.seed)
    print("Conductance (mean ± std, uS) after programming, per target level:")
    print(table)
    print(f"\nFigure: {path}\n")
    paths, table = _accuracy_demo.run(args.out, seed=args.seed)
    print(f"\nMNIST MLP on emulated chips, over a year after programming:\n\n{table}\n")
    print("\n".join(f"  {p}" for p in paths))
