"""A report process's start: optional imports of third-party libraries the report never uses.

Why: one cold `auditlib run` pays for every import, and two optional imports made by libraries
the report needs cost more than the whole analysis:

    rfc3987_syntax  jsonschema (imported by nbformat, so by papermill and nbconvert) imports it
                    when installed (jupyter-events asks for jsonschema[format-nongpl]) to check
                    the "iri" string format; its import compiles about 40 Lark grammars, 2.5-3 s
                    of CPU. No notebook schema uses that format, and nbformat does not check
                    formats. The other string-format checkers of that extra (fqdn, rfc3986 and
                    rfc3339 validators, webcolors, jsonpointer, uri_template, isoduration with
                    arrow) are skipped for the same reason (about 0.1 s together).
    debugpy         ipykernel imports it for the kernel's debugger; the report's in-process
                    kernel is never debugged (0.1-0.2 s).

Both libraries treat the module as optional (an ImportError switches the feature off), so
`skip_unused_imports` marks them as not importable in this process (``sys.modules[name] =
None``, Python's documented way to make an import raise ImportError). Called by the entry
points that run reports: the command line (`auditlib.cli.main`) and the batch's warm-up
(`auditlib.batch.local.warm_up`, which a Dask worker's fork server runs too). A module already
imported is left alone, and nothing of the report changes (same bytes).
"""

from __future__ import annotations

import sys

UNUSED_IMPORTS = ("rfc3987_syntax", "fqdn", "rfc3986_validator", "rfc3339_validator", "webcolors", "jsonpointer",
                  "uri_template", "isoduration", "debugpy")


def skip_unused_imports() -> None:
    """Make the optional imports in UNUSED_IMPORTS fail fast in this process (see the module docstring)."""
    for name in UNUSED_IMPORTS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None: "import raises ImportError"
