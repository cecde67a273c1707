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


# ---- one path to the database per thing (issue 13) ---------------------------------------------------
def outbound_rows_built(folders: list[Path], root: Path) -> list[str]:
    """Every place in the modules under `folders` that spells out a message row with direction 'out'
    (`direction="out"` as a keyword, or a dict key "direction" with the value "out"), as 'path:line'."""
    import ast

    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                hits = []
                if isinstance(node, ast.Call):
                    hits = [k.value for k in node.keywords if k.arg == "direction"]
                elif isinstance(node, ast.Dict):
                    hits = [v for k, v in zip(node.keys, node.values)
                            if isinstance(k, ast.Constant) and k.value == "direction"]
                if any(isinstance(v, ast.Constant) and v.value == "out" for v in hits):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_an_outbound_message_row_is_built_in_one_place():
    """Replies, invitations, reminders, alerts, a message sent at once and anything queued: every
    outbound row comes from surveys.outgoing.outbound_row, so a new column is filled everywhere."""
    found = outbound_rows_built([ROOT / name for name in PACKAGES], ROOT)
    assert [where.partition(":")[0] for where in found] == ["surveys/outgoing.py"], found


def test_an_outbound_row_built_elsewhere_is_caught(tmp_path):
    shutil.copytree(ROOT / "surveys", tmp_path / "surveys", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "surveys" / "leak.py").write_text(
        "def rows(m, conn, insert):\n"
        "    conn.execute(insert(m.Message).values(channel='sms', direction='out', text='hi'))\n"
        "    return {'channel': 'sms', 'direction': 'out'}\n")
    found = set(outbound_rows_built([tmp_path / "surveys"], tmp_path))
    assert found - set(outbound_rows_built([ROOT / "surveys"], ROOT)) == {"surveys/leak.py:2", "surveys/leak.py:3"}


def private_imports(folder: Path, package: str) -> list[str]:
    """Every use, in a module of `package` (under `folder`), of another of its modules' private names:
    `from package.x import _name`, or `x._name` where x was imported from the package. As 'path:line name'."""
    import ast

    found = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        modules = set()  # local names bound to modules of the package
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and \
                    (node.module == package or node.module.startswith(package + ".")):
                for alias in node.names:
                    if alias.name.startswith("_"):
                        found.append(f"{path.relative_to(folder)}:{node.lineno} {alias.name}")
                    elif node.module == package:
                        modules.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith(package + ".") and alias.asname:
                        modules.add(alias.asname)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules \
                    and node.attr.startswith("_") and not node.attr.startswith("__"):
                found.append(f"{path.relative_to(folder)}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_no_core_module_uses_another_ones_private_names():
    """A name with a leading underscore is its module's own business; what two modules share lives, public,
    in the module that owns it (surveys.contacts, surveys.conversations, surveys.outgoing)."""
    assert private_imports(ROOT / "surveys", "surveys") == []


def test_a_private_import_planted_in_the_core_is_caught(tmp_path):
    shutil.copytree(ROOT / "surveys", tmp_path / "surveys", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "surveys" / "leak.py").write_text(
        "from surveys.service import _handle, handle_inbound\nfrom surveys import outbox\n\n\n"
        "def f():\n    return _handle, handle_inbound, outbox._Lane\n")
    assert private_imports(tmp_path / "surveys", "surveys") == ["leak.py:1 _handle", "leak.py:6 outbox._Lane"]
