"""Home care's web side: for now, the sentences of its field error codes."""
