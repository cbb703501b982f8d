"""Mobile service rounds: the minibus's permanences, meal rounds and rides."""
