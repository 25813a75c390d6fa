"""How a batch runs: one frozen settings object, checked where it is made, passed whole.

:class:`BatchSettings` is built once (by the CLI from its options, or by
:func:`~second_opinion.batch.runner.run_batch` from its keywords) and travels unchanged to the
runner's waves, the schedulers, each worker (it pickles, for worker processes and Ray tasks) and
the audit step. Every check runs when it is made, so a setting nothing can use is refused before
any job starts or anything is written.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)

from second_opinion._typing import EXECUTORS, Executor
from second_opinion.errors import UsageError
from second_opinion.tables.formats import Engine, check_engine


class BatchSettings(BaseModel):
    """The settings of one batch run; a bad value is a :class:`UsageError` naming it."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    workers: int | None = None
    """How many jobs run at once (``--jobs``); None: as many as there are cores (or Ray CPUs),
    at most the number of jobs."""
    force: bool = False
    """Rerun jobs (and the audit) that are up to date."""
    dry_run: bool = False
    """Say what would run and why; write nothing."""
    keep_going: bool = True
    """After a failed job, run the rest (``--keep-going``) or stop (``--fail-fast``)."""
    engine: Engine | None = None
    """Each job's DuckDB memory limit and spill folder (None: DuckDB's defaults)."""
    executor: Executor = "local"
    """Worker processes on this machine, or Ray tasks on a cluster."""
    ray_address: str | None = None
    """With the Ray executor: the cluster (None: ``RAY_ADDRESS``, else a new local instance)."""

    @field_validator("workers", mode="before")
    @classmethod
    def _at_least_one(cls, value: Any) -> Any:  # noqa: ANN401 - before pydantic's type check
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            msg = f"--jobs {value}: give at least 1"
            raise UsageError(msg)
        return value

    @field_validator("engine")
    @classmethod
    def _usable_engine(cls, engine: Engine | None) -> Engine | None:
        if engine is not None:
            check_engine(engine, limit_name="memory_limit")
        return engine

    @field_validator("executor", mode="before")
    @classmethod
    def _known_executor(cls, value: Any) -> Any:  # noqa: ANN401 - before pydantic's type check
        if value not in EXECUTORS:
            msg = f"--executor {value!r}: give one of {', '.join(EXECUTORS)}"
            raise UsageError(msg)
        return value

    @model_validator(mode="after")
    def _address_with_ray(self) -> Self:
        if self.ray_address is not None and self.executor != "ray":
            msg = f"--ray-address {self.ray_address}: give it with --executor ray"
            raise UsageError(msg)
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _usage_errors(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:  # noqa: ANN401
        """Pydantic's own refusals (a wrong type, an unknown name) as a :class:`UsageError`."""
        try:
            return handler(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            msg = f"batch settings: {where} {error['input']!r}: {error['msg'].lower()}"
            raise UsageError(msg) from None
