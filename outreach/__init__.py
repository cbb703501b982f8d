"""Street outreach (maraudes): people met, encounters, places, needs, referrals.

Rooms as in docs/architecture.md: models.py, services.py, jobs.py, sync.py.
"""
