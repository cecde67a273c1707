"""The local channel: the terminal chat and what would be sent, printed (the default when no provider is set)."""
