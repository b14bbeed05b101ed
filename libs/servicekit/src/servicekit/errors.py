"""Errors the pure layers raise. They import nothing, so `domain/` and `service_layer/`
may raise them without knowing about HTTP; `servicekit.problems` maps each to its
problem response once for every app."""


class FieldError(ValueError):
    """Input that is well formed but wrong for the domain: names the field and why.
    Answered as a 422 problem whose `field` is `field`; `errors`, when given, lists
    every fault (`{"field", "code", "message"}` and the like) as the problem's `errors`."""

    def __init__(
        self, field: str | None, reason: str, *, errors: list[dict[str, object]] | None = None
    ) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason
        self.errors = errors


class Missing(LookupError):
    """A thing the caller named does not exist (or is not theirs to see): a 404."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class Clash(ValueError):
    """The request contradicts the current state (a duplicate, a closed period): a 409."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


class Unreachable(RuntimeError):
    """Another service did not answer, or answered with a failure: a 502 whose code
    names it (`tracking-unavailable`, "tracking-service did not answer")."""

    def __init__(self, code: str, title: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.title = title
        self.reason = reason
