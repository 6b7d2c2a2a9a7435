"""pyproject.toml and environment.yml agree; the set-up files say what the README says."""

from __future__ import annotations

import re
import tomllib

import yaml

from auditlib.testing import REPO


def _requirement(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    specs = data["project"]["dependencies"] + data["project"]["optional-dependencies"]["test"]
    return dict(_requirement(s) for s in specs)


def _conda() -> dict[str, str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, floor = _requirement(dep)
            if name not in ("python", "pip"):
                out[name] = floor
    return out


def test_every_dependency_is_in_both_files_with_the_same_floor():
    pyproject, conda = _pyproject(), _conda()
    assert set(pyproject) == set(conda), (
        f"only in pyproject.toml: {sorted(set(pyproject) - set(conda))}; "
        f"only in environment.yml: {sorted(set(conda) - set(pyproject))}")
    differing = {k: (pyproject[k], conda[k]) for k in pyproject if pyproject[k] != conda[k]}
    assert not differing, f"version floors differ (pyproject, environment.yml): {differing}"


def test_every_dependency_has_a_version_floor():
    missing = [name for name, spec in _pyproject().items() if not spec.startswith(">=")]
    assert not missing, f"no version floor for {missing}"


def test_python_version_agrees():
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda_python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert data["project"]["requires-python"] == ">=3.11" and conda_python == "python=3.11"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (REPO / ".ci" / "run").read_text()
    readme = (REPO / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
