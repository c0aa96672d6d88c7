"""The embedded backend: a networkx multigraph in the process, saved as an atomic JSON snapshot.

The multigraph is kept as one networkx ``DiGraph`` per relationship type (a
relationship's identity is (source, type, target), so each type holds at most one
edge per ordered pair). Following the relationships of given types from a node is
then a dictionary lookup per type, however many relationships of other types the
node has: a hub industry with a hundred thousand enterprises answers "who SERVES
it?" without looking at them.

The snapshot is plain JSON (no pickle), validated through the ontology when it is
opened, so a snapshot from someone else can do no more than fail to load. It is
written column-wise: per node kind one array per field, per relationship type one
array per field with the ends given by the nodes' positions, provenance as an index
into a shared table. A column is checked as a whole (by the field's own pydantic
validator, which runs over a list in one call, or one regular expression over all
the ids of a kind), and relationships per distinct value (kind pair, provenance,
date, role), so that reading a city's million relationships costs a few seconds
and never trusts what it reads. Saving
writes a temporary file beside the snapshot, fsyncs it, renames it over the old
one and fsyncs the directory: a process killed at any point leaves either the
previous snapshot or the new one, whole.

The package: :mod:`.store` (:class:`EmbeddedStore`, reads and the store's life), :mod:`.graph`
(the tables and writes), :mod:`.walks` and :mod:`.ends` (typed paths from one start or many),
:mod:`.snapshot` (saving and reading the snapshot).

May import: :mod:`graph_service.core` and networkx.
"""

from graph_service.backends.embedded.ends import MASKED_ENDS, _ManyEnds
from graph_service.backends.embedded.snapshot import SNAPSHOT_FORMAT, SNAPSHOT_VERSION
from graph_service.backends.embedded.store import EmbeddedStore

__all__ = ["MASKED_ENDS", "SNAPSHOT_FORMAT", "SNAPSHOT_VERSION", "EmbeddedStore", "_ManyEnds"]
