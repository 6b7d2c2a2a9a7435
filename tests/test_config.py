"""Settings: resolved once at the entry points, passed down; no environment read below them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from auditlib.config import Settings

AUDITLIB = Path(__file__).resolve().parents[1] / "auditlib"

# The entry points, where the environment may be read (each resolves Settings once and passes it
# down), and the one place that reads the process environment for another reason.
ENTRY_POINTS = {
    "config.py": "defines Settings.from_env",
    "cli.py": "the `auditlib` command",
    "report/parameters.py": "the report notebook's parameters",
    "portfolio.py": "the portfolio overview notebook's parameters",
    "report/run.py": "run_engagement called without settings (notebooks, scripts)",
    "audit.py": "analyse() called without settings (notebooks)",
    "batch/orchestrate.py": "run_batch called without settings",
    "meeting/session.py": "the interpretation meeting",
    "batch/kernel.py": "the kernel's matplotlib backend (MPLBACKEND): process plumbing, not a setting",
}


def environment_reads(source: str) -> list[int]:
    """Line numbers that read the environment: os.environ / os.getenv / environ reads and
    Settings.from_env() calls. Writes for child processes (os.environ[k] = v,
    os.environ.setdefault) are not reads of a setting."""
    lines = []
    tree = ast.parse(source)
    writes: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript):
                    writes.add(id(target.value))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "setdefault":
            writes.add(id(node.func.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "environ" and id(node) not in writes:
            lines.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr in ("getenv", "from_env"):
            lines.append(node.lineno)
        elif isinstance(node, ast.Name) and node.id in ("environ", "getenv") and id(node) not in writes:
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and \
                {a.name for a in node.names} & {"environ", "getenv"}:
            lines.append(node.lineno)
    return sorted(set(lines))


def test_no_environment_read_below_the_entry_points():
    found = []
    for path in sorted(AUDITLIB.rglob("*.py")):
        rel = path.relative_to(AUDITLIB).as_posix()
        if rel in ENTRY_POINTS:
            continue
        found += [f"auditlib/{rel}:{n}" for n in environment_reads(path.read_text(encoding="utf-8"))]
    assert not found, ("settings are resolved at an entry point and passed down; environment read at "
                       + ", ".join(found))


def test_the_grep_sees_every_way_of_reading_the_environment():
    sample = ("import os\nfrom os import environ, getenv\nfrom auditlib.config import Settings\n"
              "a = os.environ.get('X')\nb = os.getenv('X')\nc = environ['X']\nd = Settings.from_env()\n"
              "os.environ['Y'] = '1'\nos.environ.setdefault('Z', '1')\n")
    assert environment_reads(sample) == [2, 4, 5, 6, 7]


def test_every_entry_point_in_the_allow_list_exists():
    for rel in ENTRY_POINTS:
        assert (AUDITLIB / rel).is_file(), rel


def test_overrides_beat_the_environment_which_beats_the_defaults(tmp_path):
    env = {"AUDITLIB_DATA": str(tmp_path / "d"), "AUDITLIB_BENCHMARK": str(tmp_path / "b.csv")}
    s = Settings.from_env(env, clients_dir=tmp_path / "c", outputs_dir=None)
    assert s.data_dir == tmp_path / "d"
    assert s.catalogue_dir == tmp_path / "d" / "catalogue"            # default under the data folder
    assert s.benchmark_path == tmp_path / "b.csv"                      # environment
    assert s.clients_dir == tmp_path / "c"                             # override
    assert s.outputs_dir == tmp_path / "outputs"                       # None: next to the data folder


def test_defaults_ignore_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AUDITLIB_BENCHMARK", str(tmp_path / "licensed.csv"))
    assert Settings.defaults().benchmark_path != tmp_path / "licensed.csv"
    assert Settings.from_env().benchmark_path == tmp_path / "licensed.csv"


def test_the_cache_folder_follows_the_xdg_convention():
    home = {"HOME": "/home/auditor"}
    assert Settings.from_env(home).cache_dir == Path("/home/auditor/.cache/auditlib")
    xdg = {**home, "XDG_CACHE_HOME": "/var/cache/firm"}
    assert Settings.from_env(xdg).cache_dir == Path("/var/cache/firm/auditlib")
    assert Settings.from_env({**xdg, "AUDITLIB_CACHE": "/srv/audit-cache"}).cache_dir == Path("/srv/audit-cache")
    assert Settings.from_env({}).cache_dir is None                    # no home: nothing remembered
    assert Settings.from_env({**home, "AUDITLIB_CACHE": ""}).cache_dir == Path("/home/auditor/.cache/auditlib")


def test_an_unknown_setting_is_refused():
    with pytest.raises(TypeError, match="unknown setting"):
        Settings.from_env({}, catalog_dir="x")
