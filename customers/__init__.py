"""Customer records: profile, consent."""
