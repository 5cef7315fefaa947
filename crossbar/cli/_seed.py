"""``--seed S``, taken by every command that draws random numbers: an integer in [0, 2**32)."""

from .._input_error import InputError


def add_seed_option(parser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="random seed in [0, 2**32) (default: 0)")


def require_seed(seed: int) -> int:
    """``seed``, or ``InputError`` naming ``--seed`` when it is outside [0, 2**32)."""
    if not 0 <= seed < 2**32:
        raise InputError(f"--seed: expected an integer in [0, 2**32), got {seed}")
    return seed
