"""One settings class: `TOCSIN_*` environment variables, then an optional TOML file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from channels.config import ChannelsConfig
from crisis.app.secret_files import (
    SecretFilesSource,
    check_private,
    holds_secret,
    without_file_twins,
)
from crisis.bulletin.render import BULLETIN_CHANNELS
from crisis.dispatch.dispatcher import DispatchTuning

DEFAULT_DATABASE_URL = "sqlite:///./tocsin.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TOCSIN_", env_nested_delimiter="__", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: SecretStr | None = None
    base_url: str = "http://127.0.0.1:8000"
    departement: str = "80"
    # Clocks (ES47, ES48, ES50)
    clock_deadline_minutes: int = Field(default=60, ge=1, le=24 * 60)
    clock_alert_thresholds: list[int] = Field(default_factory=lambda: [30, 45, 55, 60])
    cod_max_age_hours: int = Field(default=24, ge=1)
    # Duty roles (communication, validator, prefect) and how many must answer the page
    # before the cell may be declared operational.
    cell_min_staffing: dict[str, int] = Field(
        default_factory=lambda: {"communication": 1, "validator": 1}
    )
    # CIP roles (head, operator, technician, specialist) checked in before it may open (ES50).
    cip_min_staffing: dict[str, int] = Field(default_factory=lambda: {"head": 1, "operator": 2})
    # CIP written requests (docs/cip.md): the CIP's address, Tocsin's SMTP endpoint that
    # receives it (off without a port), the largest mail accepted, the response deadline.
    cip_address: str = Field(default="cip@prefecture.invalid", pattern=r"^[^@\s+]+@[^@\s]+$")
    cip_smtp_host: str = "127.0.0.1"
    cip_smtp_port: int | None = Field(default=None, ge=0, le=65535)
    cip_mail_max_bytes: int = Field(default=1_000_000, ge=10_000, le=50_000_000)
    cip_request_deadline_hours: float = Field(default=24.0, gt=0, le=24 * 14)
    page_escalation_minutes: int = Field(default=10, ge=1, le=240)
    clock_tick_seconds: float = Field(default=0.25, gt=0)
    clock_alert_late_seconds: float = Field(default=5.0, ge=0)
    # Exercises (ES49): a scheduled launch later than this is marked late; one missed by more
    # than the window (the service was down) is marked missed; an on-call test lasts this long.
    exercise_tick_seconds: float = Field(default=5.0, gt=0)
    exercise_late_seconds: float = Field(default=120.0, ge=0)
    exercise_missed_after_minutes: int = Field(default=360, ge=1)
    exercise_on_call_minutes: int = Field(default=60, ge=1, le=24 * 60)
    # Reachability tests: at most one per official per window; the officials' time to answer.
    exercise_reachability_window_days: int = Field(default=30, ge=1, le=366)
    exercise_reachability_answer_hours: int = Field(default=48, ge=1, le=14 * 24)
    # Cadence targets per kind of drill, in days (a missing kind keeps its ES49 default).
    exercise_cadence_days: dict[str, int] = Field(default_factory=dict)
    # Bulletins: channels offered, public accounts per channel (real, and the exercise
    # sandbox ones that replace them in an exercise), officials to phone after N minutes.
    bulletin_channels: list[str] = Field(default_factory=lambda: list(BULLETIN_CHANNELS))
    public_accounts: dict[str, str] = Field(default_factory=dict)
    # FR-Alert: the longest text Tocsin prepares for the portal (docs/public.md says why 615).
    fr_alert_max_chars: int = Field(default=615, ge=80, le=1395)
    # The prefecture's phone lines, by playbook placeholder name (`telephone_elus`,
    # `contact_presse`, `numero_unique`): the composer fills them into every template.
    contact_phones: dict[str, str] = Field(default_factory=dict)
    exercise_public_accounts: dict[str, str] = Field(default_factory=dict)
    to_call_after_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # Replies « OK » on Telegram and SMS (docs/replies.md): the secret each provider presents
    # on its webhook, for the real channel set and the exercise one (the set a reply comes
    # through decides which crises it may answer), and how long a message awaits an answer.
    inbound_telegram_secret: SecretStr | None = None
    inbound_sms_secret: SecretStr | None = None
    exercise_inbound_telegram_secret: SecretStr | None = None
    exercise_inbound_sms_secret: SecretStr | None = None
    reply_window_hours: int = Field(default=24, ge=1, le=7 * 24)
    # HTTP
    max_body_bytes: int = Field(default=1_000_000, ge=1_000)
    max_upload_bytes: int = Field(default=100_000_000, ge=1_000)
    metrics_public: bool = True
    cookie_secure: bool = False
    # Web sessions (server-side, docs/utilisateurs.md): an absolute lifetime of one watch,
    # and an idle timeout long enough for a quiet night between two events, short enough that
    # a workstation left open in the COD does not stay logged in until morning.
    session_max_age_seconds: int = Field(default=12 * 3600, ge=60)
    session_idle_minutes: int = Field(default=120, ge=1)
    # Logins: free attempts per (login, address), then a delay from the first one, doubling
    # per failure up to the ceiling; failures older than the window are forgotten.
    login_max_failures: int = Field(default=5, ge=1)
    login_first_delay_seconds: int = Field(default=30, ge=1)
    login_max_delay_seconds: int = Field(default=15 * 60, ge=1)
    login_window_seconds: int = Field(default=3600, ge=60)
    # Database connections, per process (docs/operations.md): up to 15, each kept open once
    # opened (a connection opened for a burst and closed after it was opened again at the next
    # one: on SQLite a thread and a file each time). Every web process and every worker has its
    # own pool, so on PostgreSQL (processes x (size + overflow)) + 1 per web process (the live
    # listener) must stay under the server's max_connections (100 by default).
    db_pool_size: int = Field(default=15, ge=1, le=100)
    db_max_overflow: int = Field(default=0, ge=0, le=100)
    # Background work
    scheduler_enabled: bool = True
    tick_seconds: float = Field(default=1.0, gt=0)
    # Several instances (docs/operations.md « Plusieurs instances, redémarrages »): each worker
    # beats every `heartbeat_seconds` (and renews the scheduler lease then); one silent for
    # `instance_dead_after_seconds` has its deliveries put back by the others; a leader that
    # has not renewed its lease for `leader_lease_seconds` loses the role.
    heartbeat_seconds: float = Field(default=2.0, gt=0, le=60)
    instance_dead_after_seconds: float = Field(default=6.0, gt=0, le=600)
    leader_lease_seconds: float = Field(default=8.0, gt=0, le=600)
    json_logs: bool = True
    log_level: str = "INFO"
    dsfr_dir: Path | None = None
    demo: bool = False
    # Signed checkpoints of the journal (README « Main courante »): the Ed25519 key (PEM or
    # base64, or a file holding it), the directory they go to, the hourly round.
    checkpoint_key: SecretStr | None = None
    checkpoint_key_file: Path | None = None
    checkpoint_dir: Path | None = None
    checkpoint_interval_minutes: int = Field(default=60, ge=1, le=60)
    checkpoint_tick_seconds: float = Field(default=30.0, gt=0)
    # Dispatch: the real channel set, the exercise set (configured apart, never a fallback of
    # each other), and the dispatcher's pace, lease and retry budget.
    channels: ChannelsConfig = Field(default_factory=ChannelsConfig)
    exercise_channels: ChannelsConfig = Field(default_factory=ChannelsConfig)
    dispatch: DispatchTuning = Field(default_factory=DispatchTuning)
    # The worker's own metrics (`tocsin worker --metrics-port`): when set, the web's
    # `/metrics` appends them, so one scrape sees the dispatcher too (`tocsin serve` sets it).
    worker_metrics_url: str | None = None

    @field_validator("clock_alert_thresholds")
    @classmethod
    def _sorted_thresholds(cls, value: list[int]) -> list[int]:
        if not value or any(v <= 0 for v in value):
            raise ValueError("les seuils d'alerte sont des minutes positives")
        return sorted(set(value))

    @model_validator(mode="after")
    def _private_key_file(self) -> Settings:
        """The signing key's file, when it exists, is the service's alone (else SecretFileError;
        a missing one is the demo's to create, or the checkpointer's to refuse)."""
        if self.checkpoint_key_file is not None and self.checkpoint_key_file.exists():
            check_private(self.checkpoint_key_file)
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        if isinstance(env_settings, EnvSettingsSource):
            env_settings.env_vars = without_file_twins(env_settings.env_vars, settings_cls)
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            env_settings,
            SecretFilesSource(settings_cls),
        ]
        config_file = os.environ.get("TOCSIN_CONFIG")
        if config_file:
            toml = TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file))
            if holds_secret(toml.toml_data, settings_cls):
                check_private(Path(config_file))
            sources.append(toml)
        return tuple(sources)

    def public_view(self) -> dict[str, Any]:
        """The settings as safe to show: every secret masked."""
        return self.model_dump(mode="json", exclude={"secret_key"}) | {
            "secret_key": "****" if self.secret_key else None
        }
