import math
from typing import Any

import pytest

from shared.config import ConfigError, get_settings, load_settings, reset_settings_cache


def test_defaults_work_on_the_local_stack() -> None:
    settings = load_settings({})
    assert settings.app_env == "local"
    assert settings.smtp_port == 587
    assert settings.circuit_breaker_fail_max == 5
    assert settings.circuit_breaker_reset_timeout == 60
    assert settings.metrics_retention_days == 30
    assert settings.webhook_max_body_bytes == 30 * 1024 * 1024


def test_operator_names_are_read_from_the_environment() -> None:
    settings = load_settings(
        {
            "CIRCUIT_BREAKER_FAIL_MAX": "7",
            "CIRCUIT_BREAKER_RESET_TIMEOUT": "90",
            "CIRCUIT_BREAKER_ALERT_EMAIL": "oncall@example.com",
            "SMTP_PORT": "2525",
            "ADMIN_EMAIL": "staff@example.com",
            "METRICS_RETENTION_DAYS": "45",
        }
    )
    assert settings.circuit_breaker_fail_max == 7
    assert settings.circuit_breaker_reset_timeout == 90
    assert settings.circuit_breaker_alert_email == "oncall@example.com"
    assert settings.smtp_port == 2525
    assert settings.admin_email == "staff@example.com"
    assert settings.metrics_retention_days == 45


def test_secrets_are_masked_in_repr_and_str() -> None:
    settings = load_settings(
        {
            "ANTHROPIC_API_KEY": "sk-ant-very-secret",
            "SMTP_PASSWORD": "hunter2-smtp",
            "SENTRY_DSN": "https://abc@sentry.example/1",
            "MONGODB_URI": "mongodb://user:pw-mongo@db",
            "WEBHOOK_RAW_SECRET": "raw-shared-secret",
        }
    )
    shown = repr(settings) + str(settings)
    for secret in ("sk-ant-very-secret", "hunter2-smtp", "abc@sentry", "pw-mongo", "raw-shared"):
        assert secret not in shown
    assert settings.anthropic_api_key is not None
    assert settings.anthropic_api_key.get_secret_value() == "sk-ant-very-secret"


def test_invalid_value_names_the_variable_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"SMTP_PORT": "not-a-port-secretish"})
    assert "SMTP_PORT" in str(info.value)
    assert "not-a-port-secretish" not in str(info.value)


def test_cloud_sql_needs_its_iam_user() -> None:
    with pytest.raises(ConfigError, match="DB_USER"):
        load_settings({"APP_ENV": "production", "INSTANCE_CONNECTION_NAME": "p:r:i"})
    ok = load_settings(
        {"APP_ENV": "production", "INSTANCE_CONNECTION_NAME": "p:r:i", "DB_USER": "svc@p.iam"}
    )
    assert ok.instance_connection_name == "p:r:i"


def test_the_engine_names_the_missing_database_setting() -> None:
    from shared.db.engine import create_db_engine

    with pytest.raises(ConfigError, match="DATABASE_URL or INSTANCE_CONNECTION_NAME"):
        create_db_engine(load_settings({"APP_ENV": "production"}))


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ConfigError, match="DECISION_NOTIFY_THRESHOLD"):
        load_settings({"DECISION_AUTO_UPDATE_THRESHOLD": "0.5", "DECISION_NOTIFY_THRESHOLD": "0.8"})


def test_get_settings_reads_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_PORT", "2600")
    reset_settings_cache()
    first = get_settings()
    monkeypatch.setenv("SMTP_PORT", "2700")
    assert get_settings() is first
    assert first.smtp_port == 2600
    reset_settings_cache()
    assert get_settings().smtp_port == 2700


def test_the_default_model_is_not_deprecated() -> None:
    from anthropic._data import DEPRECATED_MODELS

    assert load_settings({}).claude_model not in DEPRECATED_MODELS


# Cold start (benchmark B6): settings are read without pydantic; they must read exactly as the
# pydantic-settings model did. The reference is a pydantic model built from the same fields.
GRID = (
    "",
    " 7",
    "7 ",
    "7",
    "7.0",
    "7.5",
    "1_000",
    "+3",
    "-1",
    "0",
    "1",
    "0.5",
    "1e3",
    "nan",
    "inf",
    "0x10",
    "\u0663",
    "true",
    "False",
    "YES",
    "off",
    "t",
    "2",
    " true",
    "local",
    "production",
    "Production",
    "PRIVATE",
    "PSC",
    "abc",
    "65535",
    "65536",
    "50",
    "51",
    "256",
)


