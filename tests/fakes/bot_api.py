"""The Telegram Bot API as data, and the check every call to the fake Bot API goes through.

`tests/fixtures/telegram/bot-api-10.1.json` lists each method's parameters (name, types,
required) and each type's fields. `BotApi.check_call` reads one call the way Telegram's server
does and refuses what it would refuse, so a bot that calls a method that does not exist, leaves
out a required parameter or sends a value of the wrong type fails its tests.

How values arrive (shared/telegram.md 1.1): every top-level parameter is a string. PTB sends a
form whose strings are raw and whose other values are JSON text (`chat_id=5`,
`disable_notification=true`, `reply_markup={"inline_keyboard": ...}`); the server reads a JSON
body the same way (a string member as it is, any other member as its JSON text), and a
multipart file part is an upload (`InputFile`). So a top-level `Integer` is a decimal string,
a `Boolean` is "true" or "false", an object or `Array of X` is JSON text. Inside such JSON, a
number may stand for a string and a numeric string for a number, as Telegram's JSON reader
allows; a Boolean must be a JSON boolean.

Stricter than Telegram, on purpose: an unknown parameter or object field is refused (Telegram
silently ignores it, which hides a misspelt option), and so is an Integer written "1.0".
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "telegram" / "bot-api-10.1.json"

_INTEGER_RE = re.compile(r"^-?\d+$")
_TAG_RE = re.compile(r"(?:must be|always) [\"“]?([a-z_]+)[\"”]?")
_ARRAY = "Array of "
_OBJECT_PARAMETER_NAMES = {"reply_markup": "reply keyboard markup"}
"""How Telegram names a JSON parameter it cannot parse ("can't parse X JSON object")."""


class Violation(ValueError):
    """A call Telegram would refuse; the text is the description after "Bad Request: "."""


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request: what an `InputFile` parameter carries."""

    filename: str
    size: int
    data: bytes = field(default=b"", repr=False, compare=False)
    """The file's bytes, so a test can read what the bot sent (sendDocument)."""

    def as_json(self) -> dict[str, Any]:
        return {"filename": self.filename, "size": self.size}


@dataclass(frozen=True)
class Field:
    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class ApiType:
    """An object type (`fields`) or a union of others (`subtypes`, told apart by `tags`)."""

    name: str
    fields: Mapping[str, Field]
    subtypes: tuple[str, ...] = ()
    tags: Mapping[str, str] | None = None
    """Union only: discriminating value -> subtype, when every subtype names its value in
    its first field ("type", "status", "source"...); `tag_field` says which field that is."""
    tag_field: str | None = None


def _fields(spec: Mapping[str, Any]) -> dict[str, Field]:
    return {
        f["name"]: Field(f["name"], tuple(f["types"]), bool(f["required"]))
        for f in spec.get("fields", [])
    }


