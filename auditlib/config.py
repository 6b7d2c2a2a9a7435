"""Where the workbench finds its data, and the few settings a user may change.

Precedence: an explicit argument (CLI option) over an environment variable over the
default. The environment variables let an auditor point every command and notebook at the
licensed catalogue or benchmark export without editing files:

    AUDITLIB_DATA        the data folder (default: ./data, else the repository's data/)
    AUDITLIB_CATALOGUE   the catalogue folder (default: <data>/catalogue)
    AUDITLIB_BENCHMARK   the benchmark file (default: <data>/benchmark/benchmark.csv)
    AUDITLIB_CLIENTS     the clients folder (default: <data>/clients)
    AUDITLIB_OUTPUTS     the outputs folder (default: outputs/ next to the data folder)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent


def _default_data_dir() -> Path:
    env = os.environ.get("AUDITLIB_DATA")
    if env:
        return Path(env)
    here = Path.cwd() / "data"
    if (here / "catalogue").is_dir():
        return here
    return REPO_ROOT / "data"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    catalogue_dir: Path
    benchmark_path: Path
    clients_dir: Path
    outputs_dir: Path

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        data = Path(overrides.pop("data_dir", None) or _default_data_dir())
        env = os.environ
        settings = cls(
            data_dir=data,
            catalogue_dir=Path(env.get("AUDITLIB_CATALOGUE", data / "catalogue")),
            benchmark_path=Path(env.get("AUDITLIB_BENCHMARK", data / "benchmark" / "benchmark.csv")),
            clients_dir=Path(env.get("AUDITLIB_CLIENTS", data / "clients")),
            # next to the data folder (the project root), not the working folder: a notebook
            # opened from notebooks/ finds the same outputs as a command run from the root
            outputs_dir=Path(env.get("AUDITLIB_OUTPUTS", data.parent / "outputs")),
        )
        clean = {k: Path(v) for k, v in overrides.items() if v is not None}
        return replace(settings, **clean)
