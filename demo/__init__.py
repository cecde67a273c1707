"""Demo data: eight weeks of a partnership stored through the real code paths (`chorus demo`)."""
