"""Fixes to the emulator (never to production code) so the embedded AWS scales like the real one.

moto answers correctly but walks whole tables where DynamoDB reads one partition or one
index, so on a replay of a few thousand customers every request becomes O(table) work.
These patches make the same requests cost what they cost in DynamoDB without changing a
single answer. They patch moto's backend and serializer classes, which moto's HTTP server
(``ThreadedMotoServer``) and its in-process mock (``moto.mock_aws``) share, so one
:func:`apply` (idempotent, before or after ``mock_aws()`` starts) serves both modes.

``TransactWriteItems``
    moto deep-copies every table a transaction touches so it can roll back: O(table size)
    per transaction. The patch snapshots only the items the transaction names and restores
    exactly those on failure; all-or-nothing and the cancellation reasons are moto's own.

Main-table ``Query``
    moto sorts every item of the table, keeps the queried partition and sorts again. The
    patch hands moto's own query code just that partition (read with ``get``, so no empty
    entry appears in moto's ``defaultdict``); moto still applies the key condition, the
    direction, ``Limit``, ``ExclusiveStartKey``, the 1 MB page, filters, projections,
    ``Select``, ``ConsistentRead`` and its errors.

Index ``Query`` (GSI and LSI)
    moto sorts every item of the table and tests each against the index. The patch keeps,
    per table and per index key schema, a registry of the keys of the items that carry all
    the index's key attributes, grouped by the index hash-key value, and hands moto's query
    code only the items of the queried hash key: O(items in that bucket), not O(table).
    The registry is built on a table's first index Query (one pass over ``Table.items``) and
    then kept exactly up to date by every write path moto has: ``Table.put_item`` and
    ``Table.delete_item`` (which PutItem, DeleteItem, BatchWriteItem, transactions and their
    rollback, PartiQL and ImportTable go through) and the backend's ``update_item`` (which
    edits the stored item in place, ``REMOVE`` of an index attribute included). It lives on
    the ``Table`` object, so DeleteTable, CreateTable, restores and resets start afresh; an
    index added by UpdateTable gets its registry on its first Query. Items whose index hash
    value is unhashable (moto stores e.g. a list there, DynamoDB refuses it) sit in an
    overflow bucket that every lookup includes. One lock guards every registry (the server
    is threaded); a write re-reads the stored item under it, so the last writer wins there
    as in the table.

Both queries run moto's ``Table.query`` unchanged on a view of the table whose
``all_items()`` is the candidate list. moto re-checks every candidate against the key
condition and its final sort key ends with the table's full primary key, so a stale extra
candidate or the candidates' order cannot change an answer; a missing candidate would.

``AttributeValue`` serialisation
    moto's generic response serializer looks each member of a structure up under several
    alias spellings; an ``AttributeValue`` has ten members, so every attribute of every
    returned item cost ~40 look-ups (Query and GetItem spent most of their time there).
    When the dict's keys are all member names, as moto always builds them, the look-up can
    only find ``value[member]``; the patch takes it directly and lets moto serialise each
    member. Bodies are byte-for-byte the same.

tests/unit/test_moto_patches.py compares patched moto with :func:`unpatched` (moto as
shipped) on random tables, writes and Queries: status, raw body, parsed response and every
page must match, and every registry must equal one rebuilt from scratch.

SES v2 ``GetAccount`` is added (moto lacks it) so the dispatcher's rate limiter reads a quota.
"""

from __future__ import annotations

import copy as _real_copy
import functools
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_applied = False
_apply_lock = threading.Lock()
_replaced: list[tuple[Any, str, Any, Any]] = []  # (owner, attribute, moto's value, ours)

_registry_lock = threading.Lock()  # the server is threaded: one lock for every registry
_REGISTRY_ATTRIBUTE = "_retention_index_registries"
_generation = 0  # bumped when unpatched() ends: registries built before then are rebuilt


class _Overflow:
    """The bucket of items whose index hash value is unhashable (kept as itself by deepcopy)."""

    def __deepcopy__(self, memo: Any) -> _Overflow:
        return self


_OVERFLOW = _Overflow()
_INHERITED = object()  # a replaced attribute that the class only inherited


