"""Type: the set of values a Variable may hold, and how values are admitted into it."""

from __future__ import annotations


class Type:
    """Base of all types. Subclasses define ``filter`` and equality."""

    variable_type = None  # the Variable subclass make_variable builds
    constant_type = None

    def filter(self, data, strict: bool = False, allow_downcast=None):
        """Return ``data`` converted to this type, or raise TypeError saying why not."""
        raise NotImplementedError

    def filter_variable(self, other):
        """``other`` as a Variable of this type, or a TypeError naming both types."""
        from symgraph.graph.basic import Variable

        if not isinstance(other, Variable):
            other = self.constant_type(self, other)
        if self.is_super(other.type):
            return other
        conv = self.convert_variable(other)
        if conv is None:
            raise TypeError(f"expected a variable of type {self}, got {other} of type {other.type}")
        return conv

    def convert_variable(self, var):
        """``var`` viewed as this type if that is safe without computation, else None."""
        return var if var.type == self else None

    def is_super(self, other) -> bool:
        """Every value of ``other`` is also a value of this type."""
        return self == other

    def is_valid_value(self, data) -> bool:
        try:
            self.filter(data, strict=True)
            return True
        except (TypeError, ValueError):
            return False

    def make_variable(self, name=None):
        return self.variable_type(self, None, None, name)

    def __call__(self, name=None):
        return self.make_variable(name)

    def make_constant(self, data, name=None):
        return self.constant_type(self, data, name)

    def values_eq(self, a, b) -> bool:
        return a == b

    def values_eq_approx(self, a, b) -> bool:
        return self.values_eq(a, b)

    def signature_of(self, data):
        """A hashable stand-in for ``data`` used to merge equal constants."""
        return data

    def constant_str(self, data) -> str:
        return repr(data)

    def clone(self, **kwargs):
        raise NotImplementedError
