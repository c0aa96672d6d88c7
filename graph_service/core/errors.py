"""The project's one error tree; the API maps it to HTTP statuses in one handler.

::

    GraphServiceError                  500  (never raised bare)
    ├── BadRequest                     400  a request malformed as HTTP (a header sent twice)
    ├── NotFound                       404  an id or name that the graph does not hold
    │   └── Ambiguous                  404  a name several entities answer to, as well as each other
    ├── InvalidRequest                 422  a value the ontology or a limit refuses
    │   └── DataError                  422  a source file with bad rows (file, row, column)
    ├── Conflict                       409  a write that contradicts the graph
    ├── Unauthorized                   401  a write without the right API key
    ├── PayloadTooLarge                413  an upload or a file over its size, cell or time limit
    ├── Busy                           429  another upload is being loaded; try again shortly
    └── BackendUnavailable             503  the store cannot be reached or timed out

Messages are written for the person reading them: what is wrong and what to do.
They never carry query text, driver codes or tracebacks.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Ambiguous",
    "BackendUnavailable",
    "BadRequest",
    "Busy",
    "Conflict",
    "DataError",
    "GraphServiceError",
    "InvalidRequest",
    "NotFound",
    "PayloadTooLarge",
    "RowError",
    "Unauthorized",
]


class GraphServiceError(Exception):
    """Base of every error the project raises on purpose."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(GraphServiceError):
    """A request malformed as HTTP, such as a header that must appear once sent twice."""

    status_code = 400


class NotFound(GraphServiceError):
    """The graph holds no such entity; ``suggestions`` lists near names."""

    status_code = 404

    def __init__(self, message: str, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.suggestions = suggestions or []


class Ambiguous(NotFound):
    """A name that several entities answer to about as well; ``suggestions`` lists them, best first."""


class InvalidRequest(GraphServiceError):
    """A value that the ontology or a limit refuses."""

    status_code = 422


@dataclass(frozen=True)
class RowError:
    """One problem in a source file, located precisely.

    ``row`` counts as a spreadsheet does: the header is row 1, the first data row is 2.
    For JSON files it is the 1-based position in the list.
    """

    file: str
    row: int | None
    column: str | None
    problem: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.problem}"


class DataError(InvalidRequest):
    """A dataset with problems; nothing was written. ``errors`` lists every problem found."""

    def __init__(self, errors: list[RowError], limit: int = 20) -> None:
        self.errors = errors
        shown = "\n".join(f"  {e}" for e in errors[:limit])
        more = f"\n  … and {len(errors) - limit} more" if len(errors) > limit else ""
        super().__init__(f"{len(errors)} problem(s) in the dataset; nothing was written:\n{shown}{more}")


class Conflict(GraphServiceError):
    """A write that contradicts what the graph holds."""

    status_code = 409


class Unauthorized(GraphServiceError):
    """A protected route called without the right API key."""

    status_code = 401


class PayloadTooLarge(GraphServiceError):
    """An upload or a source file over its size limit."""

    status_code = 413


class Busy(GraphServiceError):
    """Another upload is being loaded: loads run one at a time and are not queued."""

    status_code = 429


class BackendUnavailable(GraphServiceError):
    """The store cannot be reached, or an operation ran past its time limit."""

    status_code = 503
