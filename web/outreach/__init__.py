"""Street outreach pages: the street day, the follow-up files, directory, settings, indicators."""
