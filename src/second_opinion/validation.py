"""pydantic's validation errors as located messages, and models built with every problem at once.

One message per error: where (``jobs[1].sidecars[0].pool``), what is wrong, the value, the fix.
A :class:`Wording` says it for its reader:

- a Python caller or a CLI's options (:data:`PYTHON`, :data:`OPTIONS`): names as pydantic gives
  them, values as Python shows them;
- the author of a JSON or YAML document (:data:`DOCUMENT`, a manifest): odd names quoted, the
  branch of a union field said in words, tuples called lists, long values shortened, and the
  document's own explanation where it has one (a YAML ``yes`` read as a boolean).

:func:`build` validates fields into a model or raises one :class:`UsageError` listing every
problem; :func:`revalidated` applies overrides to a model through its builder, so a limit the
model declares holds for an override too; :class:`CheckedCopies` makes ``model_copy(update=…)``
(which pydantic does not validate) check its update the same way, for Python callers.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from second_opinion.errors import UsageError

Loc = tuple[str | int, ...]
"""Where a value is: field names and list indexes, e.g. ``("jobs", 1, "sidecars", 0, "path")``."""

Explain = Callable[[ErrorDetails, Loc, str], str | None]
"""A document's own account of an error at a location (given pydantic's message), or ``None``."""

_M = TypeVar("_M", bound=BaseModel)
_PLAIN_NAME = re.compile(r"[^\s.\[\]'\"]+")  # a name shown as is: not blank, no space, no . [ ] ' "
_TOP_LEVEL = "(top level)"


@dataclass(frozen=True)
class Wording:
    """How problems are said to their reader (see the module docstring)."""

    document: bool = False
    """Said to a document's author: quoted names, unions in words, lists, shortened values."""
    top_level: bool = True
    """A problem of the whole model is located at ``(top level)``; else it stands alone (its
    message names the options it is about)."""
    show_value: bool = True
    """The offending value is shown when the message does not hold it: ``(got 5000)``."""
    explain: Explain | None = None
    """The document's own account of an error, tried before pydantic's (with ``document``)."""
    locate: Callable[[Loc], str | None] | None = None
    """Where an error is, said the caller's way (a CLI's flag); ``None`` from it: the message
    stands alone (it names what it is about). Without it: the location of the field."""


PYTHON = Wording()
"""Problems of a model built from a Python caller's fields (or a CLI's, one field a flag)."""
OPTIONS = Wording(top_level=False, show_value=False)
"""Problems of options whose model-level messages name their flags (ingest's)."""
DOCUMENT = Wording(document=True)
"""Problems of a JSON or YAML document, said the way its author wrote it."""


def location(loc: Loc) -> str:
    """``("jobs", 1, "sidecars", 0, "path")`` as ``jobs[1].sidecars[0].path``; a name that is
    blank, holds whitespace, quotes, dots or brackets, or is not printable, is quoted:
    ``jobs[0]['   ']``."""
    return "".join(location_step(part) for part in loc).lstrip(".") or _TOP_LEVEL


def location_step(part: str | int) -> str:
    """One step of a :func:`location`: ``[1]``, ``.path`` or ``['   ']``."""
    if isinstance(part, int):
        return f"[{part}]"
    return f".{part}" if _PLAIN_NAME.fullmatch(part) and part.isprintable() else f"[{part!r}]"


def _plain_location(loc: Loc) -> str:
    """A location with every name as pydantic gives it, union branch tags included."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _document_location(schema: type[BaseModel], loc: Loc) -> str:
    """:func:`location`, with pydantic's tag for a branch of a union field said in words:
    ``columns.tuple[str, ...][0]`` is ``columns (as a list)[0]``."""
    steps = [
        f" (as {_branch(str(part))})" if _is_branch(schema, loc, index) else location_step(part)
        for index, part in enumerate(loc)
    ]
    return "".join(steps).lstrip(".") or _TOP_LEVEL


def _is_branch(schema: type[BaseModel], loc: Loc, index: int) -> bool:
    """Whether ``loc[index]`` is pydantic's tag of a union's branch, not a name."""
    if index == 0 or not isinstance(loc[index], str) or not isinstance(loc[index - 1], str):
        return False
    field = field_at(schema, loc[:index])
    if field is None or get_origin(field.annotation) not in (Union, types.UnionType):
        return False
    return len([arg for arg in get_args(field.annotation) if arg is not type(None)]) > 1


def _branch(tag: str) -> str:
    words = {"str": "a string", "int": "an integer", "float": "a number", "bool": "a boolean"}
    if tag.startswith(("tuple[", "list[")):
        return "a list"
    return "a mapping" if tag.startswith("dict[") else words.get(tag, tag)


def model_at(schema: type[BaseModel], names: Sequence[str]) -> type[BaseModel] | None:
    """The model that holds the fields at ``names`` below ``schema`` (list indexes left out):
    ``("jobs", "sidecars")`` of a manifest is a sidecar entry."""
    model: type[BaseModel] | None = schema
    for name in names:
        field = model.model_fields.get(name) if model is not None else None
        model = _model_in(field.annotation) if field is not None else None
    return model


def _model_in(annotation: object) -> type[BaseModel] | None:
    """The model a field holds: itself, or in a list, a tuple or an optional."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def field_at(schema: type[BaseModel], loc: Loc) -> FieldInfo | None:
    """The field of ``schema`` that ``loc`` names, if any."""
    names = [part for part in loc if isinstance(part, str)]
    model = model_at(schema, names[:-1]) if names else None
    return model.model_fields.get(names[-1]) if model is not None else None


