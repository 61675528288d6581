"""DESIGN.md, "The parts": imports flow downward only. A wrong import must fail the test suite."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_cli_help_does_not_import_pyhanko():
    # DESIGN.md pitfall: importing pyHanko costs ~0.3 s; `kyso --help` must stay light.
    code = "import sys; from kyso.cli import cli; cli.main(['--help'], standalone_mode=False); " \
           "print('pyhanko' in sys.modules, 'flask' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False False"
