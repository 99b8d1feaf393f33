"""Email digests: composing, the outbox, SMTP delivery, subscription links."""
