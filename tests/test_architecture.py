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
    (tmp_path / "surveys" / "leak.py").write_text("import sms\nimport config.cli\n")
    result = subprocess.run([LINT, "--no-cache"], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0
    assert "surveys.leak -> sms" in result.stdout
