"""Legal and internal time limits: jurisdiction profiles, the working-day calendar, day counting."""
