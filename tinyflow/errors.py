"""Errors raised by tinyflow. Library code raises; only the CLI prints and picks the exit code.

Every message says what happened and what was received; every hint says what to do.
This module imports nothing from tinyflow.
"""


class TinyflowError(Exception):
    """Base error: `message` says what happened, `hint` what to do next."""

    exit_code = 1
    default_hint = ""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message.rstrip(".")
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return f"{self.message}. {self.hint}".strip() if self.hint else f"{self.message}."


class UsageError(TinyflowError):
    """The command line or API call was wrong (exit code 2)."""

    exit_code = 2
    default_hint = "See --help."


class DataError(TinyflowError):
    """A dataset is unusable: wrong shape, NaN/inf, bad labels, empty, mismatched lengths."""

    default_hint = "Fix the data and run again."


class ModelError(TinyflowError):
    """A model file is unreadable, malformed, or uses something a runtime cannot run."""

    default_hint = "Check the model file."


class BoardError(TinyflowError):
    """A board id is unknown, or a model does not fit a board."""

    default_hint = "Run `tinyflow boards list` to see the boards."


class LinkError(TinyflowError):
    """The device link failed: missing or busy port, timeouts, too many faults."""

    default_hint = "Check the cable and the port, then run again."


class ToolchainError(TinyflowError):
    """A compiler, emulator or PlatformIO is missing or failed."""

    default_hint = "Run ./run setup to install the toolchains."
