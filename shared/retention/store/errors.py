"""Domain exceptions the data-access layer raises instead of leaking ``ClientError``."""


class StoreError(Exception):
    """Base class for data-access failures the domain code knows how to handle."""


class AlreadyApplied(StoreError):
    """The event's idempotency marker exists: it was applied before, nothing to do."""


class ConcurrentUpdate(StoreError):
    """An item changed between read and write (optimistic lock lost): read again and retry.

    ``reasons`` are DynamoDB's cancellation reasons, one per transaction item, when known.
    """

    def __init__(self, message: str = "", reasons: list[str] | None = None) -> None:
        super().__init__(message)
        self.reasons = reasons or []
