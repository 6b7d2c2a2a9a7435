"""Where the workbench finds its data, and the few settings a user may change.

Precedence: an explicit argument (CLI option) over an environment variable over the
default. The environment variables let an auditor point every command and notebook at the
licensed catalogue or benchmark export without editing files. They are read once, at an
entry point (the CLI, the notebooks' parameters, the batch, the meeting, `analyse` and
`run_engagement` when called without settings), with `Settings.from_env()`; everything below
takes the resolved `Settings` (or the paths in it) as parameters, so one run never mixes two
catalogues (tests/test_config.py greps auditlib/ for environment reads elsewhere):

    AUDITLIB_DATA        the data folder (default: ./data, else the repository's data/)
    AUDITLIB_CATALOGUE   the catalogue folder (default: <data>/catalogue)
    AUDITLIB_BENCHMARK   the benchmark file (default: <data>/benchmark/benchmark.csv)
    AUDITLIB_CLIENTS     the clients folder (default: <data>/clients)
    AUDITLIB_OUTPUTS     the outputs folder (default: outputs/ next to the data folder)
    AUDITLIB_PDF_ENGINE  auto | chromium | weasyprint (default auto: chromium when installed)
    AUDITLIB_CHROMIUM    the Chromium executable for the PDF (default /usr/bin/chromium)
    AUDITLIB_CACHE       where the command line remembers which benchmark files passed validation
                         and keeps the compiled report templates (default $XDG_CACHE_HOME/auditlib,
                         else ~/.cache/auditlib; see auditlib.benchmark.remember_verdicts and
                         auditlib.templating.remember_compiled_templates)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent


def _default_data_dir(environ: Mapping[str, str]) -> Path:
    env = environ.get("AUDITLIB_DATA")
    if env:
        return Path(env)
    here = Path.cwd() / "data"
    if (here / "catalogue").is_dir():
        return here
    return REPO_ROOT / "data"


def _default_cache_dir(environ: Mapping[str, str]) -> Path | None:
    """The XDG user cache (as pip and matplotlib use it); None when the environment names no home."""
    for name, tail in (("AUDITLIB_CACHE", ()), ("XDG_CACHE_HOME", ("auditlib",)), ("HOME", (".cache", "auditlib"))):
        if environ.get(name):
            return Path(environ[name], *tail)
    return None


@dataclass(frozen=True)
class Settings:
    """The folders and files one run reads and writes, resolved once."""

    data_dir: Path
    catalogue_dir: Path
    benchmark_path: Path
    clients_dir: Path
    outputs_dir: Path
    pdf_engine: str = "auto"                # auditlib/report/pdf.py: auto | chromium | weasyprint
    chromium: Path | None = None            # None: /usr/bin/chromium
    cache_dir: Path | None = None           # None: nothing remembered on disk

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: str | Path | None) -> "Settings":
        """Resolve the settings at an entry point: `overrides` (None = not given) over the
        AUDITLIB_* variables of `environ` (default: this process's environment) over the defaults.

        Parameters
        ----------
        environ
            The environment to read (default ``os.environ``); ``{}`` gives the plain defaults.
        **overrides
            data_dir, catalogue_dir, benchmark_path, clients_dir, outputs_dir, pdf_engine, chromium, cache_dir:
            explicit choices (CLI options, notebook parameters); None leaves the setting to the environment.

        Returns
        -------
        Settings
            Every path resolved.
        """
        env = os.environ if environ is None else environ
        unknown = set(overrides) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise TypeError(f"unknown setting(s) {', '.join(sorted(unknown))}")
        data = Path(overrides.pop("data_dir", None) or _default_data_dir(env))
        settings = cls(
            data_dir=data,
            catalogue_dir=Path(env.get("AUDITLIB_CATALOGUE", data / "catalogue")),
            benchmark_path=Path(env.get("AUDITLIB_BENCHMARK", data / "benchmark" / "benchmark.csv")),
            clients_dir=Path(env.get("AUDITLIB_CLIENTS", data / "clients")),
            # next to the data folder (the project root), not the working folder: a notebook
            # opened from notebooks/ finds the same outputs as a command run from the root
            outputs_dir=Path(env.get("AUDITLIB_OUTPUTS", data.parent / "outputs")),
            pdf_engine=str(overrides.pop("pdf_engine", None) or env.get("AUDITLIB_PDF_ENGINE") or "auto"),
            chromium=Path(env["AUDITLIB_CHROMIUM"]) if env.get("AUDITLIB_CHROMIUM") else None,
            cache_dir=_default_cache_dir(env),
        )
        clean: dict[str, Any] = {k: Path(v) for k, v in overrides.items() if v is not None}
        return replace(settings, **clean)

    @classmethod
    def defaults(cls, **overrides: str | Path | None) -> "Settings":
        """The shipped layout (data/ here or in the repository, ./outputs), ignoring the
        environment: for library code that needs a Settings but reads no files through it."""
        return cls.from_env({}, **overrides)
