"""The one place the processor is wired: :func:`bootstrap` builds the pipeline from adapters.

The entry point calls :func:`get_pipeline` (built on first use, cached per process, shared by
the instance's threads: every adapter is thread-safe and creates its client lazily). Tests call
:func:`bootstrap` with fakes for any adapter they replace::

    pipeline = bootstrap(settings, store=FakeStore(), accounts=FakeAccounts([...]), ...)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from shared.accounts import AccountRepository
from shared.accounts.mongo import MongoAccountRepository
from shared.config import Settings, get_settings, require_in_production
from shared.extraction.models import Extractor, ParsedEmail
from shared.mail import Mailer, SmtpMailer
from shared.processing.outbox import Outbox, outbox_from_settings
from shared.processing.pipeline import Pipeline, PipelineDeps
from shared.processing.ports import BreakerLookup, MetricsFactory, Telemetry
from shared.processing.raw_emails import GcsRawEmailStore, RawEmailStore
from shared.processing.store import PostgresProcessingStore, ProcessingStore

_lock = threading.Lock()
_pipeline: Pipeline | None = None

_UNSET: Any = object()


def _default_breakers() -> BreakerLookup:
    from shared.breakers import get_breaker

    lookup: BreakerLookup = get_breaker
    return lookup


def _default_metrics() -> MetricsFactory:
    from shared.metrics.collector import MetricsCollector

    return MetricsCollector


class _SentryTelemetry:
    """Breadcrumbs and tags through :mod:`shared.observability.sentry` (which never raises)."""

    def stage_breadcrumb(self, stage: str, seconds: float) -> None:
        from shared.observability.sentry import stage_breadcrumb

        stage_breadcrumb(stage, seconds)

    def set_invocation_tags(self, **tags: str | int | None) -> None:
        from shared.observability.sentry import set_invocation_tags

        set_invocation_tags(**tags)


def _guard(breakers: BreakerLookup, name: str) -> Callable[..., Any]:
    """Calls through the named breaker, looked up at call time."""

    def call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return breakers(name).call(func, *args, **kwargs)

    return call


def _default_parser() -> Callable[[bytes], ParsedEmail]:
    from shared.extraction.email_parser import parse_email

    return parse_email


def bootstrap(
    settings: Settings | None = None,
    *,
    store: ProcessingStore | None = None,
    outbox: Outbox | None = None,
    raw_emails: RawEmailStore | None = None,
    parse_email: Callable[[bytes], ParsedEmail] | None = None,
    claude: Extractor | None = _UNSET,
    rules: Extractor | None = None,
    accounts: AccountRepository | None = None,
    mailer: Mailer | None = None,
    breakers: BreakerLookup | None = None,
    new_metrics: MetricsFactory | None = None,
    telemetry: Telemetry | None = None,
) -> Pipeline:
    """Build a pipeline; every adapter not given is the real one for ``settings``."""
    settings = settings or get_settings()
    # Who staff notifications and breaker alerts go to: never the local defaults in production.
    require_in_production(settings, "admin_email", "circuit_breaker_alert_email")
    breakers = breakers or _default_breakers()
    if claude is _UNSET or rules is None:
        from shared.extraction.factory import build_extractors

        built_claude, built_rules = build_extractors(settings)
        claude = built_claude if claude is _UNSET else claude
        rules = rules or built_rules
    deps = PipelineDeps(
        settings=settings,
        store=store
        or PostgresProcessingStore(
            lease_seconds=settings.processor_lease_seconds,
            send_lease_seconds=settings.notification_send_lease_seconds,
        ),
        outbox=outbox or outbox_from_settings(settings),
        raw_emails=raw_emails or GcsRawEmailStore(settings, guard=_guard(breakers, "gcs")),
        parse_email=parse_email or _default_parser(),
        claude=claude,
        rules=rules,
        accounts=accounts or MongoAccountRepository(settings, guard=_guard(breakers, "mongodb")),
        mailer=mailer or SmtpMailer(settings),
        breakers=breakers,
        new_metrics=new_metrics or _default_metrics(),
        telemetry=telemetry or _SentryTelemetry(),
    )
    return Pipeline(deps)


def get_pipeline() -> Pipeline:
    """The instance's pipeline, built on first use (thread-safe)."""
    global _pipeline
    if _pipeline is None:
        with _lock:
            if _pipeline is None:
                from shared.metrics.collector import register_breaker_metrics

                register_breaker_metrics()  # breaker transitions become metrics rows
                _pipeline = bootstrap()
    return _pipeline


def install_pipeline(pipeline: Pipeline | None) -> None:
    """Make ``pipeline`` the instance's pipeline (tools and framework-level tests)."""
    global _pipeline
    with _lock:
        _pipeline = pipeline


def reset_pipeline() -> None:
    """Forget the cached pipeline (tests that change settings; shutdown)."""
    global _pipeline
    with _lock:
        pipeline, _pipeline = _pipeline, None
    if pipeline is not None:
        for adapter in (pipeline.deps.accounts, pipeline.deps.claude, pipeline.deps.mailer):
            close = getattr(adapter, "close", None)
            if callable(close):
                close()


__all__ = ["bootstrap", "get_pipeline", "install_pipeline", "reset_pipeline"]
