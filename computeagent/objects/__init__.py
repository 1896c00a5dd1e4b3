"""Typed, immutable values that cross the agent's inner boundaries.

The normalized spec (:mod:`computeagent.objects.spec`), the instance
record (:mod:`computeagent.objects.record`) and the stored instance
(:mod:`computeagent.objects.stored`) are frozen dataclasses: the schema
returns them, the store keeps them, the driver contract takes and
returns them. Each has ``to_dict()``, exactly the dict of docs/api.md,
and ``from_dict()`` for data already validated (a stored record); a
change is a new object made with :func:`dataclasses.replace`.
Sequences are tuples and mappings tuples of ``(key, value)`` pairs, so
an object is immutable and hashable all the way down.
"""
