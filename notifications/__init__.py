"""Notifications: contacts, consent per channel, templates, SMS gateways, outbox, replies.

Rooms as in docs/architecture.md: models.py, services.py, jobs.py, sync.py.
"""
