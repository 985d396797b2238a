"""Pydantic models of gRPC replies exactly as the REST API renders them, derived from the
message descriptors so that /openapi.json cannot drift from the protos.

Two renderings are in use:

- ``proto3``: ``json_format.MessageToDict`` with proto field names and every field without
  presence printed. 64-bit integers are strings, enums their names, timestamps RFC 3339 strings,
  and a field with presence (a message, an ``optional`` scalar) is absent while unset.
- ``rest``: the analytics endpoints' ``as_json``: every field present, 64-bit integers as
  numbers, timestamps ISO 8601 or null.

Routes keep the keys the handler returned (``schemas.ReplyRouter`` sets ``response_model_exclude_unset``),
so an absent field stays absent rather than turning into null.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from pydantic import BaseModel, ConfigDict, Field, create_model

Style = Literal["proto3", "rest"]

_INT32 = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_FIXED32,
    FieldDescriptor.TYPE_SFIXED32,
}
_INT64 = {
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED64,
}
_FLOAT = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}
_WELL_KNOWN: dict[str, Any] = {
    "google.protobuf.Timestamp": Annotated[str, Field(json_schema_extra={"format": "date-time"})],
    "google.protobuf.Struct": dict[str, Any],
    "google.protobuf.Value": Any,
    "google.protobuf.ListValue": list[Any],
}
_MODELS: dict[tuple[str, Style], type[BaseModel]] = {}


class Reply(BaseModel):
    """A response body: exactly the documented fields, nothing more."""

    model_config = ConfigDict(extra="forbid")


def model_name(descriptor: Descriptor) -> str:
    """``clipsift.vision.v1.DuplicatePair`` -> ``VisionDuplicatePair``: unique across packages."""
    domain = descriptor.full_name.split(".")[1]
    return domain.capitalize() + descriptor.name


def _scalar(field: FieldDescriptor, style: Style) -> Any:
    if field.type in _INT32:
        return int
    if field.type in _INT64:
        return int if style == "rest" else Annotated[str, Field(pattern=r"^-?[0-9]+$")]
    if field.type in _FLOAT:
        return float
    if field.type == FieldDescriptor.TYPE_BOOL:
        return bool
    if field.type == FieldDescriptor.TYPE_BYTES:
        return Annotated[str, Field(json_schema_extra={"format": "byte"})]
    if field.type == FieldDescriptor.TYPE_ENUM:
        enum = field.enum_type
        if style == "rest" or enum is None:
            return int
        return Literal[tuple(value.name for value in enum.values)]
    return str


def _value_type(field: FieldDescriptor, style: Style) -> Any:
    message = field.message_type
    if message is None:
        return _scalar(field, style)
    if message.full_name in _WELL_KNOWN:
        return _WELL_KNOWN[message.full_name]
    return reply_model(message, style=style)


def _field(field: FieldDescriptor, style: Style) -> tuple[Any, Any]:
    message = field.message_type
    if message is not None and message.GetOptions().map_entry:
        key = message.fields_by_name["key"]
        return dict[_scalar(key, style), _value_type(message.fields_by_name["value"], style)], ...  # type: ignore[misc]
    if field.is_repeated:
        return list[_value_type(field, style)], ...  # type: ignore[misc]
    value = _value_type(field, style)
    if style == "rest":
        timestamp = message is not None and message.full_name == "google.protobuf.Timestamp"
        return (value | None, ...) if timestamp else (value, ...)
    # Absent while unset; the default is never rendered (responses exclude unset fields).
    return (value, None) if field.has_presence else (value, ...)


def reply_model(
    # The stubs type ``Message.DESCRIPTOR`` as the upb or the Python descriptor; both behave alike.
    descriptor: Descriptor | Any,
    *,
    style: Style = "proto3",
    name: str | None = None,
    omit: frozenset[str] = frozenset(),
    fields: dict[str, tuple[Any, Any]] | None = None,
    doc: str | None = None,
) -> type[BaseModel]:
    """The model of ``descriptor`` rendered in ``style``. With ``name``, a variant of it: fields in
    ``omit`` left out, ``fields`` (name: (type, default or ...)) added or replaced."""
    key = (name or descriptor.full_name, style)
    if key in _MODELS:
        return _MODELS[key]
    definitions: dict[str, Any] = {
        field.name: _field(field, style) for field in descriptor.fields if field.name not in omit
    }
    definitions.update(fields or {})
    title = name or model_name(descriptor) + ("" if style == "proto3" else "Rest")
    model = create_model(title, __base__=Reply, __doc__=doc, **definitions)
    _MODELS[key] = model
    return model
