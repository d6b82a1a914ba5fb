"""Events out: the outbox, webhook subscriptions and their delivery."""
