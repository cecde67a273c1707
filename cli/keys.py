"""`chorus keys ...`: make an encryption key, and rotate stored contact details to the current one (see
surveys/crypto.py and surveys/keys.py)."""
from __future__ import annotations

import click

from cli.common import store as _store


@click.group()
def keys() -> None:
    """Encryption at rest of phone numbers, chat ids and email addresses (CHORUS_ENCRYPTION_KEY)."""


@keys.command("generate")
def keys_generate() -> None:
    """Print a new key for CHORUS_ENCRYPTION_KEY (keep it safe: without it nothing encrypted can be read)."""
    from surveys.crypto import generate_key

    click.echo(generate_key())


@keys.command("rotate")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000),
              help="Values per transaction.")
@click.option("--max-batches", type=click.IntRange(1), default=None,
              help="Stop after this many batches (run again to carry on).")
def keys_rotate(batch, max_batches) -> None:
    """Encrypt every stored contact detail under CHORUS_ENCRYPTION_KEY: plain ones (turning encryption on)
    and those under a key in CHORUS_ENCRYPTION_OLD_KEYS. Safe to stop and run again."""
    from surveys.keys import count_values, require_key, rotate

    store = _store()
    require_key(store)
    total = count_values(store)
    with click.progressbar(length=total, label="rotating", file=click.get_text_stream("stderr")) as bar:
        done = rotate(store, batch=batch, max_batches=max_batches, progress=bar.update)
    changed = ", ".join(f"{name} {n}" for name, n in done.rotated.items())
    click.echo(f"re-encrypted: {changed}; already under the current key: {done.current}")
    if not done.finished:
        click.echo("stopped early (--max-batches): run chorus keys rotate again to finish")
    else:
        click.echo("every stored contact detail is under the current key: CHORUS_ENCRYPTION_OLD_KEYS can be removed")
