"""Email (SMTP): the channel for staff alerts and governance digests."""
