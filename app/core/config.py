"""Settings: the one place configuration is read (environment, prefix CLAIMDESK_)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Language = Literal["zh-Hans", "zh-Hant", "en"]


class Settings(BaseSettings):
    """Service configuration; every field is an environment variable `CLAIMDESK_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="CLAIMDESK_", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./var/claimdesk.db",
        description="SQLAlchemy URL: sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db.",
    )
    default_language: Language = "zh-Hans"
    jurisdiction: str = Field(default="cn", description="Deadline profile: cn, tw or uk.")
    holiday_schedule_file: Path | None = Field(
        default=None,
        description="JSON of newly announced holiday/working dates; firms up provisional years.",
    )
    internal_stage_days: dict[str, int] = Field(
        default_factory=dict,
        description='Overrides of internal stage targets in days, e.g. {"approval": 2}.',
    )
    priority_amount_threshold: Decimal = Field(
        default=Decimal("50000"), ge=0, description="Disputed amounts above this raise priority."
    )
    idempotency_ttl: timedelta = Field(
        default=timedelta(hours=24), description="How long an Idempotency-Key is remembered."
    )
    maintenance_interval_seconds: float = Field(
        default=600, gt=0, description="How often expired idempotency keys are purged."
    )
    search_index_interval_seconds: float = Field(
        default=0.25,
        gt=0,
        le=60,
        description="SQLite: how often new complaints' texts are moved into the trigram search "
        "index, in one batch (a search finds them before that too).",
    )
    log_level: str = "INFO"
    access_log: bool = True
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="PostgreSQL: how long a verified API key is trusted without a lookup while "
        "the replica listens for key changes (a revocation clears every replica's cache at once).",
    )
    rate_limit_per_minute: int = Field(
        default=12_000,
        ge=0,
        description="Requests one API key may make per minute, summed over every replica on "
        "PostgreSQL (0: unlimited). A key created with `--rate-limit N` has its own limit.",
    )
    db_pool_size: int = Field(default=10, ge=1)
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        default="NORMAL",
        description="WAL with NORMAL survives a process crash (kill -9) with every acknowledged "
        "write; FULL also survives power loss, at one fsync per commit on the event loop.",
    )
    sqlite_busy_timeout_ms: int = 5000
    sqlite_sort_threads: int = Field(
        default=2,
        ge=0,
        le=8,
        description="Helper threads SQLite's reader may use for one large sort (the reports' "
        "GROUP BY and window passes); 0 sorts on the querying thread alone.",
    )
    callback_delay: timedelta = Field(
        default=timedelta(days=3),
        description="Resolving a complaint schedules a callback follow-up this long after.",
    )
    dissatisfied_survey_reopens: bool = Field(
        default=True,
        description="A dissatisfied survey (score ≤ 2 or not resolved) reopens the complaint.",
    )
    classifier_review_threshold: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="A classification whose confidence is below this is marked needs_review.",
    )
    classifier_cache_dir: Path = Field(
        default=Path("var/models"),
        description="Where the model trained on the built-in data is cached between starts.",
    )
    classifier_eval_file: Path | None = Field(
        default=None,
        description="Labelled JSON Lines the retrain is judged on (default: the packaged "
        "development set).",
    )
    classifier_retrain_tolerance: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="A retrained model is refused when a macro-F1 figure falls more than this "
        "below the model in use.",
    )
    classifier_refresh_seconds: float = Field(
        default=30,
        gt=0,
        description="How often a replica checks the database for a model retrained elsewhere.",
    )
    worker_enabled: bool = Field(
        default=True,
        description="Run the delivery worker and deadline scanners inside `claimdesk serve` "
        "(each replica's share is claimed in the database; off when a separate "
        "`claimdesk worker` does it).",
    )
    worker_lanes: int = Field(
        default=4, ge=1, le=64, description="Subscriptions one worker delivers to at once."
    )
    worker_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often an idle worker looks for due deliveries (PostgreSQL also wakes "
        "it with NOTIFY at once).",
    )
    worker_lease_seconds: float = Field(
        default=15,
        gt=0,
        description="On SQLite one process runs the worker; it holds a lease this long.",
    )
    webhook_timeout_seconds: float = Field(
        default=10, gt=0, description="How long one delivery POST may take."
    )
    webhook_batch_size: int = Field(
        default=100, ge=1, le=1000, description="Deliveries sent per claimed subscription batch."
    )
    webhook_retry_base: timedelta = Field(
        default=timedelta(seconds=2), description="The wait after a first failed delivery."
    )
    webhook_retry_max_delay: timedelta = Field(
        default=timedelta(hours=1), description="The longest wait between two attempts."
    )
    webhook_retry_limit: timedelta = Field(
        default=timedelta(hours=24),
        description="A delivery still failing this long after its first attempt is dead.",
    )
    webhook_retention: timedelta = Field(
        default=timedelta(days=30),
        description="Delivered deliveries and events older than this are deleted.",
    )
    webhook_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="If set, subscription URLs must name one of these hosts (exact, or "
        "`.example.com` for a domain and its subdomains).",
    )
    scan_interval_seconds: float = Field(
        default=30,
        gt=0,
        description="How often the deadline scanners look for breaches and due follow-ups.",
    )
    sse_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often a progress stream checks the database when no NOTIFY wakes it "
        "(SQLite, or PostgreSQL's listener reconnecting).",
    )
    sse_max_seconds: float = Field(
        default=3600,
        gt=0,
        description="A progress stream ends after this long; clients reconnect with "
        "Last-Event-ID and lose nothing (spreads streams over replicas after a deploy).",
    )
    sse_heartbeat_seconds: float = Field(
        default=15, gt=0, description="Comment lines that keep idle progress streams open."
    )

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("database_url must use sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @property
    def is_sqlite(self) -> bool:
        """True when the configured store is SQLite."""
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
