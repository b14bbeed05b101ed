"""The one error the pure modules raise: input the domain refuses, naming the
field at fault (None when the whole input is). A plan names the step it came from."""

from servicekit.errors import FieldError


class InputError(FieldError):
    """Input the domain cannot work with; `field` names what is at fault."""
