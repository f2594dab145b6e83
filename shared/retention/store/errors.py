"""Domain exceptions the data-access layer raises instead of leaking ``ClientError``."""


class StoreError(Exception):
    """Base class for data-access failures the domain code knows how to handle."""


class AlreadyApplied(StoreError):
    """The event's idempotency marker exists (or the email's send record): it was done before."""


class ConcurrentUpdate(StoreError):
    """An item changed between read and write (optimistic lock lost): read again and retry.

    ``reasons`` are DynamoDB's cancellation reasons, one per transaction item, when known.
    """

    def __init__(self, message: str = "", reasons: list[str] | None = None) -> None:
        super().__init__(message)
        self.reasons = reasons or []


class UnknownMessage(StoreError, LookupError):
    """No send record with this id (deleted on request, or never sent)."""
