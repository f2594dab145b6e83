"""Domain exceptions the data-access layer raises instead of leaking ``ClientError``."""


class StoreError(Exception):
    """Base class for data-access failures the domain code knows how to handle."""


class AlreadyApplied(StoreError):
    """The event's idempotency marker exists: it was applied before, nothing to do."""


class ConcurrentUpdate(StoreError):
    """A profile changed between read and write (optimistic lock lost): read again and retry."""
