"""Compile a 784-256-128-10 network onto a synthetic 12-tile RRAM chip, write its report, and screenshot
report.html with a headless Chromium (skipped, with a message, when none is installed).

Usage: python scripts/render_report.py [OUT_DIR]   (default: crossbar-report in the temporary folder)
"""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import calibration
from crossbar.compiler import compile_network, estimate_cost
from crossbar.compiler._output import write_files
from crossbar.compiler._report import report_files
from crossbar.networks import MatrixLayer

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def main(out: Path) -> None:
    rng = np.random.default_rng(0)
    layers = [
        MatrixLayer("fc1", rng.standard_normal((784, 256)) * 0.05),
        MatrixLayer("fc2", rng.standard_normal((256, 128)) * 0.1),
        MatrixLayer("fc3", rng.standard_normal((128, 10)) * 0.2),
    ]
    profile = calibration.synthesize("rram", 12, seed=0)
    mapping = compile_network(layers, profile)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    paths = write_files(
        report_files(mapping, estimate_cost(mapping), {"model": "example", "profile": "synthetic"}), out
    )
    print(f"wrote {len(paths)} files in {time.perf_counter() - start:.2f} s:", *paths, sep="\n  ")
    browser = next((b for b in map(shutil.which, _BROWSERS) if b), None)
    if browser is None:
        print("no Chromium found (e.g. `apt-get install chromium`); skipping the screenshot")
        return
    screenshot = (out / "report_screenshot.png").resolve()
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--hide-scrollbars",
            f"--screenshot={screenshot}",
            "--window-size=1400,6000",
            (out / "report.html").resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    print(f"screenshot: {screenshot}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.gettempdir()) / "crossbar-report")
