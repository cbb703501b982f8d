"""Home care's web side: for now, the sentences of its field error codes (no pages yet)."""

from __future__ import annotations

from web.homecare import messages
from web.plugins import WebDomain

WEB = WebDomain(name="homecare", messages=messages.sentence)
