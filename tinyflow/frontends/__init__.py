"""Feature front ends (numpy only), each with a bit-exact C twin in firmware/frontends/.

- micro_speech: TensorFlow's audio_microfrontend op (TFLM micro frontend), bit for bit, plus the
  int8 conversion micro_speech's model takes.
- mfcc: MLPerf Tiny KWS MFCC in integers, with a float reference.
- imu: windowed integer IMU features (RMS, zero crossings, FFT magnitude bins).

A configuration is a frozen dataclass that travels with the model as `<model>.frontend.json`
(write_sidecar / read_sidecar); tinyflow.export.frontend_tables renders the integer plans as C for
the firmware.
"""

from __future__ import annotations

import numpy as np

from tinyflow.errors import UsageError
from tinyflow.frontends.config import (
    CONFIGS,
    FrontendConfig,
    ImuConfig,
    MfccConfig,
    MicroSpeechConfig,
    config_from_dict,
    config_to_dict,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)

__all__ = [
    "CONFIGS",
    "FrontendConfig",
    "ImuConfig",
    "MfccConfig",
    "MicroSpeechConfig",
    "compute_features",
    "config_from_dict",
    "config_to_dict",
    "default_config",
    "read_sidecar",
    "sidecar_path",
    "write_sidecar",
]


def default_config(name: str) -> FrontendConfig:
    """The default configuration of front end `name` (micro_speech, mfcc or imu)."""
    if name not in CONFIGS:
        raise UsageError(f"Unknown front end {name!r}", f"Use one of: {', '.join(CONFIGS)}.")
    return CONFIGS[name]()


def compute_features(config: FrontendConfig, signal: np.ndarray) -> np.ndarray:
    """The features the model takes for one raw signal (int16 audio [n] or IMU samples [n, axes]).

    micro_speech returns int8 when config.int8_output (what micro_speech's model takes), else uint16;
    mfcc int16; imu int32."""
    from tinyflow.frontends import imu, mfcc, micro_speech  # numpy-heavy modules, loaded on use

    if isinstance(config, MicroSpeechConfig):
        features = micro_speech.micro_speech_features(np.asarray(signal), config)
        return micro_speech.features_to_int8(features) if config.int8_output else features
    if isinstance(config, MfccConfig):
        return mfcc.mfcc_features(np.asarray(signal), config)
    if isinstance(config, ImuConfig):
        return imu.imu_features(np.asarray(signal), config)
    raise UsageError(f"Not a front end configuration: {type(config).__name__}")