def apply() -> None:
    """Install the patches once per process (idempotent, thread-safe)."""
    global _applied
    with _apply_lock:
        if _applied:
            return
        from moto.dynamodb import models
        from moto.dynamodb.models.table import Table

        def deepcopy(value: Any, memo: Any = None) -> Any:
            # moto's rollback copies whole tables; transact_write_items below restores items instead.
            return value if isinstance(value, Table) else _real_copy.deepcopy(value, memo)

        _replace(models, "copy", types.SimpleNamespace(deepcopy=deepcopy, copy=_real_copy.copy))
        backend = models.DynamoDBBackend
        _replace(backend, "transact_write_items", _transact_write_items(backend.transact_write_items))
        _replace(backend, "update_item", _update_item(backend.update_item))
        _replace(Table, "put_item", _put_item(Table.put_item))
        _replace(Table, "delete_item", _delete_item(Table.delete_item))
        _replace(Table, "query", _query(Table.query))
        _patch_attribute_value_serializer()
        _patch_per_request_compilation()
        _patch_item_size_check()
        _patch_sqs_visibility()
        _patch_ses_account()
        _patch_ses_event_destinations()
        _applied = True


def _patch_per_request_compilation() -> None:
    """Compile once what moto compiles on every request, with the same results.

    * EventBridge delivers every matched event through an input template whose JSONPath
      expressions moto parses anew per event and target; ``jsonpath_ng.ext.parse`` builds a
      fresh PLY parser each time (11 ms a PutEvents in the demo, the single most expensive
      request it makes). Parsed expressions are immutable, so they are cached by text.
    * Every request lists its response class's methods with ``inspect.getmembers``; a class's
      methods do not change while moto runs, so the list is cached per class.
    * Every SQS request rebuilds the queue's attributes, converting each attribute name from
      camelCase (dozens of conversions a request); the conversion is a pure function of the name.
    * Every response gets a 52-character request id drawn one ``random.choice`` at a time;
      ``random.choices`` draws the same kind of id in one call.
    """
    import string

    import jsonpath_ng.ext
    from moto.core import responses
    from moto.moto_api._internal.moto_random import MotoRandom
    from moto.sqs import models as sqs_models

    _replace(jsonpath_ng.ext, "parse", functools.lru_cache(maxsize=512)(jsonpath_ng.ext.parse))
    _replace(responses, "method_names_from_class", functools.cache(responses.method_names_from_class))
    underscored = functools.lru_cache(maxsize=4096)(responses.camelcase_to_underscores)
    _replace(responses, "camelcase_to_underscores", underscored)
    _replace(sqs_models, "camelcase_to_underscores", underscored)

    def get_random_string(self: Any, length: int = 20, include_digits: bool = True, lower_case: bool = False) -> str:
        pool = string.ascii_letters + (string.digits if include_digits else "")
        text = "".join(self.choices(pool, k=length))
        return text.lower() if lower_case else text

    _replace(MotoRandom, "get_random_string", get_random_string)


