"""Home care pages: the coordinator's planning board (board.py)."""
