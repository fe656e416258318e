"""The README's quick start runs as written (against a test server instead of :50051)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def quick_start(readme_path: Path = Path(__file__).resolve().parents[1] / "README.md") -> str:
    readme = readme_path.read_text()
    found = re.search(r"```python\n(.*?)```", readme, re.S)
    assert found is not None, "the README has a python code block"
    return found.group(1)


def test_readme_quick_start_type_checks():
    # The generated .pyi stubs are part of the package: a caller's code type-checks against them.
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "-c", quick_start()],
        capture_output=True, text=True, timeout=240,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_readme_quick_start_books_a_slot(server):
    code = quick_start()
    assert len(code.strip().splitlines()) <= 10
    code = code.replace('"127.0.0.1:50051"', repr(server.target))
    env = dict(os.environ, AGENT_KEY=server.demo["agent_key"])
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("booked ")


def test_the_repository_readme_first_call_prints_the_demo_branch(server):
    code = quick_start(Path(__file__).resolve().parents[3] / "README.md")
    code = code.replace('"127.0.0.1:50051"', repr(server.target))
    env = dict(os.environ, AGENT_KEY=server.demo["agent_key"])
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Schnittpunkt Mitte Europe/Berlin ['+493012345678']\n"
