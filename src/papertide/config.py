"""Every setting papertide reads, in one place: `PAPERTIDE_*` environment variables and the
command line's overrides, read once into one validated `Settings` object.

No other module reads the environment. The README's table of variables is checked against
`Settings.model_fields` by a test, so the two cannot drift apart.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_cache_dir, user_data_dir
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(Exception):
    """A setting has a value papertide cannot use; the message names it and says why."""


class Settings(BaseSettings):
    """papertide's configuration. Each field is read from `PAPERTIDE_<FIELD NAME>`."""

    model_config = SettingsConfigDict(
        env_prefix="PAPERTIDE_", extra="ignore", frozen=True, validate_default=True
    )

    # -- storage --------------------------------------------------------------------------------
    db: str = Field(
        default_factory=lambda: str(Path(user_data_dir("papertide")) / "papertide.db"),
        description="database URL (`sqlite:///path.db`, `postgresql://USER@HOST/NAME`) or a "
        "bare SQLite file path",
    )
    index_dir: Path | None = Field(
        None,
        description="search indexes (default: beside an SQLite file, `papertide.index/`; for "
        "PostgreSQL, `indexes/HOST-PORT-DATABASE/` in the data dir)",
    )
    models: Path = Field(
        default_factory=lambda: Path(user_cache_dir("papertide")) / "models",
        description="where the embedding model is prepared",
    )
    threads: int = Field(1, ge=1, le=256, description="onnxruntime threads per embedding process")
    index_threads: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        le=256,
        description="onnxruntime threads that embed papers in an index run (queries use "
        "`PAPERTIDE_THREADS`; bench/embed.py: 1.87x with 2 threads on 2 cores)",
    )
    embed_workers: int = Field(
        1,
        ge=1,
        le=64,
        description="processes that embed papers in an index run (each loads the model)",
    )
    ray_address: str | None = Field(
        None,
        description="embed on this Ray cluster in index runs (`auto`, `ray://HEAD:10001`; "
        "`index --ray` overrides; docs/ray.md)",
    )
    ray_cpus: float = Field(1.0, gt=0, description="CPUs (onnxruntime threads) per Ray actor")
    ray_gpus: float = Field(
        0.0, ge=0, description="GPUs per Ray actor (above 0: onnxruntime-gpu's CUDA provider)"
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "warning",
        description="`debug`, `info` (adds the web server's access log), `warning`, `error`",
    )

    # -- web ------------------------------------------------------------------------------------
    request_threads: int = Field(
        1,
        ge=1,
        le=256,
        description="request threads per web worker (more only contend for the GIL)",
    )
    refresh_seconds: float = Field(
        2.0, ge=0, description="how often a web worker looks for a newer index generation"
    )
    secure_cookies: bool | None = Field(
        None, description="force the Secure cookie flag on (1) or off (0); default: on over HTTPS"
    )
    forwarded_allow_ips: str | None = Field(
        None,
        description="reverse proxies (comma-separated addresses or networks) whose "
        "`X-Forwarded-For`/`-Proto` are believed; default: none, the client is the socket's peer",
    )

    # -- mail -----------------------------------------------------------------------------------
    smtp_host: str = Field("127.0.0.1", description="SMTP server")
    smtp_port: int | None = Field(
        None, ge=1, le=65535, description="SMTP port (default 25 / 587 / 465 by security)"
    )
    smtp_security: Literal["none", "starttls", "ssl"] = Field(
        "none", description="`none`, `starttls` or `ssl`"
    )
    smtp_user: str | None = Field(None, description="SMTP login name")
    smtp_password: str | None = Field(None, description="SMTP password")
    smtp_timeout: float = Field(30.0, gt=0, description="seconds before an SMTP call gives up")
    smtp_ca_file: str | None = Field(
        None, description="a private CA's certificate to trust (certificates are always verified)"
    )
    smtp_retry_seconds: float = Field(
        60.0, ge=0, description="first backoff after a failed message (doubles, up to 6 h)"
    )
    smtp_lease_seconds: float = Field(
        120.0, gt=0, description="how long a sender holds a message it is sending"
    )
    mail_from: str = Field("papertide <papertide@localhost>", description="From: of every message")
    base_url: str = Field("http://127.0.0.1:8000", description="where links in messages point")

    # -- sources --------------------------------------------------------------------------------
    # None: the source's own endpoint (each source module names it)
    arxiv_api_url: str | None = Field(None, description="arXiv API endpoint (a mirror)")
    oai_url: str | None = Field(None, description="arXiv OAI-PMH endpoint (a mirror)")
    hf_api_url: str | None = Field(None, description="Hugging Face daily papers endpoint")
    http_min_interval: float | None = Field(
        None, ge=0, description="seconds between requests (default: what each source asks for)"
    )
    http_backoff: float = Field(2.0, ge=0, description="base retry backoff in seconds")

    # -- discussions ----------------------------------------------------------------------------
    comments_per_hour: int = Field(
        20, ge=1, le=10_000, description="comments (replies included) a member may post per hour"
    )

    # -- submissions ----------------------------------------------------------------------------
    submission_max_age_days: int = Field(
        14,
        ge=0,
        le=36500,
        description="members may submit papers published at most this many days ago",
    )
    submission_daily_quota: int = Field(
        5, ge=0, le=10_000, description="papers one member may submit per day (UTC)"
    )
    submission_fetch_timeout: float = Field(
        10.0,
        gt=0,
        le=120,
        description="seconds a submission waits for arXiv when the paper is not stored yet",
    )
    default_view: Literal["all", "curated"] = Field(
        "all",
        description="what the daily/weekly/monthly lists, `/api/daily_papers` and the daily "
        "feed show: `all` new papers, or the `curated` ones members (and Hugging Face) submitted",
    )

    # -- community ------------------------------------------------------------------------------
    claim_email_domains: str | None = Field(
        None,
        description="comma-separated mail domains (`example.edu,lab.example.org`): a member's "
        "authorship claim is approved at once when one of their confirmed digest addresses is "
        "at one of them or a subdomain; default: every claim waits for an admin",
    )

    # -- keywords and summaries (computed by `papertide index`) ---------------------------------
    keywords_method: Literal["tfidf", "embedding"] = Field(
        "tfidf",
        description="how keywords are picked: `tfidf` (against the corpus) or `embedding` "
        "(KeyBERT-style, about 100x slower; bench/keywords.py)",
    )
    summary_llm_url: str | None = Field(
        None,
        description="an OpenAI-compatible API (`http://HOST:PORT/v1`) that writes one-line "
        "summaries; default: the abstract's most representative sentence",
    )
    summary_llm_model: str | None = Field(None, description="the model the summary LLM runs")
    summary_llm_api_key: str | None = Field(None, description="the summary LLM's API key")
    summary_llm_timeout: float = Field(
        30.0, gt=0, le=600, description="seconds before a summary request gives up"
    )

    @field_validator("summary_llm_url")
    @classmethod
    def _llm_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value or None

    @model_validator(mode="after")
    def _llm_needs_a_model(self) -> Settings:
        if self.summary_llm_url and not self.summary_llm_model:
            raise ValueError("PAPERTIDE_SUMMARY_LLM_URL needs PAPERTIDE_SUMMARY_LLM_MODEL too")
        return self

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("claim_email_domains")
    @classmethod
    def _mail_domains(cls, value: str | None) -> str | None:
        if value is None:
            return None
        domains = [d.strip().lower().lstrip("@") for d in value.split(",") if d.strip()]
        for domain in domains:
            if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", domain):
                raise ValueError(f"{domain!r} is not a mail domain")
        return ",".join(domains) or None

    @property
    def claim_domains(self) -> tuple[str, ...]:
        """PAPERTIDE_CLAIM_EMAIL_DOMAINS as a tuple (empty: admins decide every claim)."""
        return tuple(self.claim_email_domains.split(",")) if self.claim_email_domains else ()

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_addresses(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return checked_proxy_addresses(value)

    @field_validator("db")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is empty")
        if "://" not in value:  # a bare file path is shorthand for an SQLite database
            try:
                return f"sqlite:///{Path(value).expanduser().resolve()}"
            except (RuntimeError, OSError) as exc:  # ~nobody's home, a loop of symlinks
                raise ValueError(f"cannot use the path {value!r}: {exc}") from exc
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case_level(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Settings from the environment, with OVERRIDES (command-line options; None means
        'not given') on top; a clear SettingsError instead of pydantic's report."""
        given = {name: value for name, value in overrides.items() if value is not None}
        try:
            return cls(**given)
        except ValidationError as exc:
            problems = "; ".join(
                (f"PAPERTIDE_{'_'.join(map(str, e['loc'])).upper()}: " if e["loc"] else "")
                + e["msg"].removeprefix("Value error, ")  # pydantic's wording, not ours
                for e in exc.errors()
            )
            raise SettingsError(problems) from exc

    @property
    def database_url(self) -> str:
        return self.db

    @property
    def smtp_port_or_default(self) -> int:
        return self.smtp_port or {"none": 25, "starttls": 587, "ssl": 465}[self.smtp_security]


def checked_proxy_addresses(value: str) -> str | None:
    """VALUE, a comma-separated list of IP addresses or networks (or `*`, every client), with
    blanks removed; None when it names none. ValueError for anything else."""
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    for entry in entries:
        if entry != "*":
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network") from None
    return ",".join(entries) or None


_DEFAULT_SHOWN = {
    "db": "`~/.local/share/papertide/papertide.db`",
    "index_threads": "every core",
    "models": "`~/.cache/papertide/models`",
}


def environment_table() -> str:
    """The README's table of variables, generated from Settings (a test compares the two)."""
    rows = ["| variable | meaning | default |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        plain = "-" if field.default is None else f"`{field.default}`"
        default = _DEFAULT_SHOWN.get(name, plain)
        rows.append(f"| `PAPERTIDE_{name.upper()}` | {field.description} | {default} |")
    return "\n".join(rows)
