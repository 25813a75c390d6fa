"""Errors raised by second-opinion, and the exit code each one maps to.

Every error the tool raises on purpose derives from one base, so callers can catch
``SecondOpinionError`` and the CLI can turn any of them into a message and an exit code::

    SecondOpinionError          base; never raised directly
    ├── InputError              exit 2: unreadable or invalid input (a table, a spec, a manifest)
    │   ├── UsageError          exit 2: options that make no sense together
    │   ├── BusyError           exit 2: another batch holds the output folder's lock
    │   ├── UnreadableFileError exit 2: a file is missing, unreadable, not the format it claims
    │   │                       (tables, score matrices)
    │   ├── ColumnNotFoundError exit 2: a column the spec names is not in the table
    │   │   └── ingest.errors.ColumnNotFoundError   the id or MOS column of the metadata
    │   ├── KeyProblemError     exit 2: keys that cannot identify clips: duplicate, colliding, empty
    │   │   └── ingest.errors.DuplicateIdError, MissingIdError
    │   ├── SchemaError         exit 2: values of the wrong type or shape (not numbers, ragged,
    │   │   │                   duplicate or blank column names, a matrix that is not 2-D)
    │   │   └── ingest.errors.MissingMosError, ScaleError, DatasetFormatError
    │   └── MissingExtraError   exit 2: the feature needs an optional extra that is not installed
    ├── PolicyError             exit 1: input was valid, but a policy the user set failed
    ├── JobsFailedError         exit 1: a batch ran, and at least one of its jobs failed
    ├── InterruptedRunError     exit 130: stopped by Ctrl-C or SIGTERM; no partial output left
    └── InternalError           exit 3: a bug in second-opinion; please report it

Messages follow one style: sentence case, what is wrong, where (file, line or row, column),
the offending value, and the fix.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_POLICY = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class SecondOpinionError(Exception):
    """Base of every error second-opinion raises on purpose."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str) -> None:
        if not message:
            msg = "an error needs a message"
            raise ValueError(msg)
        super().__init__(message)
        self.message = message


class InputError(SecondOpinionError):
    """A table or a spec cannot be read or is invalid."""

    exit_code = EXIT_INPUT


class UsageError(InputError):
    """Options or arguments that contradict each other or name nothing."""


class BusyError(InputError):
    """Another batch holds the lock of the output folder."""


class UnreadableFileError(InputError):
    """A file is missing, cannot be read, or is not in the format its name or content claims."""


class ColumnNotFoundError(InputError):
    """A column named by the spec, manifest or options is not in the table."""


class KeyProblemError(InputError):
    """Keys that cannot identify clips: duplicate, colliding after normalisation, empty or NUL."""


class SchemaError(InputError):
    """Values of the wrong type or shape: a score that is not a number, a matrix of the wrong
    size, a manifest or spec field of the wrong kind."""


class MissingExtraError(InputError):
    """The feature asked for needs an optional extra (``pip install 'second-opinion[X]'``)."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        super().__init__(
            f"{feature} needs the optional dependency {module!r}, which is not installed; "
            f"install it with: pip install 'second-opinion[{extra}]'"
        )
        self.extra = extra
        self.module = module


class PolicyError(SecondOpinionError):
    """A policy failed: coverage below the minimum, missing keys under ``on_missing='error'``."""

    exit_code = EXIT_POLICY

    def __init__(self, message: str, report: object = None) -> None:
        super().__init__(message)
        self.report = report


class JobsFailedError(SecondOpinionError):
    """A batch ran to its end, and at least one job failed (each job says why)."""

    exit_code = EXIT_POLICY


class InterruptedRunError(SecondOpinionError):
    """The run was stopped by a signal; running jobs were stopped and left nothing behind."""

    exit_code = EXIT_INTERRUPTED


class InternalError(SecondOpinionError):
    """Something second-opinion did not expect: a bug to report."""

    exit_code = EXIT_INTERNAL


def exit_code_for(error: BaseException) -> int:
    """The process exit code for ``error``: the one place that maps errors to codes."""
    if isinstance(error, SecondOpinionError):
        return error.exit_code
    return EXIT_INTERNAL
