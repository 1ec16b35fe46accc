"""`in` on integer columns, given plain integers: the list as one parameter.

The pipeline reads by id lists of a thousand and more (`id__in`, `post_id__in`,
`author__contact_id__in`). Django prepares and compiles each value of an `in`
list on its own, through the field and the expression machinery (about 1.5 ms
per thousand values), and writes a placeholder for each, which the database
(and on PostgreSQL the driver, binding on the client) then parses one by one.
A list of `int`s needs none of that: it goes as one text parameter, read as an
array on PostgreSQL (`= ANY`) and as a JSON array on SQLite (`json_each`).
Anything else (strings, model instances, None, expressions, subqueries,
booleans) goes Django's way, unchanged.

Registered for every integer field and every foreign key to one
(IngestionConfig.ready).
"""

from django.core.exceptions import EmptyResultSet
from django.db.models import ForeignKey, IntegerField
from django.db.models.expressions import ColPairs
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In


def _plain_integers(values) -> bool:
    # type(), not isinstance: True is an int too, and would go to the column as is.
    return (isinstance(values, list | tuple | set | frozenset)
            and all(type(v) is int for v in values))


class _OneParameter:
    def _direct(self, values) -> bool:
        return _plain_integers(values)

    def get_prep_lookup(self):
        if self._direct(self.rhs):
            return list(self.rhs)
        return super().get_prep_lookup()

    def as_sql(self, compiler, connection):
        if not self._direct(self.rhs) or connection.vendor not in ("postgresql", "sqlite"):
            return super().as_sql(compiler, connection)
        if not self.rhs:
            raise EmptyResultSet
        lhs, params = self.process_lhs(compiler, connection)
        listed = ",".join(map(str, self.rhs))
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", (*params, f"{{{listed}}}")
        return f"{lhs} IN (SELECT value FROM json_each(%s))", (*params, f"[{listed}]")


class IntegerIn(_OneParameter, In):
    pass


class RelatedIntegerIn(_OneParameter, RelatedIn):
    def _direct(self, values) -> bool:
        # A key to an integer column, one column (not a composite key).
        target = getattr(self.lhs.output_field, "target_field", None)
        return (isinstance(target, IntegerField) and not isinstance(self.lhs, ColPairs)
                and _plain_integers(values))


def register() -> None:
    IntegerField.register_lookup(IntegerIn)
    ForeignKey.register_lookup(RelatedIntegerIn)
