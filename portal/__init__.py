"""The customer's mobile web: login, home, profile."""
