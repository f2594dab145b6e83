"""An embedded AWS: moto's backends in this process, with every table, queue and bus of template.yaml.

The same helper serves ``make demo``, the CLI and the tests. Handlers need no change to run
against it: moto's in-process mode answers every boto3 request before it leaves botocore (no
socket, no HTTP server), and each function's environment variables are taken from the template
with ``!Ref`` resolved to the local resource names. The requests are the deployed ones — the
real store code builds and sends them, botocore serialises, signs and parses them — only the
network hop is gone.

Why in-process (measured, ``bench/bench_emulator.py``): moto's HTTP server costs 5–9 ms a
request (werkzeug closes every connection; client and server share one core's GIL), moto in
the process about 2 ms. A second process with keep-alive would let client and server use both
cores, but HTTP framing costs more CPU than the second core gives back for a workload that
waits on every answer, so the fastest embedded AWS on two cores is the in-process one.

Anything that needs a URL (``aws --endpoint-url``, a browser, ``make demo SERVE=1``) gets one
from :meth:`EmbeddedAws.serve_url`: moto's ``ThreadedMotoServer`` over the same in-process
backends.
"""

from __future__ import annotations

import json
import logging
import os
import secrets as secrets_module
import string
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

from retention.store import dynamo
from retention_tools.local import template as cfn

REGION = "eu-west-1"
ACCOUNT = "123456789012"

_CREATE_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
    "SSESpecification",
)


@dataclass
class LocalResources:
    """Physical names of what was created, by logical id."""

    tables: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue URL
    buses: dict[str, str] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # logical id -> secret ARN
    buckets: dict[str, str] = field(default_factory=dict)
    configuration_sets: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)


