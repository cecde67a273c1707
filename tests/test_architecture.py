"""The import rules from the guide (pyproject.toml [tool.importlinter]) hold, and the contract can fail."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = str(Path(sys.executable).parent / "lint-imports")


def test_import_contracts_hold():
    result = subprocess.run([LINT, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_a_forbidden_import_breaks_the_contract(tmp_path):
    """A check that cannot fail proves nothing: plant a bad import in a copy and see it caught."""
    import shutil

    for name in ("surveys", "bot", "sms", "analysis", "config", "cli", "demo", "tools"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "examples"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "surveys" / "leak.py").write_text("import sms\nimport config.wiring\n")
    result = subprocess.run([LINT, "--no-cache"], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0
    assert "surveys.leak -> sms" in result.stdout


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
