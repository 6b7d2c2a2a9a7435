"""Where the report's Jinja templates are kept compiled, for every environment that renders them.

Why: a cold `auditlib run` compiles each template it renders (nbconvert's page, the report's
fragments, the commentary of one language) on every run, and a batch's report children
compiled the commentary templates their client needed and the warm parent had not met. Jinja's
own bytecode cache keeps them in the user's cache folder; it recompiles a template whose source
checksum or Jinja version differs, or whose cached file is damaged.

Each environment has its own subfolder: Jinja keys a compiled template by its name and file, not
by the environment's options (autoescape, trim_blocks), so two environments never share one.
"""

from __future__ import annotations

import os
import stat
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import BytecodeCache, Environment

_FOLDER: dict[str, Path | None] = {"folder": None}
_ENVIRONMENTS: weakref.WeakKeyDictionary[Environment, str] = weakref.WeakKeyDictionary()


def remember_compiled_templates(folder: Path | None) -> None:
    """Keep the report templates, compiled, in `folder`/templates (None: compile them in each process).

    A folder that cannot be written, or that another account could write into (group or others
    may write, or another owner), leaves every run compiling, as without it. Set by the command
    line (`Settings.cache_dir`: AUDITLIB_CACHE, else the user's cache folder), beside the benchmark
    verdicts; environments made before and after the call both follow it.
    """
    _FOLDER["folder"] = None if folder is None else Path(folder) / "templates"
    for env, kind in list(_ENVIRONMENTS.items()):
        env.bytecode_cache = _bytecode_cache(kind)


def keep_compiled(env: Environment, kind: str) -> Environment:
    """`env`, its compiled templates kept under the folder's `kind` subfolder while one is set."""
    _ENVIRONMENTS[env] = kind
    env.bytecode_cache = _bytecode_cache(kind)
    return env


def folder() -> Path | None:
    """The folder set by remember_compiled_templates (None: templates are compiled in each process)."""
    return _FOLDER["folder"]


def _bytecode_cache(kind: str) -> BytecodeCache | None:
    from jinja2 import FileSystemBytecodeCache

    class QuietBytecodeCache(FileSystemBytecodeCache):
        def dump_bytecode(self, bucket) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:            # a full or read-only disk: the template was compiled all the same
                pass

    top = _FOLDER["folder"]
    if top is None:
        return None
    try:
        for path in (top, top / kind):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
            mine = path.stat()
            # compiled code is loaded from there: only from a folder no other account can write into
            if mine.st_uid != os.getuid() or mine.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None
    except OSError:
        return None
    return QuietBytecodeCache(str(top / kind))
