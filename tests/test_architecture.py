"""The import rules from the guide (pyproject.toml [tool.importlinter]) hold, and each contract can fail."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = str(Path(sys.executable).parent / "lint-imports")
# How many contracts pyproject.toml declares: each must be reported kept (and exactly one broken when planted).
CONTRACTS = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text().count("[[tool.importlinter.contracts]]")
PACKAGES = ("surveys", "bot", "sms", "mail", "local", "analysis", "console", "config", "cli", "demo", "tools")


def test_import_contracts_hold():
    result = subprocess.run([LINT, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {CONTRACTS} kept, 0 broken." in result.stdout


# One planted violation per rule: (the module planted, what it imports, the contract that must catch it,
# the import line import-linter reports).
PLANTED = [
    ("surveys/leak.py", "import sms\nimport config.wiring\n",
     "The core (surveys) depends on nothing outward but config.settings", "surveys.leak -> sms"),
    ("mail/leak.py", "import sms.channel\n", "Channel adapters do not import each other", "mail.leak -> sms.channel"),
    ("local/leak.py", "import bot.render\n", "Channel adapters do not import each other", "local.leak -> bot.render"),
    ("sms/leak.py", "import config.logs\n", "Adapters and analysis import only the core and config.settings",
     "sms.leak -> config.logs"),
    ("mail/digest.py", "import analysis.digest.mime\n", "Channels know the core, not the analysis",
     "mail.digest -> analysis.digest.mime"),
    ("analysis/leak.py", "import bot.links\n", "Analysis knows no channel and no web framework", "analysis.leak -> bot.links"),
    ("analysis/web.py", "import flask\n", "Analysis knows no channel and no web framework", "analysis.web -> flask"),
    ("analysis/send.py", "import mail.channel\n", "Analysis knows no channel and no web framework",
     "analysis.send -> mail.channel"),
    ("console/leak.py", "import config.wiring\n", "The console uses surveys, analysis and config.settings only",
     "console.leak -> config.wiring"),
    ("console/tg.py", "import sms.inbound\n", "The console uses surveys, analysis and config.settings only",
     "console.tg -> sms.inbound"),
]


@pytest.mark.parametrize("path, source, contract, line", PLANTED, ids=[p[0] for p in PLANTED])
def test_a_forbidden_import_breaks_its_contract(tmp_path, path, source, contract, line):
    """A check that cannot fail proves nothing: plant a bad import in a copy and see the right rule catch it."""
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "examples", "data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / path).write_text(source)
    result = subprocess.run([LINT, "--no-cache"], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0
    assert f"{contract} BROKEN" in result.stdout, result.stdout
    assert f"Contracts: {CONTRACTS - 1} kept, 1 broken." in result.stdout, result.stdout
    assert line in result.stdout, result.stdout


def test_the_participant_channels_are_named_in_one_place():
    """Survey files, imports, enrolment and `chorus participants add` all check against
    surveys.channels.PARTICIPANT_CHANNELS; a second spelled-out list would drift from it."""
    import ast

    from surveys.channels import PARTICIPANT_CHANNELS

    lists = []
    for name in PACKAGES:
        for path in (ROOT / name).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and \
                        {getattr(e, "value", None) for e in node.elts} >= set(PARTICIPANT_CHANNELS):
                    lists.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert [where.partition(":")[0] for where in lists] == ["surveys/channels.py"], lists


def sqlalchemy_imports(folder: Path) -> list[str]:
    """Every import of SQLAlchemy (top-level or inside a function) in the modules under `folder`, as
    'path:line module'. The command line is a presenter: its queries belong to the staff operations."""
    import ast

    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found += [f"{path.relative_to(folder)}:{node.lineno} {name}" for name in names
                      if name == "sqlalchemy" or name.startswith("sqlalchemy.")]
    return found


def test_the_command_line_imports_no_sqlalchemy():
    assert (ROOT / "cli" / "__init__.py").is_file()
    assert sqlalchemy_imports(ROOT / "cli") == []


def test_a_query_planted_in_the_command_line_is_caught(tmp_path):
    """The same checker on a copy of cli/ with one command that reaches for the database itself."""
    import shutil

    shutil.copytree(ROOT / "cli", tmp_path / "cli", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "cli" / "leak.py").write_text("import click\n\n\ndef waves():\n    from sqlalchemy import select\n"
                                              "    import sqlalchemy.orm as orm\n    return select, orm\n")
    assert sqlalchemy_imports(tmp_path / "cli") == ["leak.py:5 sqlalchemy", "leak.py:6 sqlalchemy.orm"]
