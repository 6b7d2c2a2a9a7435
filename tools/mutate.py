"""Run mutmut on one module with its own test file: `python tools/mutate.py scoring [--max-children N]`.

mutmut reads its configuration from pyproject.toml ([tool.mutmut]) only; this wrapper narrows it to
one module (auditlib/<module>.py, or a package folder) and the tests that mirror it
(tests/test_<module>.py), so a run takes minutes instead of hours. Without a module it mutates
every module the configuration names, against the whole suite (slow: hours on two cores).
`--only 'auditlib.intake.values.*'` runs the mutants whose names match (fnmatch; a mutant is named
module.x_function__mutmut_N), for a module too large to run whole in one sitting.
Results: `.venv/bin/mutmut results` (survivors), `.venv/bin/mutmut show <name>` (one diff).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", nargs="?", help="module name under auditlib/, e.g. scoring or intake")
    parser.add_argument("--tests", nargs="*", help="test files (default: tests/test_<module>.py)")
    parser.add_argument("--max-children", type=int, default=1, help="parallel mutants (default 1)")
    parser.add_argument("--only", nargs="*", default=[],
                        help="mutant name patterns to run (fnmatch, e.g. 'auditlib.labels.x_evaluate*')")
    parser.add_argument("-k", dest="keyword",
                        help="pytest -k expression over the tests (e.g. 'not consistency' to leave out slow ones)")
    parser.add_argument("--keep", action="store_true",
                        help="reuse mutants/ from the last run (default: start afresh, as mutmut's cache "
                             "does not follow a change of the module or of the tests reliably)")
    args = parser.parse_args(argv)
    if not args.keep:
        import shutil

        shutil.rmtree(REPO / "mutants", ignore_errors=True)

    import mutmut.configuration as configuration

    config = configuration._load_config()
    if args.module:
        target = REPO / "auditlib" / args.module
        pattern = f"auditlib/{args.module}/*" if target.is_dir() else f"auditlib/{args.module}.py"
        if not (target.is_dir() or target.with_suffix(".py").is_file()):
            parser.error(f"no module auditlib/{args.module}.py (or package folder)")
        tests = args.tests or [f"tests/test_{args.module}.py"]
        missing = [t for t in tests if not (REPO / t).is_file()]
        if missing:
            parser.error(f"no test file {', '.join(missing)}: name them with --tests")
        config.only_mutate = [pattern]
        config.pytest_add_cli_args_test_selection = tests
    if args.keyword:
        config.pytest_add_cli_args = [*config.pytest_add_cli_args, "-k", args.keyword]
    configuration._config = config

    from mutmut.__main__ import cli

    return cli(["run", "--max-children", str(args.max_children), *args.only], standalone_mode=False) or 0


if __name__ == "__main__":
    sys.exit(main())
