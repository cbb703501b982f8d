"""The seeded demo the benchmarks that go through the app start from."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.config import Settings
from core.db import make_engine, make_session_factory
from core.migrations import upgrade


def seeded_demo(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """The schema migrated on `url` and the demo seeded and committed; its engine and
    session factory."""
    from web.demo import seed_all

    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        seed_all(session)
        session.commit()
    return engine, sessions


def demo_app(folder: str, url: str, engine: Engine | None = None) -> Flask:
    """The app on `url`, its instance folder `folder` (and `engine` when given)."""
    from web import create_app

    settings = Settings.from_env(
        {
            "TERRAIN_INSTANCE_PATH": folder,
            "TERRAIN_DATABASE_URL": url,
            "TERRAIN_SECRET_KEY": "bench-secret",
        }
    )
    return create_app(settings) if engine is None else create_app(settings, TERRAIN_ENGINE=engine)
