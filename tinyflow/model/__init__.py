"""Model work with TensorFlow/Keras 3: zoo, training, pruning, quantization (TensorFlow imported lazily)."""

import os

# TensorFlow's C++ start-up and converter chatter buries tinyflow's own progress lines (noise.py
# silences what this level does not reach); `tinyflow --verbose` (TINYFLOW_VERBOSE=1) keeps it all.
if os.environ.get("TINYFLOW_VERBOSE", "") in ("", "0"):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
