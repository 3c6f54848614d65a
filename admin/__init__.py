"""The staff web: login, home, staff management, SMS log, audit log."""
