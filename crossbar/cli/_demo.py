"""``crossbar demo``: the main job on embedded defaults (device models over time, then an MNIST network's
accuracy over a year on emulated chips and its mapping onto a synthesized chip)."""

from . import _accuracy_demo, _device_demo


def register(commands) -> None:
    demo = commands.add_parser("demo", help="run the main job on embedded defaults")
    demo.add_argument("--out", default="demo-output", help="output folder (default: demo-output)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.set_defaults(run=_run)


def _run(args) -> None:
    path, table = _device_demo.run(args.out, seed=args.seed)
    print("Conductance (mean ± std, uS) after programming, per target level:")
    print(table)
    print(f"\nFigure: {path}\n")
    paths, table = _accuracy_demo.run(args.out, seed=args.seed)
    print(f"\nMNIST MLP on emulated chips, over a year after programming:\n\n{table}\n")
    print("\n".join(f"  {p}" for p in paths))