class EmbeddedAws:
    """Start with :meth:`start`, stop with :meth:`stop` (or use as a context manager)."""

    def __init__(
        self,
        stage: str = "local",
        parameters: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        shared: bool = False,
    ) -> None:
        """``shared`` keeps what the account already holds (tests share one account, each test
        with its own stage); otherwise the run starts from an empty account. ``env`` adds settings
        for this run (e.g. the timer layout of a day-stepped simulation)."""
        self.stage = stage
        self.extra_env = env or {}
        self.template = cfn.load_template()
        self.parameters = {**cfn.parameter_defaults(self.template), "Stage": stage, **(parameters or {})}
        self.resources = LocalResources()
        self.shared = shared
        self._saved_env: dict[str, str | None] = {}
        self._clients: dict[str, Any] = {}

    def __enter__(self) -> EmbeddedAws:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> EmbeddedAws:
        start_in_process()
        if not self.shared:
            reset_account()
        self._saved_env.setdefault("AWS_ENDPOINT_URL", os.environ.pop("AWS_ENDPOINT_URL", None))
        self._set_env(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            }
        )
        dynamo.reset_clients()
        reset_service_clients()
        self._create_resources()
        return self

    def stop(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        self._clients.clear()
        dynamo.reset_clients()
        reset_service_clients()
        _reset_settings()

    def client(self, service: str) -> Any:
        """One client per service for the run (creating one costs ~10 ms: the shop's PutEvents
        and the drivers call this per batch)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=REGION)
        return self._clients[service]

    def serve_url(self) -> str:
        """A URL for tools outside this process (``aws --endpoint-url``): moto's server over the
        same backends, started on first use on a free loopback port."""
        return start_server()

    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _resolver(self) -> cfn.Resolver:
        return cfn.Resolver(
            parameters=self.parameters,
            pseudo={"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::StackName": f"retention-{self.stage}"},
        )

    def _create_resources(self) -> None:
        resolver = self._resolver()
        self._create_secrets(resolver)
        self._create_buckets(resolver)
        self._create_tables(resolver)
        self._create_queues(resolver)
        self._create_buses(resolver)
        self._create_email(resolver)  # before the rules: the SES events rule names the configuration set
        self._create_rules(resolver)
        environment: dict[str, str] = {}
        for logical_id in cfn.function_code_dirs(self.template):
            environment.update(cfn.function_environment(self.template, logical_id, resolver))
        self.resources.environment = environment
        # Handlers share this process, so the union of their variables is installed; the
        # template gives every function the same names for the same resources.
        # Log level stays the caller's; templates come from the checkout, not the layer path /opt.
        local_only = ("POWERTOOLS_LOG_LEVEL", "RETENTION_TEMPLATES_DIR")
        self._set_env({k: v for k, v in environment.items() if k not in local_only})
        self._set_env(self.extra_env)
        _reset_settings()

    def _name(self, logical_id: str) -> str:
        return f"retention-{self.stage}-{logical_id}"

    def _create_tables(self, resolver: cfn.Resolver) -> None:
        ddb = self.client("dynamodb")
        for logical_id, resource in cfn.resources_of_type(self.template, "AWS::DynamoDB::Table").items():
            props = resolver.resolve(resource["Properties"])
            name = props.get("TableName") or self._name(logical_id)
            kwargs = {k: props[k] for k in _CREATE_TABLE_KEYS if k in props}
            if "SSESpecification" in kwargs:  # CloudFormation says SSEEnabled where the API says Enabled
                kwargs["SSESpecification"] = {"Enabled": bool(kwargs["SSESpecification"].get("SSEEnabled"))}
            ddb.create_table(TableName=name, **kwargs)
            ttl = props.get("TimeToLiveSpecification")
            if ttl and ttl.get("Enabled"):
                ddb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
                )
            resolver.refs[logical_id] = name
            resolver.attributes[(logical_id, "Arn")] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
            self.resources.tables[logical_id] = name

    def _create_buckets(self, resolver: cfn.Resolver) -> None:
        s3 = self.client("s3")
        for logical_id, resource in cfn.resources_of_type(self.template, "AWS::S3::Bucket").items():
            props = resolver.resolve(resource.get("Properties", {}))
            name = props.get("BucketName") or self._name(logical_id).lower()
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
            if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
            resolver.refs[logical_id] = name
            resolver.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
            self.resources.buckets[logical_id] = name

    def _create_queues(self, resolver: cfn.Resolver) -> None:
        sqs = self.client("sqs")
        queues = cfn.resources_of_type(self.template, "AWS::SQS::Queue")
        # Dead-letter queues first: a source queue's redrive policy names its DLQ's ARN.
        ordered = sorted(queues.items(), key=lambda item: "RedrivePolicy" in item[1].get("Properties", {}))
        for logical_id, resource in ordered:
            props = resolver.resolve(resource.get("Properties", {}))
            name = props.get("QueueName") or self._name(logical_id)
            attributes = {
                key: (json.dumps(props[key]) if isinstance(props[key], dict) else str(props[key]))
                for key in ("VisibilityTimeout", "MessageRetentionPeriod", "RedrivePolicy", "DelaySeconds")
                if key in props
            }
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
            resolver.refs[logical_id] = url
            resolver.attributes[(logical_id, "Arn")] = arn
            resolver.attributes[(logical_id, "QueueName")] = name
            self.resources.queues[logical_id] = url

    def _create_secrets(self, resolver: cfn.Resolver) -> None:
        """Secrets as CloudFormation would make them: ``GenerateSecretString`` filled with random letters."""
        secrets = self.client("secretsmanager")
        for logical_id, resource in cfn.resources_of_type(self.template, "AWS::SecretsManager::Secret").items():
            props = resolver.resolve(resource["Properties"])
            generate = props.get("GenerateSecretString", {})
            value: dict[str, Any] = json.loads(generate.get("SecretStringTemplate", "{}"))
            if "GenerateStringKey" in generate:
                alphabet = string.ascii_letters + string.digits
                length = int(generate.get("PasswordLength", 32))
                value[generate["GenerateStringKey"]] = "".join(secrets_module.choice(alphabet) for _ in range(length))
            name = self._name(logical_id)
            arn = secrets.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]
            resolver.refs[logical_id] = arn
            self.resources.secrets[logical_id] = arn

    def _create_email(self, resolver: cfn.Resolver) -> None:
        """SES configuration sets, and the sender identity verified (in AWS that is a set-up step)."""
        ses = self.client("sesv2")
        for logical_id, resource in cfn.resources_of_type(self.template, "AWS::SES::ConfigurationSet").items():
            name = resolver.resolve(resource["Properties"]["Name"])
            ses.create_configuration_set(ConfigurationSetName=name)
            resolver.refs[logical_id] = name
            self.resources.configuration_sets[logical_id] = name
        sender = str(self.parameters.get("SenderAddress", ""))
        if sender:
            self.client("ses").verify_email_identity(EmailAddress=sender)

    def _create_buses(self, resolver: cfn.Resolver) -> None:
        events = self.client("events")
        for logical_id, resource in cfn.resources_of_type(self.template, "AWS::Events::EventBus").items():
            name = resolver.resolve(resource["Properties"]["Name"])
            events.create_event_bus(Name=name)
            resolver.refs[logical_id] = name
            resolver.attributes[(logical_id, "Arn")] = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}"
            self.resources.buses[logical_id] = name

    def _create_rules(self, resolver: cfn.Resolver) -> None:
        events = self.client("events")
        for logical_id, resource in cfn.resources_of_type(self.template, "AWS::Events::Rule").items():
            props = resolver.resolve(resource["Properties"])
            if "EventPattern" not in props:
                continue  # schedules are driven by the local runner's simulated clock
            name = self._name(logical_id)
            bus = props.get("EventBusName", "default")
            events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(props["EventPattern"]))
            targets = [{"Id": t["Id"], "Arn": t["Arn"]} for t in props.get("Targets", [])]
            if targets:
                events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
            resolver.attributes[(logical_id, "Arn")] = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{bus}/{name}"
            self.resources.rules[logical_id] = name


_mock: Any = None
request_lock = threading.RLock()
Fault = Callable[[str, Any], Any]
"""``(event name, request) -> response or None``: an answer the emulator gives before AWS would act."""
_faults: list[Fault] = []
requests_answered: Counter[str] = Counter()
"""Requests the emulator answered, by ``service.Operation`` (what the code under test sent to AWS)."""


@contextmanager
def faults(fault: Fault) -> Iterator[None]:
    """Let ``fault`` answer requests first (throttling, errors): a request it answers never reaches
    the backends, as a throttled request never reaches DynamoDB. A botocore ``before-send`` hook
    cannot do this in-process: botocore calls every hook, so the emulator would apply the request
    and the client would see the injected error."""
    _faults.append(fault)
    try:
        yield
    finally:
        _faults.remove(fault)


def start_in_process() -> None:
    """Answer every boto3 request of this process from moto's backends (idempotent).

    Each request is handled under one lock, so a handler running in another thread (the local
    tracking API, overlapping sweeps in a test) sees every request applied whole, as DynamoDB
    applies each request atomically; moto's backends are not thread-safe on their own.
    """
    global _mock
    if _mock is not None:
        return
    from moto import mock_aws  # lazily: moto is a development dependency
    from moto.core.botocore_stubber import BotocoreStubber

    from retention_tools.local import moto_patches

    moto_patches.apply()
    answer = BotocoreStubber.__call__

    def serialised(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        for fault in list(_faults):
            injected = fault(event_name, request)
            if injected is not None:
                return injected
        with request_lock:
            requests_answered[event_name.removeprefix("before-send.")] += 1
            return answer(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = serialised  # type: ignore[method-assign]
    _mock = mock_aws()
    _mock.start(reset=False)


def reset_account() -> None:
    """Empty every in-process backend: a run that owns the account starts from nothing."""
    from moto.core.base_backend import BackendDict

    with request_lock:
        BackendDict.reset()


_server_url: str = ""


def start_server() -> str:
    """moto's server on a free loopback port (daemon thread) over this process's backends; its URL."""
    global _server_url
    if _server_url:
        return _server_url
    from moto.server import ThreadedMotoServer

    start_in_process()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    _server_url = f"http://{host}:{port}"
    return _server_url


def reset_service_clients() -> None:
    """Forget every cached boto3 client (they point at the previous endpoint)."""
    from retention import published
    from retention.mail import ses
    from retention.store import bus, template_bucket

    bus.client.cache_clear()
    ses.client.cache_clear()
    template_bucket.reset_clients()
    published.reset()  # the templates a previous account published are not this one's


def _reset_settings() -> None:
    from aws_lambda_powertools.utilities import parameters

    from retention.connectors.settings import connector_settings
    from retention.mail.settings import mail_settings
    from retention.settings import settings

    settings.cache_clear()
    connector_settings.cache_clear()
    mail_settings.cache_clear()
    parameters.clear_caches()  # secrets cached by Powertools belong to the previous account
