"""Validators for input checked by pattern, shared by every schema of the API.

marshmallow's ``validate.Regexp`` calls ``re.match``: it anchors the start only, and a
pattern's ``$`` also matches before a final newline, so ``"<64 hex digits>\\n"`` passed as a
photo hash. :class:`FullMatch` holds the whole value to the pattern instead. Patterns are
written with ``^…$`` and ASCII classes (``[0-9]``, not ``\\d``, which takes any Unicode
digit) so that they read the same in the OpenAPI spec, where apispec copies them to
``pattern`` and clients apply them with ECMAScript semantics.
"""

from marshmallow import ValidationError, validate


class FullMatch(validate.Regexp):
    """``validate.Regexp`` that accepts a value only if the pattern matches all of it."""

    def __call__(self, value):
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


SHA256_PATTERN = r"^[0-9a-f]{64}$"
