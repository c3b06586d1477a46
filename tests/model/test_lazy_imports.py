"""The data layer, the model modules and their CLI verbs import without TensorFlow (it loads lazily)."""

from __future__ import annotations

import subprocess
import sys


def test_no_tensorflow_at_import():
    code = (
        "import sys\n"
        "import tinyflow.data, tinyflow.model.zoo, tinyflow.model.train, tinyflow.model.prune\n"
        "import tinyflow.model.quantize, tinyflow.model.pipeline, tinyflow.workflows.demo\n"
        "import tinyflow.cli.train, tinyflow.cli.prune, tinyflow.cli.quantize, tinyflow.cli.demo\n"
        "from tinyflow.data import load_dataset, split\n"
        "split(load_dataset('gestures', n=50))\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
        "assert not bad, bad[:5]\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
