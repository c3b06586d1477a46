"""Screenshots of the five HTML reports for the docs: docs/images/report-{train,quantize,eval,profile,inspect}.png.

    ./run tinyflow --help >/dev/null          # once: the set-up (.venv, chromium, compilers)
    .venv/bin/python docs/tools/report_screenshots.py [--keep DIR]

Every page comes from a real run, in a scratch folder: train tiny_cnn on digits, quantize it, then
eval it on sim://tflm, profile it on sim://qemu-m4 (nano33ble) and inspect it for nano33ble, each
with `--report`. Headless Chromium (Debian's, as the browser tests use) draws the top of each page
into a PNG; the PNG is reduced to 128 colours so each stays well under 150 KB. Needs TensorFlow,
arm-none-eabi-gcc and qemu-system-arm; takes ~2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"
WIDTH = 1000  # CSS pixels: the pages' max-width (980 px) plus margins
# report -> (the command's tinyflow arguments, the page it writes, how much of the page to show)
RUNS = {
    "train": (["train", "-d", "digits", "-m", "tiny_cnn", "-o", "digits.keras", "--report", "train"], 1200),
    "quantize": (["quantize", "digits.keras", "-d", "digits", "-o", "digits.tflite", "--report", "quantize"], 1250),
    "eval": (
        ["eval", "digits.tflite", "-d", "digits", "--target", "sim://tflm", "--report", "eval"]
        + ["--min-accuracy", "0.9", "--min-agreement", "0.99"],
        1450,
    ),
    "profile": (
        ["profile", "digits.tflite", "--target", "sim://qemu-m4", "-b", "nano33ble", "--report", "profile"],
        1000,
    ),
    "inspect": (["inspect", "digits.tflite", "-b", "nano33ble", "--report", "inspect"], 1150),
}
PAGES = {
    "train": "train.html",
    "quantize": "quantize.html",
    "eval": "report.html",
    "profile": "profile.html",
    "inspect": "inspect.html",
}
COMMAND_TIMEOUT = 900  # seconds for one tinyflow command (a cold ARM build included)
SHOT_TIMEOUT = 90  # seconds for chromium to draw one page


def run_reports(work: Path) -> dict[str, Path]:
    """Run each command in `work`; the page each one wrote."""
    pages = {}
    for name, (argv, _) in RUNS.items():
        print(f"tinyflow {' '.join(argv)}", file=sys.stderr)
        cmd = [sys.executable, "-m", "tinyflow.cli.main", "--quiet", *argv]
        res = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        page = work / name / PAGES[name]
        # eval exits 1 when a threshold fails and still writes its page (the banner says FAIL)
        if res.returncode not in (0, 1) or not page.exists():
            sys.exit(f"tinyflow {' '.join(argv)} failed (exit {res.returncode}):\n{res.stderr[-2000:]}")
        pages[name] = page
    return pages


def screenshot(page: Path, png: Path, height: int, scratch: Path) -> None:
    """The top `height` CSS pixels of `page`, drawn by headless Chromium, into `png`."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        sys.exit("chromium is missing: ./run setup installs it (apt-get install chromium)")
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",  # root in a container: the sandbox cannot start
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={scratch / 'chromium-profile'}",
        f"--window-size={WIDTH},{height}",
        f"--screenshot={png}",
        page.resolve().as_uri(),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        proc.wait(timeout=SHOT_TIMEOUT)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # its helper processes outlive the browser
        except ProcessLookupError:
            pass
    if proc.returncode != 0 or not png.exists():
        sys.exit(f"chromium could not draw {page} (exit {proc.returncode})")


def shrink(png: Path, colours: int = 128) -> int:
    """Reduce `png` to an adaptive palette (charts and text need few colours); its new size in bytes."""
    from PIL import Image

    with Image.open(png) as image:
        small = image.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    small.save(png, optimize=True)
    return png.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMAGES, help="where the PNGs go (default docs/images)")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep the pages (default: a temp folder)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tinyflow-shots-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        pages = run_reports(work)
        for name, page in pages.items():
            png = args.out / f"report-{name}.png"
            screenshot(page, png, RUNS[name][1], Path(tmp))
            print(f"{png}: {shrink(png):,} B", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
