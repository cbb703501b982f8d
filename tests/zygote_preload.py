"""Imported once by the zygote of tests.zygote: what every `terrain` command imports
(the app with every domain, gunicorn, the migrations, the demo data)."""

from __future__ import annotations

import gunicorn.app.base
import gunicorn.arbiter
import gunicorn.glogging
import gunicorn.http.wsgi
import gunicorn.workers.gthread  # noqa: F401

import core.migrations  # noqa: F401
import web.cli
import web.demo  # noqa: F401
from web import (  # noqa: F401 - what create_app() imports
    admin,
    api,
    assets,
    auth,
    cpas,
    create_app,
    db,
    errors,
    extensions,
    forms,
    health,
    i18n,
    main,
    nav,
    offline,
    permissions,
    plugins,
    pwa,
    rendering,
    request_limits,
    sync,
)
from web.domains import install

install()
