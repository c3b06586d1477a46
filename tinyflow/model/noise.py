"""TensorFlow's native chatter, kept off the terminal: absl, oneDNN and converter lines.

TensorFlow's C++ code writes straight to file descriptor 2 (absl's "All log messages before
absl::InitializeLog()", oneDNN's `port.cc` notice on each of its two libraries, the converter's
`fully_quantize: 0, inference_type: 6, ...` lines). TF_CPP_MIN_LOG_LEVEL does not reach the
lines written before absl is initialised, and Python's sys.stderr cannot catch any of them, so
`silenced()` points fd 2 at a temporary file for the block: on failure the captured text is
written back to the terminal (it may say why), on success it is dropped. TINYFLOW_VERBOSE=1
(`tinyflow --verbose`) turns all of this off. Only model/ uses it: TensorFlow lives here.
"""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from typing import Iterator

VERBOSE_ENV = "TINYFLOW_VERBOSE"
# Captured text replayed after a failure, at most: a native crash can dump megabytes of stack.
MAX_REPLAY = 64 * 1024


def verbose() -> bool:
    """True when the user asked for TensorFlow's own messages (`tinyflow --verbose`)."""
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0")


@contextmanager
def silenced() -> Iterator[None]:
    """Send everything written to fd 2 during the block to a temporary file; replay it if the block raises.

    Python text written to sys.stderr inside the block (warnings, a progress refresh) is captured
    too: the block should be a native call (an import, a conversion), not a whole workflow.
    """
    if verbose():
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(prefix="tinyflow-tf-") as sink:
        os.dup2(sink.fileno(), 2)
        failed = False
        try:
            yield
        except Exception:
            failed = True
            raise
        finally:
            sys.stderr.flush()  # Python's buffered text belongs to the sink, not to the terminal
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                _replay(sink)


def _replay(sink) -> None:
    """Write the last MAX_REPLAY bytes of what the block printed to the (restored) fd 2."""
    size = sink.seek(0, os.SEEK_END)
    sink.seek(max(0, size - MAX_REPLAY))
    data = sink.read(MAX_REPLAY)
    if data:
        os.write(2, data)


def load_tensorflow() -> None:
    """Import TensorFlow and Keras once, silenced: call it before the first `import keras` of a step.

    Also sets TensorFlow's Python logger to errors only (its retracing warnings), unless verbose.
    """
    if "tensorflow" in sys.modules and "keras" in sys.modules:
        return
    with silenced():
        import keras  # noqa: F401 - imported for its side effect: TensorFlow's start-up, silenced
        import tensorflow as tf

    if not verbose():
        tf.get_logger().setLevel("ERROR")
