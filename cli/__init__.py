"""The `chorus` command line: a thin presenter over the staff operations in `surveys/` and `analysis/`.

Each area has its module (cli/surveys.py, cli/waves.py, ...): a command parses its arguments, calls one
staff operation and prints its typed result. No SQL, no business rule and no default of its own lives here
(tests/test_architecture.py checks that no module of this package imports SQLAlchemy).
"""
from __future__ import annotations

import click


class _ChorusGroup(click.Group):
    """Every command runs inside this: a configuration or database problem (not set up, unreachable, a bad
    setting) becomes one line and exit status 1 instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - explained, or re-raised as it is
            from config.startup import explain

            line = explain(exc)
            if line is None:
                raise
            raise click.ClickException(line) from None


@click.group(cls=_ChorusGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Chorus: scheduled feedback conversations by SMS and Telegram, and a weekly user-voice digest."""
    from config.logs import configure_logging

    configure_logging()


# ---- db --------------------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """The database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest version."""
    from cli.common import store as _store
    from config.migrate import upgrade

    store = _store()
    upgrade(store.sql_engine)
    click.echo(f"database is up to date ({store.dialect})")


def _register() -> None:
    from cli import (actions, analysis, chat, demo, digest, export, flags, keys, orgs, participants, retention,
                     service, surveys, themes, users, waves)

    for command in (surveys.surveys, orgs.orgs, participants.participants, chat.chat, export.export, waves.waves,
                    service.worker, service.clock, service.bot, service.run, analysis.analysis, themes.themes,
                    flags.flags, digest.digest, demo.demo, users.users, actions.actions, retention.retention,
                    keys.keys):
        main.add_command(command)


_register()


if __name__ == "__main__":
    main()
