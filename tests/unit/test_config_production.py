"""Settings production cannot run without (prod-config): each checked where it is used.

The processor needs ``ANTHROPIC_API_KEY`` (the extractors) and ``MONGODB_URI`` (the account
repository) in production; the webhook and the rollup need neither, so loading the settings
never requires them. Local and test keep their defaults.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.accounts.mongo import MongoAccountRepository
from shared.config import (
    ConfigError,
    Settings,
    load_settings,
    require_in_production,
    require_trimmed,
)
from shared.extraction.factory import build_extractors
from shared.processing.bootstrap import bootstrap
from tests.fakes import NoTelemetry, RecordingMetrics
from tests.processing_fakes import (
    FakeAccounts,
    FakeBreaker,
    FakeOutbox,
    FakeRawEmails,
    FakeStore,
    RecordingMailer,
    parsed_email,
)

# What the processor receives in production, apart from its secrets (terraform/functions.tf).
PRODUCTION = {
    "APP_ENV": "production",
    "INSTANCE_CONNECTION_NAME": "proj:europe-west1:db",
    "DB_USER": "processor@proj.iam",
    "MONGODB_DATABASE": "collections",
    "SMTP_HOST": "smtp-relay.example.net",
    "SMTP_FROM": "inbound@agency.example",
    "ADMIN_EMAIL": "collections@agency.example",
    "CIRCUIT_BREAKER_ALERT_EMAIL": "ops@agency.example",
}
KEY = "sk-ant-api03-placeholder-value"
URI = "mongodb+srv://svc:placeholder-pw@cluster0.example.net/collections"


def production(**secrets: str) -> Settings:
    return load_settings({**PRODUCTION, **secrets})


# --- loading the settings requires no processor-only setting -----------------------------------


def test_production_settings_load_without_processor_secrets() -> None:
    """The webhook (and the rollup) get neither secret: loading must not ask for them."""
    webhook = load_settings(
        {"APP_ENV": "production", "WEBHOOK_RAW_SECRET": "x" * 32, "RAW_EMAIL_BUCKET": "raw"}
    )
    assert webhook.app_env == "production"
    assert webhook.anthropic_api_key is None
    assert production().anthropic_api_key is None


# --- ANTHROPIC_API_KEY: the extractors --------------------------------------------------------


@pytest.mark.parametrize("environ", [{}, {"ANTHROPIC_API_KEY": ""}, {"ANTHROPIC_API_KEY": " \n"}])
def test_production_extractors_need_the_anthropic_key(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY") as info:
        build_extractors(production(**environ))
    assert "MONGODB_URI" not in str(info.value)


def test_production_extractors_with_the_key_mark_the_rules_fallback_degraded() -> None:
    claude, rules = build_extractors(production(ANTHROPIC_API_KEY=KEY))
    assert claude is not None and claude.name == "claude"
    assert rules.degraded is True
    assert claude._client is None  # still lazy


def test_a_key_with_a_trailing_newline_is_refused_without_echoing_it() -> None:
    for settings in (
        production(ANTHROPIC_API_KEY=KEY + "\n"),
        load_settings({"ANTHROPIC_API_KEY": KEY + " "}),
    ):
        with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY") as info:
            build_extractors(settings)
        assert KEY not in str(info.value) and "placeholder" not in str(info.value)


@pytest.mark.parametrize("app_env", ["local", "test"])
def test_local_and_test_still_run_rules_only_without_a_key(app_env: str) -> None:
    claude, rules = build_extractors(load_settings({"APP_ENV": app_env}))
    assert claude is None and rules.degraded is False


# --- MONGODB_URI: the account repository ------------------------------------------------------


@pytest.mark.parametrize(
    "environ",
    [
        {},  # unset: the local default 127.0.0.1 is not a production value
        {"MONGODB_URI": ""},
        {"MONGODB_URI": "   "},
        {"MONGODB_URI": "mongodb://127.0.0.1:27017"},  # the local default, set explicitly
    ],
)
def test_production_accounts_need_a_mongodb_uri(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="MONGODB_URI") as info:
        MongoAccountRepository(production(ANTHROPIC_API_KEY=KEY, **environ))
    assert "ANTHROPIC_API_KEY" not in str(info.value)


def test_production_accounts_with_a_uri_build_lazily() -> None:
    repository = MongoAccountRepository(production(MONGODB_URI=URI))
    assert repository._client is None  # no connection until the first lookup
    repository.close()


@pytest.mark.parametrize(
    "uri",
    [
        "https://svc:placeholder-pw@cluster0.example.net/collections",  # wrong scheme
        "svc:placeholder-pw@cluster0.example.net",  # no scheme
        URI + "\n",  # stored with its newline
        " " + URI,
    ],
)
@pytest.mark.parametrize("app_env", ["production", "local"])
def test_a_malformed_mongodb_uri_is_named_never_echoed(uri: str, app_env: str) -> None:
    with pytest.raises(ConfigError, match="MONGODB_URI") as info:
        MongoAccountRepository(
            load_settings({**PRODUCTION, "APP_ENV": app_env, "MONGODB_URI": uri})
        )
    message = str(info.value)
    assert "placeholder-pw" not in message and "cluster0" not in message and "svc" not in message


@pytest.mark.parametrize("app_env", ["local", "test"])
def test_local_and_test_keep_the_local_mongodb_default(app_env: str) -> None:
    settings = load_settings({"APP_ENV": app_env})
    assert settings.mongodb_uri.get_secret_value() == "mongodb://127.0.0.1:27017"
    MongoAccountRepository(settings).close()


# --- the helpers -------------------------------------------------------------------------------


def test_require_in_production_names_every_missing_setting_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        require_in_production(production(), "anthropic_api_key", "mongodb_uri")
    assert "ANTHROPIC_API_KEY" in str(info.value) and "MONGODB_URI" in str(info.value)
    require_in_production(
        production(ANTHROPIC_API_KEY=KEY, MONGODB_URI=URI), "anthropic_api_key", "mongodb_uri"
    )
    require_in_production(load_settings({}), "anthropic_api_key", "mongodb_uri")  # local: no-op


def test_require_trimmed_accepts_unset_and_clean_values() -> None:
    require_trimmed(load_settings({}), "anthropic_api_key", "mongodb_uri")
    with pytest.raises(ConfigError, match="SMTP_HOST"):
        require_trimmed(load_settings({"SMTP_HOST": "relay.example.net\n"}), "smtp_host")


# --- the processor's wiring checks them when the pipeline is built -----------------------------


def _bootstrap(settings: Settings, **adapters: Any) -> Any:
    store = FakeStore()
    return bootstrap(
        settings,
        store=store,
        outbox=FakeOutbox(store),
        raw_emails=FakeRawEmails(),
        parse_email=lambda raw: parsed_email(),
        mailer=RecordingMailer(),
        breakers=lambda name: FakeBreaker(),
        new_metrics=RecordingMetrics,
        telemetry=NoTelemetry(),
        **adapters,
    )


def test_production_pipeline_is_not_built_without_the_key() -> None:
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        _bootstrap(production(MONGODB_URI=URI), accounts=FakeAccounts([]))


def test_production_pipeline_is_not_built_without_the_mongodb_uri() -> None:
    with pytest.raises(ConfigError, match="MONGODB_URI"):
        _bootstrap(production(ANTHROPIC_API_KEY=KEY))


def test_production_pipeline_builds_with_both() -> None:
    pipeline = _bootstrap(production(ANTHROPIC_API_KEY=KEY, MONGODB_URI=URI))
    assert pipeline.deps.claude is not None
    assert pipeline.deps.rules.degraded is True
    pipeline.deps.accounts.close()


# --- mail: a relay and addresses of the deployment, not the local defaults ---------------------


@pytest.mark.parametrize("name", ["SMTP_HOST", "SMTP_FROM"])
def test_production_mailer_needs_a_relay_and_a_sender(name: str) -> None:
    from shared.mail import SmtpMailer

    settings = load_settings({k: v for k, v in PRODUCTION.items() if k != name})
    with pytest.raises(ConfigError, match=name):
        SmtpMailer(settings)
    SmtpMailer(production()).close()
    SmtpMailer(load_settings({})).close()  # local: the stack's relay


@pytest.mark.parametrize("name", ["ADMIN_EMAIL", "CIRCUIT_BREAKER_ALERT_EMAIL"])
def test_production_pipeline_needs_the_recipients_of_notifications_and_alerts(name: str) -> None:
    settings = load_settings(
        {**{k: v for k, v in PRODUCTION.items() if k != name}, "ANTHROPIC_API_KEY": KEY}
    )
    with pytest.raises(ConfigError, match=name):
        _bootstrap(settings, accounts=FakeAccounts([]))