def _reference_model() -> Any:
    import dataclasses
    import types
    import typing

    import pydantic

    from shared.config import SecretStr, Settings

    def pydantic_type(annotation: Any) -> Any:
        if annotation is SecretStr:
            return pydantic.SecretStr
        if isinstance(annotation, types.UnionType):
            return typing.Optional[pydantic_type(typing.get_args(annotation)[0])]  # noqa: UP045
        return annotation

    fields = {}
    for spec in dataclasses.fields(Settings):
        bounds = spec.metadata.get("bounds")
        limits = dataclasses.asdict(bounds) if bounds else {}
        if spec.type in (float, float | None, "float", "float | None"):
            limits["allow_inf_nan"] = False  # a setting is a finite number (no "inf" timeout)
        fields[spec.name] = (pydantic_type(spec.type), pydantic.Field(default=None, **limits))
    return pydantic.create_model("Reference", **fields)


def _plain(value: Any) -> Any:
    if hasattr(value, "get_secret_value"):
        return ("secret", value.get_secret_value())
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return (type(value).__name__, value)


def test_every_setting_reads_strings_as_pydantic_did() -> None:
    import pydantic

    reference = _reference_model()
    compared = 0
    for name in reference.model_fields:
        for raw in GRID:
            try:
                expected: Any = ("ok", _plain(getattr(reference(**{name: raw}), name)))
            except pydantic.ValidationError as exc:
                expected = ("error", exc.errors()[0]["msg"])
            try:
                actual: Any = ("ok", _plain(getattr(load_settings({name.upper(): raw}), name)))
            except ConfigError as exc:
                prefix = f"invalid configuration: {name.upper()}: "
                if not str(exc).startswith(prefix):  # a rule across settings (thresholds, timeouts)
                    rules = ("exceed", "DB_USER", "MATCH_REFERENCE", "LOG_LEVEL", "email address")
                    assert any(rule in str(exc) for rule in rules)
                    continue
                actual = ("error", str(exc).removeprefix(prefix))
            assert actual == expected, (name, raw)
            compared += 1
    assert compared >= 0.9 * len(reference.model_fields) * len(GRID)  # few cross-rule skips


def test_reading_settings_does_not_import_pydantic() -> None:
    import subprocess
    import sys

    script = (
        "import sys; from shared.config import get_settings; get_settings(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0].startswith('pydantic')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_an_unknown_log_level_stops_the_start_not_every_request() -> None:
    with pytest.raises(ConfigError, match="LOG_LEVEL must be one of"):
        load_settings({"LOG_LEVEL": "verbose"})
    for accepted in ("warning", "WARN", "fatal", "NOTSET"):
        assert load_settings({"LOG_LEVEL": accepted}).log_level == accepted


def test_the_outbox_lease_must_leave_room_for_a_message_and_its_record() -> None:
    with pytest.raises(ConfigError, match="NOTIFICATION_SEND_LEASE_SECONDS must exceed"):
        load_settings({"SMTP_TIMEOUT_SECONDS": "120"})
    with pytest.raises(ConfigError, match="NOTIFICATION_SEND_LEASE_SECONDS must exceed"):
        load_settings({"NOTIFICATION_SEND_LEASE_SECONDS": "20"})
    assert load_settings({"SMTP_TIMEOUT_SECONDS": "60"}).smtp_timeout_seconds == 60


def test_the_database_url_password_is_not_in_the_repr() -> None:
    settings = load_settings({"DATABASE_URL": "postgresql+pg8000://app:hunter2@db/emails"})
    assert "hunter2" not in repr(settings)
    assert settings.database_url == "postgresql+pg8000://app:hunter2@db/emails"


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"SMTP_FROM": "Ops Team"}, "SMTP_FROM must be one email address"),
        ({"SMTP_FROM": "a@x.org, b@x.org"}, "SMTP_FROM must be one email address"),
        ({"ADMIN_EMAIL": "staff@x.org, nobody"}, "ADMIN_EMAIL must be one or more"),
        ({"ADMIN_EMAIL": "staff@x.org\r\nBcc: z@e.org"}, "ADMIN_EMAIL must be one or more"),
        ({"CIRCUIT_BREAKER_ALERT_EMAIL": " "}, "CIRCUIT_BREAKER_ALERT_EMAIL must be one or more"),
    ],
)
def test_mail_settings_that_are_no_addresses_stop_the_start(
    env: dict[str, str], problem: str
) -> None:
    """Otherwise a wrong value shows only as mail the server refuses, and nobody is warned."""
    with pytest.raises(ConfigError, match=problem) as caught:
        load_settings(env)
    assert "nobody" not in str(caught.value) and "Ops Team" not in str(caught.value)


def test_mail_settings_take_a_name_and_several_recipients() -> None:
    settings = load_settings(
        {"SMTP_FROM": "Inbound <in@x.org>", "ADMIN_EMAIL": "a@x.org, Staff <b@y.org>"}
    )
    assert settings.smtp_from == "Inbound <in@x.org>"