def _patch_item_size_check() -> None:
    """Check an item's 400 KB limit once when moto builds it, not once per attribute.

    moto stores attributes in a ``LimitedSizeDict`` whose ``__setitem__`` re-measures the whole
    item before adding each attribute, so building an item of n attributes measures it n times
    (O(n²): a third of a TransactWriteItems of two 30-attribute items). Sizes are never
    negative, so the item passes every intermediate check exactly when the complete item passes
    the last one: measuring once gives the same items and the same ``ItemSizeTooLarge``.
    """
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models.utilities import bytesize

    limit = 405000  # moto's own bound (LimitedSizeDict.__setitem__)

    def __init__(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:  # noqa: N807
        self.hash_key = hash_key
        self.range_key = range_key
        converted = {key: dynamo_type.DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in converted.items()) > limit:
            raise ItemSizeTooLarge
        checked = dynamo_type.LimitedSizeDict.__new__(dynamo_type.LimitedSizeDict)
        dict.update(checked, converted)
        self.attrs = checked

    _replace(dynamo_type.Item, "__init__", __init__)


def _patch_sqs_visibility() -> None:
    """A message whose visibility timeout has run out is visible at that very instant.

    moto compares wall-clock milliseconds with ``now > visible_at``, so a failed message put
    back with ``VisibilityTimeout=0`` stays invisible for the rest of the current millisecond:
    whether the local event source sees it again in the same drain or a simulated day later
    depended on how fast the machine was, and the same seed printed different numbers. SQS
    makes a message visible once its timeout has elapsed; ``>=`` says exactly that.
    """
    from moto.sqs import models

    def visible(self: Any) -> bool:
        return models.unix_time_millis() >= self.visible_at

    _replace(models.Message, "visible", property(visible))


def _replace(owner: Any, attribute: str, value: Any) -> None:
    _replaced.append((owner, attribute, owner.__dict__.get(attribute, _INHERITED), value))
    setattr(owner, attribute, value)


def _restore(owner: Any, attribute: str, value: Any) -> None:
    if value is _INHERITED:
        delattr(owner, attribute)
    else:
        setattr(owner, attribute, value)


@contextmanager
def unpatched() -> Iterator[None]:
    """moto exactly as shipped inside the block, for tests that compare answers.

    Not for concurrent use (it swaps class attributes). Index registries are rebuilt after
    the block, since writes made inside it did not maintain them.
    """
    global _generation
    for owner, attribute, original, _ in reversed(_replaced):
        _restore(owner, attribute, original)
    try:
        yield
    finally:
        with _registry_lock:
            _generation += 1
        for owner, attribute, _, patched in _replaced:
            setattr(owner, attribute, patched)


# --------------------------------------------------------------------------- transactions


def _transact_write_items(original: Callable[..., None]) -> Callable[..., None]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        snapshot: list[tuple[Any, DynamoType, DynamoType | None, Any]] = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op["Item"] if "Item" in op else op.get("Key", {})
            if table.hash_key_attr not in key:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            current = table.get_item(hash_value, range_value)
            snapshot.append((table, hash_value, range_value, _real_copy.deepcopy(current)))
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in snapshot:
                if table.get_item(hash_value, range_value) is not None:
                    table.delete_item(hash_value, range_value)
                if item is not None:
                    table.put_item(item.to_json()["Attributes"])
            raise

    return transact_write_items


# --------------------------------------------------------------------------- queries


class _TableView:
    """A table as one query sees it: everything is the table's, except ``all_items()``."""

    def __init__(self, table: Any, candidates: list[Any]) -> None:
        self._table = table
        self._candidates = candidates

    def all_items(self) -> list[Any]:
        return self._candidates

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def _query(original: Callable[..., Any]) -> Callable[..., Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    def query(
        self: Any,
        hash_key: Any,
        range_comparison: str | None,
        range_objs: list[Any],
        limit: int,
        exclusive_start_key: dict[str, Any],
        scan_index_forward: bool,
        projection_expressions: list[list[str]] | None,
        index_name: str | None = None,
        consistent_read: bool = False,
        filter_expression: Any = None,
        hash_key_conditions: list[tuple[str, Any]] | None = None,
        range_key_conditions: list[tuple[str, str, list[Any]]] | None = None,
        **filter_kwargs: Any,
    ) -> Any:
        if index_name:
            candidates = _index_candidates(self, index_name, hash_key_conditions or [])
        elif isinstance(hash_key, DynamoType):
            candidates = _partition(self, hash_key)
        else:
            candidates = None  # no hash key: moto's own error
        return original(
            self if candidates is None else _TableView(self, candidates),
            hash_key,
            range_comparison,
            range_objs,
            limit,
            exclusive_start_key,
            scan_index_forward,
            projection_expressions,
            index_name,
            consistent_read,
            filter_expression,
            hash_key_conditions=hash_key_conditions,
            range_key_conditions=range_key_conditions,
            **filter_kwargs,
        )

    return query


def _partition(table: Any, hash_key: Any) -> list[Any]:
    """The items of one partition, read with ``get`` (moto's ``items`` is a defaultdict)."""
    partition = table.items.get(hash_key)
    if partition is None:
        return []
    return list(partition.values()) if table.range_key_attr else [partition]


def _stored(table: Any, hash_key: Any, range_key: Any) -> Any:
    """The stored item with this key, or None, without touching moto's defaultdict."""
    partition = table.items.get(hash_key)
    if partition is None or not table.range_key_attr:
        return partition
    return partition.get(range_key)


def _index_candidates(table: Any, index_name: str, hash_key_conditions: list[tuple[str, Any]]) -> list[Any] | None:
    """The items that may answer an index Query; None when moto must decide alone (bad input)."""
    index = next((i for i in table.all_indexes() if i.name == index_name), None)
    if index is None:
        return None
    hash_attributes = tuple(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
    conditions = dict(hash_key_conditions)
    if not hash_attributes or any(name not in conditions for name in hash_attributes):
        return None
    wanted = tuple(conditions[name] for name in hash_attributes)
    signature = (hash_attributes, tuple(k["AttributeName"] for k in index.schema))
    with _registry_lock:
        registries = _registries(table)
        registry = registries.get(signature)
        if registry is None:
            registry = registries[signature] = _IndexRegistry(*signature)
            registry.rebuild(table)
        keys = registry.keys_for(wanted)
    return [item for key in keys if (item := _stored(table, *key)) is not None]


def index_items(table_name: str, index_name: str, hash_value: str, account: str, region: str) -> list[dict[str, Any]]:
    """The items a string-keyed index holds under ``hash_value``, as plain values (no request:
    the local simulator's view of the emulator, e.g. when the next timer falls due)."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = dynamodb_backends[account][region].get_table(table_name)
    index = next(i for i in table.all_indexes() if i.name == index_name)
    hash_attribute = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
    wanted = DynamoType({"S": hash_value})
    items = _index_candidates(table, index_name, [(hash_attribute, wanted)]) or []
    return [
        {name: value.cast_value for name, value in item.attrs.items()}
        for item in items
        if item.attrs.get(hash_attribute) == wanted
    ]


# --------------------------------------------------------------------------- index registry


class _IndexRegistry:
    """The keys of the items carrying every key attribute of one index, by index hash value."""

    def __init__(self, hash_attributes: tuple[str, ...], key_attributes: tuple[str, ...]) -> None:
        self.hash_attributes = hash_attributes
        self.key_attributes = key_attributes
        self.bucket_of: dict[tuple[Any, Any], Any] = {}  # table key -> its bucket
        self.buckets: dict[Any, dict[tuple[Any, Any], None]] = {}  # bucket -> table keys (ordered set)

    def rebuild(self, table: Any) -> None:
        for partition in list(table.items.values()):
            for item in list(partition.values()) if table.range_key_attr else [partition]:
                self.update((item.hash_key, item.range_key), item)

    def update(self, table_key: tuple[Any, Any], item: Any) -> None:
        """Record what is stored under ``table_key`` now (``item``, or None once deleted)."""
        bucket = self._bucket(item)
        previous = self.bucket_of.get(table_key)
        if previous is not None and previous != bucket:
            members = self.buckets[previous]
            del members[table_key]
            if not members:
                del self.buckets[previous]
            del self.bucket_of[table_key]
        if bucket is not None:
            self.bucket_of[table_key] = bucket
            self.buckets.setdefault(bucket, {})[table_key] = None

    def keys_for(self, wanted: tuple[Any, ...]) -> list[tuple[Any, Any]]:
        try:
            keys = list(self.buckets.get(wanted, ()))
        except TypeError:  # an unhashable value asked for: only the overflow can match it
            keys = []
        return keys + list(self.buckets.get(_OVERFLOW, ()))

    def _bucket(self, item: Any) -> Any:
        from moto.dynamodb.models.dynamo_type import DynamoType

        if item is None or any(name not in item.attrs for name in self.key_attributes):
            return None
        # Copies: an in-place update may change the item's values, never a registry key.
        bucket = tuple(DynamoType(item.attrs[name]) for name in self.hash_attributes)
        try:
            hash(bucket)
        except TypeError:
            return _OVERFLOW
        return bucket


def _registries(table: Any) -> dict[Any, _IndexRegistry]:
    """The table's registries (caller holds the lock); those of an older generation are dropped."""
    generation, registries = table.__dict__.get(_REGISTRY_ATTRIBUTE, (None, None))
    if generation != _generation:
        registries = {}
        table.__dict__[_REGISTRY_ATTRIBUTE] = (_generation, registries)
    return registries


def _reindex(table: Any, hash_key: Any, range_key: Any) -> None:
    """Bring the table's registries in line with what is stored under this key now."""
    if _REGISTRY_ATTRIBUTE not in table.__dict__:
        return
    with _registry_lock:  # read inside the lock: the last writer to get it records the last state
        item = _stored(table, hash_key, range_key)
        for registry in _registries(table).values():
            registry.update((hash_key, range_key), item)


def _put_item(original: Callable[..., Any]) -> Callable[..., Any]:
    def put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = original(self, *args, **kwargs)
        _reindex(self, item.hash_key, item.range_key)
        return item

    return put_item


def _delete_item(original: Callable[..., Any]) -> Callable[..., Any]:
    def delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        item = original(self, hash_key, range_key)
        _reindex(self, hash_key, range_key)
        return item

    return delete_item


def _update_item(original: Callable[..., Any]) -> Callable[..., Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, table_name, key, *args, **kwargs)
        finally:
            # In a finally: moto edits the stored item in place and may fail half-way.
            table = self.tables.get(table_name) or next(
                (t for t in list(self.tables.values()) if t.table_arn == table_name), None
            )
            range_attribute = table.range_key_attr if table is not None else None
            if (
                table is not None
                and isinstance(key, dict)
                and table.hash_key_attr in key
                and (range_attribute is None or range_attribute in key)  # else moto refused it
            ):
                range_value = DynamoType(key[range_attribute]) if range_attribute else None
                _reindex(table, DynamoType(key[table.hash_key_attr]), range_value)

    return update_item


# --------------------------------------------------------------------------- responses


def _patch_attribute_value_serializer() -> None:
    """Serialise DynamoDB ``AttributeValue`` dicts without moto's per-member alias search."""
    from moto.core.serialize import JSONSerializer

    generic = JSONSerializer._serialize_type_structure

    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if (
            shape.name != "AttributeValue"
            or not key
            or type(value) is not dict
            or self.service_model.service_name != "dynamodb"
            or not value.keys() <= shape.members.keys()
        ):
            generic(self, serialized, value, shape, key)
            return
        wrapper: dict[str, Any] = {}
        for member_key, member_shape in shape.members.items():
            member_shape.parent = shape  # as moto's generic path does
            member_value = value.get(member_key)
            if member_value is not None:
                self._serialize(wrapper, member_value, member_shape, member_key)
        self._default_serialize(serialized, wrapper, shape, key)

    _replace(JSONSerializer, "_serialize_type_structure", serialize_structure)


# --------------------------------------------------------------------------- SES

EMBEDDED_MAX_SEND_RATE = 10_000.0
"""The embedded account's SES send rate: high, so local runs measure the engine, not a quota."""


def _patch_ses_account() -> None:
    """SES v2 ``GetAccount`` (the send quota the dispatcher paces itself by), which moto lacks."""
    import json

    from moto.ses.models import ses_backends
    from moto.sesv2.responses import SESV2Response

    def get_account(self: Any) -> str:
        backend = ses_backends[self.current_account][self.region]
        quota = {
            "Max24HourSend": 1_000_000.0,
            "MaxSendRate": EMBEDDED_MAX_SEND_RATE,
            "SentLast24Hours": float(backend.sent_message_count),
        }
        return json.dumps(
            {
                "SendQuota": quota,
                "SendingEnabled": True,
                "ProductionAccessEnabled": True,
                "EnforcementStatus": "HEALTHY",
            }
        )

    SESV2Response.get_account = get_account
    from moto.sesv2 import urls

    urls.url_paths["{0}/v2/email/account$"] = SESV2Response.dispatch


def _patch_ses_event_destinations() -> None:
    """SES v2 ``Create``/``GetConfigurationSetEventDestinations`` (the configuration set's event
    publishing, which ``retention doctor`` checks), which moto lacks: kept per configuration set."""
    import json

    from moto.sesv2 import urls
    from moto.sesv2.models import sesv2_backends
    from moto.sesv2.responses import SESV2Response

    def destinations(self: Any) -> dict[str, list[dict[str, Any]]]:
        backend = sesv2_backends[self.current_account][self.region]
        backend.get_configuration_set(configuration_set_name=self._get_param("ConfigurationSetName"))  # NotFound
        if not hasattr(backend, "event_destinations"):
            backend.event_destinations = {}
        return backend.event_destinations

    def create_configuration_set_event_destination(self: Any) -> str:
        name, params = self._get_param("ConfigurationSetName"), json.loads(self.body)
        destination = {"Name": params["EventDestinationName"], **params["EventDestination"]}
        destinations(self).setdefault(name, []).append(destination)
        return json.dumps({})

    def get_configuration_set_event_destinations(self: Any) -> str:
        found = destinations(self).get(self._get_param("ConfigurationSetName"), [])
        return json.dumps({"EventDestinations": found})

    SESV2Response.create_configuration_set_event_destination = create_configuration_set_event_destination
    SESV2Response.get_configuration_set_event_destinations = get_configuration_set_event_destinations
    pattern = "{0}/v2/email/configuration-sets/(?P<ConfigurationSetName>[^/]+)/event-destinations$"
    urls.url_paths[pattern] = SESV2Response.dispatch
