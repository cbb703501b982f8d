"""Settings read from the environment, in one place (see the README's configuration table)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    secret_key: str
    session_idle_minutes: int = 120
    session_max_hours: int = 12
    workers: int = 2
    port: int = 8000
    host: str = "127.0.0.1"
    public_url: str | None = None
    secure_cookies: bool = False
    trusted_proxies: int = 0
    log_level: str = "INFO"
    sms_gateway: str = "console"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_from: str = ""  # a sender id ("CPAS") or number, when no Messaging Service is used
    twilio_api_url: str = ""  # another base URL for Twilio's API (a proxy; the tests' fake)
    sms_segment_price: str = "0.08"  # euros per segment, for the cost estimates
    osrm_url: str | None = None  # an OSRM server for car travel times (docs/planning.md)
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        from core import testmode

        testmode.check(env)  # test-only settings refused outside TERRAIN_TESTING=1
        instance = Path(env.get("TERRAIN_INSTANCE_PATH") or PROJECT_ROOT / "instance").resolve()
        database_url = env.get("TERRAIN_DATABASE_URL") or f"sqlite:///{instance / 'terrain.db'}"
        public_url = (env.get("TERRAIN_PUBLIC_URL") or "").rstrip("/") or None
        return cls(
            instance_path=instance,
            database_url=database_url,
            secret_key=env.get("TERRAIN_SECRET_KEY") or _instance_secret(instance),
            session_idle_minutes=_int(env, "TERRAIN_SESSION_IDLE_MINUTES", 120),
            session_max_hours=_int(env, "TERRAIN_SESSION_MAX_HOURS", 12),
            workers=_int(env, "TERRAIN_WORKERS", 2),
            port=_int(env, "PORT", 8000),
            host=env.get("TERRAIN_HOST", "127.0.0.1"),
            public_url=public_url,
            secure_cookies=bool(public_url and public_url.startswith("https://")),
            trusted_proxies=_int(env, "TERRAIN_TRUSTED_PROXIES", 0),
            log_level=env.get("TERRAIN_LOG_LEVEL", "INFO").upper(),
            sms_gateway=env.get("TERRAIN_SMS_GATEWAY", "console"),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
            twilio_messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID", ""),
            twilio_from=env.get("TWILIO_FROM", ""),
            twilio_api_url=(env.get("TWILIO_API_URL") or "").rstrip("/"),
            sms_segment_price=env.get("TERRAIN_SMS_SEGMENT_PRICE", "0.08"),
            osrm_url=(env.get("TERRAIN_OSRM_URL") or "").rstrip("/") or None,
        )


def _instance_secret(instance: Path) -> str:
    """A secret kept in instance/ so that every worker and every restart share it."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        # O_EXCL: two workers starting at once never write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
