"""Delivery: the outbox of a campaign's messages, sending through SendGrid, and what comes back."""