class BotApi:
    """One version of the Bot API: its methods and types, and the checks built on them."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.version = str(data.get("version", "?"))
        self.methods: dict[str, dict[str, Field]] = {
            name: _fields(spec) for name, spec in data["methods"].items()
        }
        self._by_lower = {name.lower(): name for name in self.methods}
        raw_types: Mapping[str, Any] = data["types"]
        self.types: dict[str, ApiType] = {}
        for name, spec in raw_types.items():
            subtypes = tuple(spec.get("subtypes", ()))
            self.types[name] = ApiType(name, _fields(spec), subtypes, *_tags(raw_types, subtypes))

    def method_name(self, name: str) -> str | None:
        """The method's canonical name (Telegram reads names case-insensitively), or None."""
        return self._by_lower.get(name.lower())

    def check_call(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The call's parameters read as Telegram reads them, or Violation.

        `params` hold wire values (strings and `Upload`s); any other value is taken as a JSON
        body member and read as its JSON text (null as absent). Uploads come back as
        {"filename", "size"}.
        """
        fields = self.methods[method]
        for name in params:
            if name not in fields:
                raise Violation(f'parameter "{name}" is unknown to {method}')
        typed: dict[str, Any] = {}
        for name, spec in fields.items():
            if params.get(name) is None:  # absent, or null in a JSON body
                if spec.required:
                    raise Violation(f'parameter "{name}" is required by {method}')
                continue
            value = params[name]
            wire = value if isinstance(value, str | Upload) else json.dumps(value)
            typed[name] = self._parameter(spec, wire)
        return typed

    def required_defaults(self, type_name: str) -> dict[str, Any]:
        """False/0/"" for each required Boolean/Integer/String field of an object type: a
        well-formed object to start from (the fake's ChatMember answers)."""
        blanks = {"Boolean": False, "Integer": 0, "Float": 0.0, "String": ""}
        return {
            f.name: blanks[f.types[0]]
            for f in self.types[type_name].fields.values()
            if f.required and f.types[0] in blanks
        }

    # -- top-level parameters -------------------------------------------------------------------

    def _parameter(self, spec: Field, wire: str | Upload) -> Any:
        if isinstance(wire, Upload):
            if "InputFile" in spec.types:
                return wire.as_json()
            raise Violation(f'parameter "{spec.name}" must not be a file upload')
        scalars = [t for t in spec.types if t in _SCALARS or t == "InputFile"]
        for type_name in scalars:
            value = _scalar(type_name, wire)
            if value is not _NOT:
                return value
        structured = [t for t in spec.types if t not in scalars]
        if not structured:
            raise Violation(f'parameter "{spec.name}" must be of type {" or ".join(spec.types)}')
        what = _OBJECT_PARAMETER_NAMES.get(spec.name, spec.name)
        try:
            decoded = json.loads(wire)
        except ValueError:
            raise Violation(f"can't parse {what} JSON object") from None
        try:
            return self._one_of(structured, decoded, spec.name)
        except Violation as exc:
            raise Violation(f"can't parse {what} JSON object: {exc}") from None

    # -- JSON values ------------------------------------------------------------------------------

    def _one_of(self, types: tuple[str, ...] | list[str], value: Any, where: str) -> Any:
        """`value` read as the first of `types` it is; the first alternative's complaint if none."""
        first: Violation | None = None
        for type_name in types:
            try:
                return self._json(type_name, value, where)
            except Violation as exc:
                first = first or exc
        assert first is not None
        if len(types) > 1:
            raise Violation(f"{where} is none of {', '.join(types)} ({first})")
        raise first

    def _json(self, type_name: str, value: Any, where: str) -> Any:
        if type_name.startswith(_ARRAY):
            if not isinstance(value, list):
                raise Violation(f'field "{where}" must be an Array')
            item = type_name.removeprefix(_ARRAY)
            return [self._json(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
        if type_name in _SCALARS:
            return _json_scalar(type_name, value, where)
        if type_name == "InputFile":
            if not isinstance(value, str):
                raise Violation(f'field "{where}" must be a file reference ("attach://...")')
            return value
        api_type = self.types.get(type_name)
        if api_type is None:
            raise Violation(f"the fake knows no type {type_name} ({where})")
        if api_type.subtypes:
            return self._union(api_type, value, where)
        return self._object(api_type, value, where)

    def _union(self, api_type: ApiType, value: Any, where: str) -> Any:
        if api_type.tags is None or api_type.tag_field is None:
            return self._one_of(api_type.subtypes, value, where)
        if not isinstance(value, dict):
            raise Violation(f'field "{where}" must be a {api_type.name} object')
        tag = value.get(api_type.tag_field)
        chosen = api_type.tags.get(tag) if isinstance(tag, str) else None
        if chosen is None:
            known = ", ".join(sorted(api_type.tags))
            raise Violation(f'field "{where}.{api_type.tag_field}" must be one of {known}')
        return self._json(chosen, value, where)

    def _object(self, api_type: ApiType, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise Violation(f'field "{where}" must be a {api_type.name} object')
        fields = api_type.fields
        for name in value:
            if name not in fields:
                raise Violation(f'field "{where}.{name}" is unknown to {api_type.name}')
        read: dict[str, Any] = {}
        for name, spec in fields.items():
            item = value.get(name)
            if item is None:
                if spec.required:
                    raise Violation(f'field "{where}.{name}" is required in {api_type.name}')
                continue
            read[name] = self._one_of(spec.types, item, f"{where}.{name}")
        return read


_SCALARS = frozenset({"Integer", "Float", "Boolean", "String"})
_NOT = object()
"""`_scalar`'s "not this type"."""


def _scalar(type_name: str, wire: str) -> Any:
    """A wire string read as a scalar type, or _NOT."""
    if type_name == "String":
        return wire
    if type_name == "Integer":
        return int(wire) if _INTEGER_RE.match(wire.strip()) else _NOT
    if type_name == "Float":
        try:
            number = float(wire)
        except ValueError:
            return _NOT
        return number if math.isfinite(number) else _NOT
    if type_name == "Boolean":
        lowered = wire.strip().lower()
        return {"true": True, "false": False}.get(lowered, _NOT)
    return _NOT


def _json_scalar(type_name: str, value: Any, where: str) -> Any:
    """A scalar inside a JSON object, as Telegram's JSON reader takes it."""
    if type_name == "Boolean":
        if isinstance(value, bool):
            return value
    elif isinstance(value, bool):
        pass
    elif type_name == "String":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float):
            return json.dumps(value)
    elif isinstance(value, int | float) and (type_name == "Float" or isinstance(value, int)):
        return value
    elif isinstance(value, str) and (read := _scalar(type_name, value)) is not _NOT:
        return read
    raise Violation(f'field "{where}" must be of type {type_name}')


def _tags(
    raw_types: Mapping[str, Any], subtypes: tuple[str, ...]
) -> tuple[dict[str, str] | None, str | None]:
    """How a union's subtypes are told apart: {value: subtype} and the field holding it."""
    tags: dict[str, str] = {}
    field_names = set()
    for subtype in subtypes:
        first = (raw_types.get(subtype) or {}).get("fields", [{}])[0]
        match = _TAG_RE.search(str(first.get("description", "")))
        if match is None:
            return None, None
        tags[match.group(1)] = subtype
        field_names.add(first.get("name"))
    if len(field_names) != 1:
        return None, None
    return tags, str(field_names.pop())


@cache
def bot_api() -> BotApi:
    """The Bot API the fake holds the bot to (read once per process)."""
    return BotApi(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
