"""Model work with TensorFlow/Keras 3: zoo, training, pruning, quantization (TensorFlow imported lazily)."""

import os

# TensorFlow's C++ start-up and converter chatter buries tinyflow's own progress lines; users who
# want it back set TF_CPP_MIN_LOG_LEVEL=0 themselves.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
