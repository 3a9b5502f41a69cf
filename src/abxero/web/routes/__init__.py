"""The page groups: signing in, the setup wizard, and the manage page."""
