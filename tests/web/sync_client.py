"""Ops posted to /api/sync through the test client: test_sync_api, test_outreach_place_notes."""

from __future__ import annotations


def post_ops(browser, ops, **kwargs):
    return browser.client.post(
        "/api/sync", json={"ops": ops}, headers={"X-CSRFToken": browser.token}, **kwargs
    )
