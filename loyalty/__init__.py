"""The points engine: ledger, earning rules, tiers, expiry, rewards, returns."""
