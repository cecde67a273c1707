"""The staff console (a Flask web UI over the staff operations) arrives in issue 14. The package exists now
so that its import contract in pyproject.toml (surveys, analysis and config.settings only) is real and
tested before the first page is written."""
