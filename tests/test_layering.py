"""The packages import in one direction only, and never reach into another package's private modules.

Order of the top-level packages: ``emulator_common <- device_models <- calibration <- crossbar``. Inside
``crossbar``, subpackages in the order of ``CROSSBAR_ORDER``: each imports only those before it, and the CLI
is imported by nothing. A module whose name starts with ``_`` belongs to its package: only modules inside
that package import it; others go through the package's ``__init__``.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGES = ("emulator_common", "device_models", "calibration", "crossbar")
CROSSBAR_ORDER = (
    ("_input_error", "_png", "datasets"),
    ("ir_drop",),
    ("array",),
    ("networks",),
    ("compiler",),
    ("hardware",),
    ("estimation",),
    ("sweeps",),
    ("training",),
    ("cli",),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool) -> list[str]:
    """Absolute names of the modules ``source`` (the code of ``module``) imports, ``from X import name``
    counted as X.name (a submodule or a name of X: both are X's business)."""
    package = module if is_package else module.rpartition(".")[0]
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names += [f"{base}.{alias.name}" for alias in node.names]
    return names


def crossbar_rank(name: str) -> int | None:
    """The position of a ``crossbar`` module's subpackage in ``CROSSBAR_ORDER`` (None for the root)."""
    parts = name.split(".")
    if len(parts) < 2:
        return None
    return next((rank for rank, group in enumerate(CROSSBAR_ORDER) if parts[1] in group), None)


def violations(module: str, imports: list[str]) -> list[str]:
    """What is wrong with ``module`` importing ``imports``."""
    found = []
    top = module.split(".")[0]
    for name in imports:
        target = name.split(".")[0]
        if target not in PACKAGES:
            continue
        if PACKAGES.index(target) > PACKAGES.index(top):
            found.append(f"{module} imports {name}: {top} may not depend on {target}")
            continue
        if target == top == "crossbar":
            mine, theirs = crossbar_rank(module), crossbar_rank(name)
            if theirs is not None and theirs == len(CROSSBAR_ORDER) - 1 and mine != theirs:
                found.append(f"{module} imports {name}: the library never imports the CLI")
            elif mine is not None and theirs is not None and theirs > mine:
                later = f"crossbar.{name.split('.')[1]}"
                found.append(f"{module} imports {name}: {later} comes after its importer")
        parts = name.split(".")
        for depth, part in enumerate(parts[1:], 1):
            owner = ".".join(parts[:depth])
            inside = module == owner or module.startswith(owner + ".")
            if part.startswith("_") and not part.startswith("__") and not inside:
                found.append(f"{module} imports {name}: {part} is private to {owner}")
                break
    return found


def library_modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_every_package_is_scanned():
    assert {module_name(p).split(".")[0] for p in library_modules()} == set(PACKAGES)
    ranked = {crossbar_rank(module_name(p)) for p in (ROOT / "crossbar").rglob("*.py")}
    assert ranked == set(range(len(CROSSBAR_ORDER))) | {None}  # every subpackage has its place


@pytest.mark.parametrize("path", library_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_one_way(path):
    module = module_name(path)
    assert violations(module, imported_modules(path.read_text(), module, path.name == "__init__.py")) == []


@pytest.mark.parametrize(
    ("module", "source", "is_package", "problem"),
    [
        ("crossbar.estimation._estimate", "from ..cli import main", False, "never imports the CLI"),
        ("crossbar.estimation._estimate", "import crossbar.cli._estimate", False, "never imports the CLI"),
        ("crossbar.array._crossbar", "from ..estimation import parse_times", False, "comes after"),
        ("device_models._pcm", "from calibration import load", False, "may not depend on calibration"),
        ("calibration._fit", "import crossbar", False, "may not depend on crossbar"),
        ("emulator_common.random", "from device_models import PCM", False, "may not depend on"),
        ("calibration._fit", "from device_models._faults import StuckAtFaults", False, "private to"),
        ("crossbar.estimation._estimate", "from ..compiler._mapper import x", False, "private to"),
    ],
)
def test_the_checker_finds_edges_that_run_back_up(module, source, is_package, problem):
    found = violations(module, imported_modules(source, module, is_package))
    assert found and problem in found[0]


@pytest.mark.parametrize(
    ("module", "source", "is_package"),
    [
        ("crossbar.estimation", "from ._estimate import estimate_accuracy", True),
        ("crossbar.estimation._estimate", "from ._monte_carlo import Model", False),
        ("crossbar.sweeps._run", "from .._input_error import InputError", False),
        ("crossbar.cli._estimate", "from ..estimation import parse_times", False),
        ("calibration._fit", "from emulator_common.fault_codes import HEALTHY", False),
        ("crossbar", "from .array import Crossbar", True),
    ],
)
def test_the_checker_allows_what_the_layering_allows(module, source, is_package):
    assert violations(module, imported_modules(source, module, is_package)) == []
