"""Shared by every domain: configuration, database, time, ids, phones, accounts, audit.

Never imports Flask: services here are plain functions that take a SQLAlchemy Session.
"""
