"""Mobile service rounds: dated tours of stops (minibus permanences, meals, rides).

Rooms as in docs/architecture.md: models.py, services.py, jobs.py, sync.py.
"""
