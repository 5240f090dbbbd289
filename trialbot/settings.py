"""Typed settings from the environment and `.env`.

Every setting is documented in `.env.example`. A wrong value must stop start-up with one
line naming the setting, and the bot token must never be echoed, so validation errors are
re-worded here instead of letting pydantic print the offending input.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_TOKEN_RE = re.compile(r"^\d{5,12}:[A-Za-z0-9_-]{30,64}$")
_SECRET_FIELDS = frozenset({"telegram_bot_token", "webhook_secret_token", "ncbi_api_key"})
_NCBI_KEY_RE = re.compile(r"^[A-Za-z0-9]{16,64}$")
_EMAIL_RE = re.compile(r"^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{1,63}$")
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line and safe to print."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    database_url: str = "sqlite:///trialbot.db"
    ctgov_enabled: bool = True
    ctgov_api_url: str = "https://clinicaltrials.gov/api/v2"
    ctis_enabled: bool = True
    ctis_api_url: str = "https://euclinicaltrials.eu/ctis-public-api"
    ctis_min_interval_seconds: float = Field(default=1.0, ge=0, le=60)
    isrctn_enabled: bool = True
    isrctn_api_url: str = "https://www.isrctn.com/api"
    isrctn_min_interval_seconds: float = Field(default=1.0, ge=0, le=60)
    ictrp_enabled: bool = False
    ictrp_export: str = ""
    """Path or http(s) URL of the WHO ICTRP export (CSV, or a .zip holding one CSV)."""
    pubmed_enabled: bool = True
    """Look up a trial's results and publications in PubMed (jobs/publications)."""
    pubmed_api_url: str = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
    ncbi_api_key: SecretStr | None = None
    """NCBI E-utilities key: 10 requests a second instead of 3. A secret: never logged."""
    ncbi_email: str | None = None
    """Who NCBI may contact about our traffic (sent with every E-utilities request)."""
    poll_interval_seconds: int = Field(default=21600, ge=60, le=7 * 86400)
    refresh_interval_seconds: int = Field(default=7 * 86400, ge=3600, le=90 * 86400)
    window_check_seconds: int = Field(default=3600, ge=1, le=86400)
    """How often to look for people who have just entered a trial's time window since the
    stroke (jobs/windows.py). An hour is plenty for a window counted in days."""
    publication_check_interval_seconds: int = Field(default=3600, ge=1, le=86400)
    """How often the publications job runs (jobs/publications/check.py); each run looks at the
    trials whose weekly look is due, at most PUBLICATION_CHECK_BATCH of them."""
    publication_check_batch: int = Field(default=50, ge=1, le=1000)
    admin_chat_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    http_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    http_max_retries: int = Field(default=5, ge=0, le=20)
    ctgov_min_interval_seconds: float = Field(default=1.0, ge=0, le=60)
    ctgov_page_size: int = Field(default=1000, ge=1, le=1000)
    refresh_batch_size: int = Field(default=100, ge=1, le=1000)
    operator_contact: str = Field(default="", max_length=200)
    health_host: str = Field(default="127.0.0.1", min_length=1, max_length=255)
    health_port: int = Field(default=8080, ge=0, le=65535)
    """0 turns the /healthz and /metrics endpoint off."""
    outbox_max_age_seconds: int = Field(default=3600, ge=60, le=7 * 86400)
    admin_alert_after_seconds: int = Field(default=3 * 3600, ge=300, le=7 * 86400)
    send_rate_per_second: float = Field(default=29.0, gt=0, le=30)
    """Messages a second over all chats, alerts and replies together (replies go first)."""
    telegram_paid_broadcast: bool = False
    """Alerts with allow_paid_broadcast, up to 1,000 a second; Telegram charges Stars for them."""
    webhook_url: str = ""
    webhook_secret_token: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    sender_lease_seconds: int = Field(default=120, ge=5, le=3600)
    trialbot_fake_today: str = Field(default="", max_length=500)
    """Test only: an ISO date, or a file holding one, that replaces today (trialbot/clock.py)."""

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value() == "":
            return None
        if not _TOKEN_RE.match(value.get_secret_value()):
            raise ValueError("does not look like a bot token from @BotFather (digits:letters)")
        return value

    @field_validator("ncbi_api_key")
    @classmethod
    def _ncbi_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value().strip() == "":
            return None
        if not _NCBI_KEY_RE.match(value.get_secret_value().strip()):
            raise ValueError("does not look like an NCBI API key (letters and digits)")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("ncbi_email")
    @classmethod
    def _ncbi_email_shape(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not _EMAIL_RE.match(value.strip()):
            raise ValueError("must be an e-mail address NCBI can write to, or empty")
        return value.strip()

    @field_validator(
        "telegram_api_base_url",
        "ctgov_api_url",
        "ctis_api_url",
        "isrctn_api_url",
        "pubmed_api_url",
    )
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if not value.endswith("/bot") else value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str) -> str:
        if value and not re.match(r"^https://[^\s/]+(/\S*)?$", value):
            raise ValueError("must be the public https:// URL Telegram should call, or empty")
        return value

    @field_validator("webhook_secret_token")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value() == "":
            return None
        if not _WEBHOOK_SECRET_RE.match(value.get_secret_value()):
            raise ValueError("must be 16 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _ictrp_needs_export(self) -> Settings:
        if self.ictrp_enabled and not self.ictrp_export.strip():
            raise ValueError("ICTRP_EXPORT must name the export (file or URL) to read when enabled")
        return self

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret_token is None:
            raise ValueError("WEBHOOK_SECRET_TOKEN must be set when WEBHOOK_URL is")
        return self

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        if not re.match(r"^(sqlite|postgresql|postgres)(\+\w+)?://", value):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("admin_chat_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            ids = []
            for part in parts:
                if not re.fullmatch(r"-?\d{1,19}", part):
                    raise ValueError(f"'{part}' is not a Telegram chat id (a whole number)")
                ids.append(int(part))
            return ids
        return value

    @field_validator("health_host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9.:_-]+", value.strip()):
            raise ValueError("must be a host name or an IP address, like 127.0.0.1")
        return value.strip()

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _fold_case(cls, value: object) -> object:
        return (
            value.upper()
            if isinstance(value, str) and value.lower() in {"debug", "info", "warning", "error"}
            else (value.lower() if isinstance(value, str) else value)
        )

    @cached_property
    def bot_token(self) -> str:
        """The token, or a SettingsError: only commands that talk to Telegram need it."""
        if self.telegram_bot_token is None:
            raise SettingsError("TELEGRAM_BOT_TOKEN is not set: ask @BotFather for a token")
        return self.telegram_bot_token.get_secret_value()


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise SettingsError with a single safe line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        reason = str(err["msg"]).removeprefix("Value error, ")
        # A cross-field rule has no location; its message starts with the setting it is about.
        name = str(err["loc"][0]).upper() if err["loc"] else reason.split(" ", 1)[0]
        if name.lower() in _SECRET_FIELDS or not err["loc"]:
            raise SettingsError(f"Invalid setting {name}: {reason}") from None
        shown = err.get("input")
        got = f" (got {shown!r})" if isinstance(shown, str | int | float) else ""
        raise SettingsError(f"Invalid setting {name}: {reason}{got}") from None
