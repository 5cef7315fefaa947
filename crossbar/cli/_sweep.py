"""``crossbar sweep SPEC.yaml --out DIR``: a parameter sweep, resumable, in this process or on Dask."""

from ..sweeps import run_sweep
from ._paths import output_folder


def register(commands) -> None:
    sweep = commands.add_parser("sweep", help="a parameter sweep from a YAML spec (resumable)")
    sweep.add_argument("spec", help="the sweep spec (YAML)")
    sweep.add_argument(
        "--out", required=True, help="results folder (a second run resumes it; one run at a time)"
    )
    sweep.add_argument(
        "--scheduler",
        default="inprocess",
        help="inprocess (points vectorized here; default), local (a Dask LocalCluster) or tcp://HOST:PORT",
    )
    sweep.add_argument("--workers", type=int, default=2, help="worker processes of --scheduler local")
    sweep.set_defaults(run=_run)


def _run(args) -> None:
    output_folder(args.out, "--out", (), force=False)  # a run of the same spec resumes, another is refused
    for path in run_sweep(args.spec, args.out, args.scheduler, args.workers):
        print(path)
