"""Installed (wheel) and editable installs both import the package with envs/ and agents/ mapped in."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = ("import studygym, studygym.envs.core, studygym.agents.policy, studygym.envs.learners.fsrs; "
         "env, p = studygym.make('Review-v0'); print(studygym.__file__)")


def test_wheel_installs_and_imports(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(ROOT),
                    "-w", str(tmp_path)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("studygym-*.whl"))
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    # run from an empty directory so the source tree is not on sys.path
    code = f"import sys; sys.path.insert(0, {str(target)!r}); {PROBE}"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, capture_output=True, text=True)
    assert str(target) in out.stdout


def test_editable_install_imports_from_source(tmp_path):
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, check=True, capture_output=True, text=True)
    assert str(ROOT / "studygym") in out.stdout
