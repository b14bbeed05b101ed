"""Breaking changes between two JSON Schemas of the same event type and version.

Within a version a schema may only grow: a consumer built against the old schema
must read what a producer of the new one emits, and a consumer built against the
new one must replay what was published under the old one. So a field may be
added when it is optional; nothing may be removed, retyped or made required.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["removed", "changed_type", "became_required", "new_required"]

# A change to any of these, in either direction, changes which values are valid.
TYPE_KEYWORDS = (
    "type",
    "format",
    "pattern",
    "$ref",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
)
UNION_KEYWORDS = ("anyOf", "oneOf", "allOf")


@dataclass(frozen=True)
class BreakingChange:
    path: str
    kind: Kind
    detail: str

    def __str__(self) -> str:
        return f"{self.path or '(root)'}: {self.detail}"


def breaking_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[BreakingChange]:
    """What in `new` breaks producers or consumers of `old`; empty when compatible."""
    return _Comparison(old, new).schemas(old, new, path="")


class _Comparison:
    def __init__(self, old_root: Mapping[str, Any], new_root: Mapping[str, Any]) -> None:
        self.old_root = old_root
        self.new_root = new_root
        # A recursive model refers to itself; follow each reference once per path.
        self.following: set[str] = set()

    def schemas(self, old: Any, new: Any, path: str) -> list[BreakingChange]:
        if not isinstance(old, Mapping) or not isinstance(new, Mapping):
            return [] if old == new else [_retyped(path, old, new)]
        if any(old.get(k) != new.get(k) for k in TYPE_KEYWORDS) or _union(old) != _union(new):
            return [_retyped(path, old, new)]
        return [
            *_enum_narrowing(old, new, path),
            *self._reference(old, path),
            *self._unions(old, new, path),
            *self._properties(old, new, path),
            *self._required(old, new, path),
            *self._children(old, new, "items", f"{path}[]"),
            *self._children(old, new, "additionalProperties", f"{path}.*"),
        ]

    def _reference(self, old: Mapping[str, Any], path: str) -> list[BreakingChange]:
        # Both sides name the same target here; what matters is whether it changed.
        ref = old.get("$ref")
        if ref is None or ref in self.following or not ref.startswith("#/"):
            return []
        self.following.add(ref)
        try:
            return self.schemas(_resolve(self.old_root, ref), _resolve(self.new_root, ref), path)
        finally:
            self.following.discard(ref)

    def _unions(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> list[BreakingChange]:
        keyword = _union(old)[0]
        if keyword is None:
            return []
        return [
            change
            for old_branch, new_branch in zip(old[keyword], new[keyword], strict=True)
            for change in self.schemas(old_branch, new_branch, path)
        ]

    def _properties(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> list[BreakingChange]:
        new_properties = new.get("properties", {})
        changes = []
        for name, old_property in old.get("properties", {}).items():
            where = f"{path}.{name}" if path else name
            if name in new_properties:
                changes += self.schemas(old_property, new_properties[name], where)
            else:
                changes.append(BreakingChange(where, "removed", "property removed"))
        return changes

    def _required(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> list[BreakingChange]:
        old_properties = old.get("properties", {})
        already = set(old.get("required", ()))
        changes = []
        for name in new.get("required", ()):
            if name in already:
                continue
            where = f"{path}.{name}" if path else name
            if name in old_properties:
                changes.append(BreakingChange(where, "became_required", "property became required"))
            else:
                changes.append(BreakingChange(where, "new_required", "new required property"))
        return changes

    def _children(
        self, old: Mapping[str, Any], new: Mapping[str, Any], keyword: str, path: str
    ) -> list[BreakingChange]:
        if keyword not in old and keyword not in new:
            return []
        # An absent keyword allows anything, as `true` does.
        return self.schemas(old.get(keyword, True), new.get(keyword, True), path)


def _enum_narrowing(
    old: Mapping[str, Any], new: Mapping[str, Any], path: str
) -> list[BreakingChange]:
    new_values = _allowed_values(new)
    if new_values is None:
        return []
    old_values = _allowed_values(old)
    if old_values is None:
        return [BreakingChange(path, "changed_type", f"restricted to {new_values}")]
    dropped = [value for value in old_values if value not in new_values]
    if not dropped:
        return []
    return [BreakingChange(path, "changed_type", f"allowed values no longer include {dropped}")]


def _allowed_values(schema: Mapping[str, Any]) -> list[Any] | None:
    if "enum" in schema:
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    return None


def _union(schema: Mapping[str, Any]) -> tuple[str | None, int]:
    """Which union keyword a schema uses and how many branches it has."""
    for keyword in UNION_KEYWORDS:
        if keyword in schema:
            return keyword, len(schema[keyword])
    return None, 0


def _resolve(root: Mapping[str, Any], ref: str) -> Any:
    node: Any = root
    for token in ref.removeprefix("#/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def _retyped(path: str, old: Any, new: Any) -> BreakingChange:
    return BreakingChange(path, "changed_type", f"type {_describe(old)} became {_describe(new)}")


def _describe(schema: Any) -> str:
    if not isinstance(schema, Mapping):
        return "any" if schema is True else "nothing" if schema is False else repr(schema)
    keyword = _union(schema)[0]
    if keyword is not None:
        return f"{keyword}[{', '.join(_describe(branch) for branch in schema[keyword])}]"
    facets = [f"{k}={schema[k]}" for k in TYPE_KEYWORDS if k in schema]
    return f"({' '.join(facets)})" if facets else "any"
