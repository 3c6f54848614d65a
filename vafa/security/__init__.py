"""Security kernel: passwords, sessions (JWT cookies), one-time codes, rate limits,
CSRF, guards and response headers."""