def validation_problems(
    exc: ValidationError,
    *,
    schema: type[BaseModel],
    prefix: Loc = (),
    wording: Wording = PYTHON,
) -> list[str]:
    """One message per error of ``exc``, each with its location (see :func:`problem`).

    ``schema`` is the model at the top of the locations (for "did you mean" suggestions and to
    tell union branches from names); ``prefix`` is where the validated data sits in it.
    """
    return [
        problem(error, loc=prefix + tuple(error["loc"]), schema=schema, wording=wording)
        for error in exc.errors(include_url=False)
    ]


def problem(error: ErrorDetails, *, loc: Loc, schema: type[BaseModel], wording: Wording) -> str:
    """One pydantic error as a message: location, what is wrong, the value, the fix."""
    if wording.locate is not None:
        where = wording.locate(loc) or ""
    else:
        where = _document_location(schema, loc) if wording.document else _plain_location(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        known = model_at(schema, [p for p in loc[:-1] if isinstance(p, str)])
        fields = list(known.model_fields) if known is not None else []
        close = difflib.get_close_matches(str(loc[-1]), fields, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (fields: {', '.join(fields)})"
        return f"{where or _TOP_LEVEL}: unknown field{hint}"
    if kind == "missing":
        return f"{where or _TOP_LEVEL}: required field is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if wording.document:
        message = _in_document_terms(error, message, schema, loc)
        explained = wording.explain(error, loc, message) if wording.explain else None
        if explained is not None:
            return f"{where}: {explained}"
    hidden = not isinstance(value, dict | list | tuple) and repr(value) not in message
    if wording.show_value and hidden:
        message += f" (got {_shown(value) if wording.document else repr(value)})"
    if not where and not wording.top_level:
        return message
    return f"{where or _TOP_LEVEL}: {message}"


def _in_document_terms(error: ErrorDetails, message: str, schema: type[BaseModel], loc: Loc) -> str:
    """pydantic's message in a document's terms: lists, not tuples or Python classes."""
    kind = error["type"]
    if kind == "int_parsing_size":  # a Literal's check of a number too large for it
        message = _literal_expected(field_at(schema, loc)) or "the number is too large"
    elif kind == "model_type":  # "… or instance of JobEntry": a Python class
        message = re.sub(r" or instance of \w+$", "", message)
    return re.sub(r"^Tuple should", "List should", message.replace("valid tuple", "valid list"))


def _literal_expected(field: FieldInfo | None) -> str | None:
    """pydantic's message for a value not among a Literal field's choices: ``Input should be 1``."""
    if field is None or get_origin(field.annotation) is not Literal:
        return None
    choices = [repr(choice) for choice in get_args(field.annotation)]
    listed = choices[0] if len(choices) == 1 else f"{', '.join(choices[:-1])} or {choices[-1]}"
    return f"Input should be {listed}"


def _shown(value: object) -> str:
    """``value`` for a message: a long number or text shortened to its ends and its length."""
    if isinstance(value, int) and not isinstance(value, bool):
        return shorten_number(str(value))
    text = repr(value)
    if isinstance(value, str) and len(text) > 80:
        return f"{text[:40]}…{text[-20:]} ({len(value):,} characters)"
    return text


def shorten_number(text: str) -> str:
    """A long integer shortened to its ends and its length: ``1000000000…0000000000, a 400-digit
    number`` (YAML's ``0x…`` counts characters); up to 24 digits, as it is."""
    body = text.lstrip("+-")
    if len(body) <= 24:
        return text
    head = text[: len(text) - len(body) + 10]  # the sign, if any, and ten digits
    unit = "digit" if body.isdecimal() else "character"
    return f"{head}…{text[-10:]}, a {len(body)}-{unit} number"


def build(
    model: type[_M],
    fields: Mapping[str, object],
    *,
    what: str,
    wording: Wording = PYTHON,
    lone_problem_alone: bool = False,
    context: Mapping[str, object] | None = None,
) -> _M:
    """Validate ``fields`` into ``model``, or raise one :class:`UsageError` listing every
    problem under ``invalid <what>:`` (with ``lone_problem_alone``, a single problem is the
    whole message); ``context`` is pydantic's validation context, for the validators."""
    try:
        return model.model_validate(fields, context=dict(context) if context else None)
    except ValidationError as exc:
        problems = validation_problems(exc, schema=model, wording=wording)
        if lone_problem_alone and len(problems) == 1:
            raise UsageError(problems[0]) from None
        raise UsageError(f"invalid {what}:\n  " + "\n  ".join(problems)) from None


def revalidated(model: _M, builder: Callable[..., _M], **changes: object) -> _M:
    """``model`` with ``changes``, built again by its ``builder`` (e.g. ``build_join_spec``): an
    override is checked like any field, and refused with the message the builder gives."""
    return builder(**{**model.model_dump(exclude_unset=True), **changes})


class CheckedCopies(BaseModel):
    """A model whose ``model_copy(update=…)`` validates the update like any field.

    pydantic's ``model_copy`` sets the updated fields without checking them, so a limit the model
    declares (``AuditOptions.jobs <= 256``) could be bypassed; here a copy with an update is built
    again from the model's fields and the update, and a bad value raises the :class:`UsageError`
    that building the model from those fields raises (``invalid <what>:``).
    """

    copy_what: ClassVar[str] = "options"
    """What the model is, as its errors name it."""

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; with ``update``, validated as a new model would be."""
        if not update:
            return super().model_copy(deep=deep)
        return revalidated(self, self._rebuild, **update)

    @classmethod
    def _rebuild(cls, **fields: object) -> Self:
        return build(cls, fields, what=cls.copy_what)
