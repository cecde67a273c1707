"""The weekly user-voice digest: built once as a value (`model.Digest`), rendered as HTML email, printable
HTML, Markdown and JSON, archived, and delivered through the outbox."""
