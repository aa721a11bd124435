"""Network accounts: their encrypted settings, polling, webhooks and health."""
