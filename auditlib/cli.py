"""The `auditlib` command line: template, validate, score, interpret, run, batch, meeting, open, demo.

User mistakes end in a clear message and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Literal, Sequence

from auditlib import __version__
from auditlib.errors import AuditError, InputError
from auditlib.files import inert, outputs_lock, reserved_name_problem


def _out(text: str, file=None) -> None:
    """Print client-supplied text inert: escape sequences and controls in a name do not act on
    the terminal, and lone surrogates cannot crash the print."""
    print(inert(text), file=file or sys.stdout)


def _err(text: str) -> None:
    _out(text, sys.stderr)


def _settings(args):
    from auditlib.config import Settings

    return Settings.from_env(data_dir=getattr(args, "data", None),
                             catalogue_dir=getattr(args, "catalogue", None),
                             benchmark_path=getattr(args, "benchmark", None),
                             clients_dir=getattr(args, "clients_dir", None),
                             outputs_dir=getattr(args, "outputs", None),
                             pdf_engine=getattr(args, "pdf_engine", None))


def _catalogue(args):
    from auditlib.catalogue import load_catalogue

    return load_catalogue(_settings(args).catalogue_dir)


def _client_paths(args, names: Sequence[str]) -> list[Path]:
    """Client folders from ids or paths; none given means every example client."""
    clients_dir = _settings(args).clients_dir
    if not names:
        if not clients_dir.is_dir():
            raise AuditError(f"no clients folder at {clients_dir}")
        return sorted(p for p in clients_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    paths = []
    for name in names:
        p = Path(name)
        paths.append(p if p.is_dir() or p.is_absolute() or "/" in name else clients_dir / name)
    return paths


def cmd_template(args) -> int:
    from auditlib.intake import write_template

    target = Path(args.out)
    if target.is_dir():
        raise AuditError(f"{target} is a folder; give the path of the .xlsx file to write")
    try:
        if getattr(args, "prefill", None):
            return _template_prefilled(args, target)
        out = write_template(target, _catalogue(args), lang=args.lang)
    except OSError as exc:
        raise AuditError(f"cannot write the template to {target}: {exc.strerror or exc}") from None
    _out(f"wrote questionnaire template {out}")
    return 0


def _template_prefilled(args, target: Path) -> int:
    """`template OUT --prefill CLIENT`: the client's latest answers, marked as last time's."""
    import datetime as dt

    from auditlib.intake import load_client
    from auditlib.template import write_prefilled

    catalogue = _catalogue(args)
    folder = load_client(_client_paths(args, [args.prefill])[0], catalogue)
    year = dt.date.today().year                     # the new answers describe this year (the clock, here)
    out = write_prefilled(target, catalogue, folder.profile, year, lang=args.lang)
    _out(f"wrote questionnaire {out}, prefilled with {folder.client_id}'s answers of {folder.profile.benchmark_year}")
    return 0


def cmd_due(args) -> int:
    """`auditlib due [CLIENT ...] [--within 6m]`: the label journey's due list, soonest first."""
    import datetime as dt

    from auditlib.journey import due_cells, due_for_clients, due_title, due_words, parse_within

    try:
        within = parse_within(args.within)
    except ValueError as exc:
        raise AuditError(f"--within: {exc}") from None
    catalogue = _catalogue(args)
    as_of = dt.date.today()                          # the due list is as of today: read here, passed down
    rows, problems = due_for_clients(_client_paths(args, args.clients), catalogue, as_of, within)
    w = due_words(args.lang)
    _out(due_title(as_of, within, args.lang))
    keys = ("client", "label", "expires", "step", "window", "status")
    table = [[w[k] for k in keys]] + [[due_cells(r, catalogue, args.lang)[k] for k in keys] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(keys))]
    for line in table:
        _out("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
    for client_id, problem in problems:
        _err(f"{client_id}: not read ({problem}); run `auditlib validate {client_id}`")
    return 1 if problems else 0


def cmd_validate(args) -> int:
    """Ready to run: everything `run` reads, for the chosen catalogue, benchmark and clients.

    Exit 0 means `run` will not fail on input; every problem of every file is listed at once.
    """
    from auditlib.errors import QuestionnaireError
    from auditlib.intake import summary_line
    from auditlib.preflight import PreflightError, check

    settings = _settings(args)
    ready = check(settings.catalogue_dir, settings.benchmark_path, _client_paths(args, args.clients),
                  groups=args.group, floor=args.floor, exclude_id=args.exclude_id, earlier=getattr(args, "earlier",
                                                                                                   None),
                  langs=("en", "nl"))
    if ready.shared:
        n = len(ready.shared)
        _err(PreflightError(ready.shared, summary=f"{n} problem{'s' if n != 1 else ''} in the catalogue or "
                                                  "benchmark").render())
        if ready.catalogue is None:
            _err("the clients were not checked: their questionnaires are read against the catalogue")
    for c in ready.clients:
        for warning in c.warnings:
            _err(f"note: {warning}")
        if c.ready and c.folder is not None:
            _out(summary_line(c.folder))
        else:
            n = len(c.problems)
            _err(QuestionnaireError(c.problems, summary=f"client '{c.client_id}' ({c.path}): {n} "
                                                        f"problem{'s' if n != 1 else ''}").render())
    return 0 if ready.ready else 1


def _analyse(args, path: Path, catalogue, benchmark):
    from auditlib.audit import analyse

    return analyse(path, catalogue=catalogue, benchmark=benchmark, groups=args.group or None,
                   anonymity_floor=args.floor, exclude_id=args.exclude_id)


def _each_client(args, render) -> int:
    """Analyse each named client and print `render(result)`; input problems exit 1, not a traceback."""
    from auditlib.benchmark import load_benchmark

    catalogue = _catalogue(args)
    benchmark = load_benchmark(_settings(args).benchmark_path, catalogue)
    status = 0
    for path in _client_paths(args, args.clients):
        try:
            _out(render(_analyse(args, path, catalogue, benchmark)))
        except InputError as exc:
            _err(exc.render())
            status = 1
    return status


def cmd_score(args) -> int:
    from auditlib.console import score_summary

    return _each_client(args, lambda result: score_summary(result) + "\n")


def cmd_interpret(args) -> int:
    """The interpretation (commentary, auditor's notes, improvement handles) as text."""
    from auditlib.interpret import interpret

    return _each_client(args, lambda result: interpret(result, args.lang).to_text())


def _formats(text: str | None) -> list[str]:
    from auditlib.report import FORMATS

    formats = [f for part in (text or ",".join(FORMATS)).split(",") for f in part.split() if f]
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise AuditError(f"unknown format(s) {', '.join(bad)}; expected a subset of {', '.join(FORMATS)}")
    return formats


def _check_exclusion(args, path: Path) -> None:
    """Refuse an --exclude-id that is not the client's own record before any report is built."""
    from auditlib.audit import reference_for
    from auditlib.benchmark import load_benchmark
    from auditlib.intake import load_client
    from auditlib.peers import client_exclusion

    catalogue = _catalogue(args)
    ref = reference_for(load_benchmark(_settings(args).benchmark_path, catalogue), catalogue)
    client_exclusion(ref, load_client(path, catalogue).profile, args.exclude_id)


def cmd_run(args) -> int:
    """One engagement's report: notebook, HTML, PDF, Excel and manifest under outputs/."""
    from auditlib.startup import few_collections

    with few_collections() as collections:      # a cold run: the GC rarely runs, and never over the imports
        return _run(args, collections)


def _run(args, collections) -> int:
    from auditlib.report import run_engagement

    settings = _settings(args)
    extra = {k: v for k, v in (("engagement_id", args.engagement), ("engagement_date", args.date),
                               ("earlier_audit", args.earlier), ("benchmark", args.benchmark),
                               ("anonymity_floor", args.floor)) if v}
    client = Path(args.client) if Path(args.client).is_dir() else args.client   # a folder, or an id
    _check_timeout(args.timeout)
    reserved = reserved_name_problem(Path(args.client).name)
    if reserved:
        raise AuditError(reserved)
    _require_shared(settings)                    # catalogue and benchmark: the full list, before anything runs
    if args.exclude_id:
        _check_exclusion(args, _client_paths(args, [args.client])[0])
        extra["exclude_id"] = args.exclude_id
    from auditlib.batch.kernel import in_process_kernel
    from auditlib.report.pdf import browser_session
    from auditlib.startup import import_chart_modules

    formats = _formats(args.formats)
    # writable, no batch or run at the same time; the notebook on the in-process kernel (no kernel process);
    # the PDF's Chromium starts now, beside the notebook, and is closed at the end
    with outputs_lock(settings.outputs_dir), in_process_kernel(args.timeout), \
            browser_session(settings.pdf_engine, settings.chromium, formats or ("html", "pdf", "xlsx")):
        import_chart_modules()                  # what the notebook's charts import, while Chromium starts
        collections.settle()                    # imported and checked: nothing of that is garbage
        outcome = run_engagement(client, settings=settings, lang=args.lang, groups=args.group,
                                 formats=formats, outputs_dir=settings.outputs_dir,
                                 engagement=args.engagement, cell_timeout=args.timeout,
                                 extra_parameters=extra or None)
    if outcome.status != "ok":
        _err(f"{outcome.client_id}: report failed: {outcome.error}")
        if outcome.failed_notebook:
            _err(f"the failed notebook is kept at {outcome.failed_notebook}")
        return 1
    files = ", ".join(sorted(p.name for p in outcome.out_dir.iterdir())) if outcome.out_dir else ""
    _out(f"{outcome.client_id}: report written to {outcome.out_dir} ({files}) in {outcome.seconds:.1f} s")
    return 0


def cmd_finalise(args) -> int:
    """A reviewed report re-rendered from its edited notebook (auditlib.review.finalise)."""
    from auditlib.review import finalise

    folder = Path(args.folder)
    outputs = folder.resolve().parent.parent
    settings = _settings(args)
    with outputs_lock(outputs) if outputs.is_dir() else _no_lock():   # no run or batch writing there meanwhile
        outcome = finalise(folder, accept=args.accept or (), pdf_engine=settings.pdf_engine,
                           chromium=settings.chromium)
    counts = {k: sum(c.change == k for c in outcome.changes) for k in ("edited", "added", "deleted")}
    _out(f"{folder}: reviewed; {', '.join(f'{v} {k}' for k, v in counts.items())} passage(s); "
         f"{len(outcome.accepted)} accepted contradiction(s); rewrote {', '.join(outcome.files) or 'nothing'} "
         f"and manifest.json" + (f"; edits kept in {outcome.commentary}" if outcome.commentary else ""))
    return 0


class _no_lock:
    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        return False


def _require_shared(settings) -> None:
    """Stop with every catalogue and benchmark problem before any report starts (exit 1); a
    benchmark file that passed, and the report's compiled templates, are remembered in the user's
    cache for the next command."""
    from auditlib.benchmark import remember_verdicts
    from auditlib.preflight import require_shared
    from auditlib.templating import remember_compiled_templates

    remember_verdicts(settings.cache_dir)
    remember_compiled_templates(settings.cache_dir)
    require_shared(settings.catalogue_dir, settings.benchmark_path)


def _check_timeout(seconds: float | None) -> None:
    """A per-cell timeout is a positive number of seconds (0 or less would silently mean none)."""
    import math

    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        raise AuditError(f"--timeout must be a positive number of seconds (got {seconds:g}); "
                         "there is no 'no timeout' setting, give a large value instead")


def cmd_batch(args) -> int:
    """Every client's report in parallel worker processes, a summary table, outputs/index.html."""
    import os

    from auditlib.batch import client_folders, run_batch, summary_table

    settings = _settings(args)
    formats = _formats(args.formats)
    if args.workers is not None and args.workers < 1:
        raise AuditError("--workers must be at least 1")
    if args.timeout is not None:
        _check_timeout(args.timeout)
    _require_shared(settings)                    # catalogue and benchmark: once, before any client starts
    paths = client_folders(args.client_names, folder=args.folder, clients_dir=settings.clients_dir)
    extra = {k: v for k, v in (("engagement_id", getattr(args, "engagement", None)),
                               ("engagement_date", getattr(args, "date", None)),
                               ("anonymity_floor", getattr(args, "floor", None))) if v}
    if args.exclude_id:
        if len(paths) != 1:
            raise AuditError("--exclude-id names one client's own record: give exactly one client, or set "
                             "benchmark_id in each client's questionnaire profile")
        _check_exclusion(args, Path(paths[0]))
        extra["exclude_id"] = args.exclude_id
    if extra or getattr(args, "group", None):        # the caller's mistakes, before any client starts
        from auditlib.report import validate_parameters

        validate_parameters({"peer_groups": list(args.group or []), **extra}, check_client=False)
    if args.folder:
        from dataclasses import replace

        settings = replace(settings, clients_dir=Path(args.folder))
    result = run_batch(paths, settings=settings, workers=args.workers or os.cpu_count(),
                       cell_timeout=args.timeout or 600, lang=args.lang, formats=formats,
                       outputs_dir=settings.outputs_dir, changed_only=args.changed_only,
                       groups=getattr(args, "group", None) or None, extra_parameters=extra or None,
                       **_executor(getattr(args, "scheduler", None)))
    print(summary_table(result.results))
    if result.index is not None:
        print(f"portfolio: {result.index}")
    if result.interrupted:
        print("interrupted: the finished reports are kept; nothing half-written was left", file=sys.stderr)
    return result.exit_code


def _executor(scheduler: str | None) -> dict:
    """run_batch's executor arguments for --scheduler (none: the local executor)."""
    from auditlib.batch.executors import executor_for

    name, options = executor_for(scheduler)
    return {"executor": name, "executor_options": options}


def cmd_meeting(args) -> int:
    """The interpretation meeting's screen: Voilà on localhost serving the meeting notebook."""
    import time
    import webbrowser

    from auditlib.intake import load_client
    from auditlib.meeting.serve import start

    settings = _settings(args)
    path = _client_paths(args, [args.client])[0]
    if not path.is_dir():
        raise AuditError(f"no client '{args.client}' in {settings.clients_dir}")
    load_client(path, _catalogue(args))            # a broken questionnaire: the message, here
    params = {"client_id": path.name, "lang": args.lang, "clients_dir": str(path.parent.resolve()),
              "catalogue_dir": str(Path(settings.catalogue_dir).resolve()),
              "benchmark": str(Path(settings.benchmark_path).resolve()),
              "outputs_dir": str(Path(settings.outputs_dir).resolve())}
    import signal

    def _stop(*_):                                 # `kill` stops Voilà and its kernel too
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, _stop)
    server = start(params, port=args.port)
    print(f"interpretation meeting for {path.name}: {server.url}  (Ctrl-C stops it)", flush=True)
    if not args.no_browser:
        webbrowser.open(server.url)
    try:
        while server.process.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("meeting stopped", file=sys.stderr)
    finally:
        server.stop()
    return 0


def cmd_open(args) -> int:
    """The client's report notebook as a copy in the outputs folder, opened in JupyterLab."""
    import subprocess

    from auditlib.workspace import lab_command, open_workspace

    settings = _settings(args)
    path = _client_paths(args, [args.client])[0]
    if not path.is_dir():
        raise AuditError(f"no client '{args.client}' in {settings.clients_dir}")
    ws = open_workspace(path, settings=settings, lang=args.lang, engagement=args.engagement,
                        outputs_dir=settings.outputs_dir, fresh=args.fresh)
    _out(f"{'wrote' if ws.written else 'kept your'} workspace notebook {ws.notebook}"
         + ("" if ws.written else " (--fresh starts it over)"))
    if args.write_only:
        return 0
    cmd = lab_command(ws.notebook, browser=not args.no_browser)
    print(f"starting JupyterLab on it (Ctrl-C stops it): {' '.join(cmd[1:])}", flush=True)
    try:
        return subprocess.call(cmd, cwd=ws.notebook.parent)
    except KeyboardInterrupt:
        return 0


def cmd_demo(args) -> int:
    """The main job on the bundled example clients: validate, score, then every report."""
    args.clients, args.group, args.floor, args.exclude_id = [], None, None, None
    print(f"auditlib {__version__}: validating and scoring every example client\n")
    status = cmd_validate(args)
    print()
    status = max(status, cmd_score(args))
    print("Writing every example client's report (auditlib batch):")
    args.client_names, args.folder, args.workers, args.timeout = [], None, None, None
    args.changed_only, args.formats, args.lang = False, None, getattr(args, "lang", "en")
    args.engagement = args.date = None
    return max(status, cmd_batch(args))


OUTPUTS_HELP = "outputs folder (default: outputs/ next to the data folder, or $AUDITLIB_OUTPUTS)"


def _lang(parser: argparse.ArgumentParser, what: str) -> None:
    """The one --lang option: its choices are the report languages."""
    from auditlib.present import LANGUAGES

    parser.add_argument("--lang", choices=list(LANGUAGES), default="en",
                        help=f"{what}: en (English, the default) or nl (Dutch); a report in another language "
                             "than English goes to outputs/<client>/<engagement>.<lang>/")


def _pdf_engine(parser: argparse.ArgumentParser) -> None:
    """The one --pdf-engine option (run, batch, finalise): auditlib/report/pdf.py's engines."""
    parser.add_argument("--pdf-engine", choices=["auto", "chromium", "weasyprint"],
                        help="the PDF's engine: chromium (headless, from Debian's package), weasyprint, or auto "
                             "(the default: chromium when /usr/bin/chromium or $AUDITLIB_CHROMIUM is there; "
                             "$AUDITLIB_PDF_ENGINE)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="auditlib", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"auditlib {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", help="data folder (default: ./data or $AUDITLIB_DATA)")
    common.add_argument("--catalogue", help="catalogue folder (default: <data>/catalogue or $AUDITLIB_CATALOGUE)")
    common.add_argument("--benchmark", help="benchmark file, e.g. the licensed export "
                                            "(default: <data>/benchmark/benchmark.csv or $AUDITLIB_BENCHMARK)")
    common.add_argument("--clients-dir", dest="clients_dir",
                        help="clients folder (default: <data>/clients or $AUDITLIB_CLIENTS)")
    catalogue_only = argparse.ArgumentParser(add_help=False)     # template reads the catalogue and nothing else
    catalogue_only.add_argument("--data", help="data folder (default: ./data or $AUDITLIB_DATA)")
    catalogue_only.add_argument("--catalogue",
                                help="catalogue folder (default: <data>/catalogue or $AUDITLIB_CATALOGUE)")
    analysis = argparse.ArgumentParser(add_help=False)
    analysis.add_argument("--group", action="append", metavar="GROUP",
                          help="peer group: all, field, country, eu, age_band, gold, or a custom group "
                               "NAME=column:value[|value],... such as 'benelux=country:NL|BE,field:ict' "
                               "(repeatable; default: the catalogue's)")
    analysis.add_argument("--floor", type=int, help="anonymity floor (default from the catalogue; never below 5)")
    analysis.add_argument("--exclude-id", help="the client's own record id in the benchmark database")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("template", parents=[catalogue_only], help="write an Excel questionnaire from the catalogue")
    p.add_argument("out", help="output .xlsx file")
    _lang(p, "the questionnaire's language")
    p.add_argument("--prefill", metavar="CLIENT", help="prefill with this client's latest answers (marked)")
    p.add_argument("--clients-dir", dest="clients_dir", help="folder of client folders (default: <data>/clients)")
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("due", parents=[common], help="the label journey: who needs what, and when")
    p.add_argument("clients", nargs="*", help="client folders or ids (default: every client)")
    p.add_argument("--within", default="6m", help="'due' horizon: 6m (months) or 1y (default 6m)")
    _lang(p, "the list's language")
    p.set_defaults(func=cmd_due)

    p = sub.add_parser("validate", parents=[common, analysis],
                       help="check everything `run` reads (catalogue, benchmark, questionnaires, earlier "
                            "audits, notes); exit 0 means ready to run")
    p.add_argument("clients", nargs="*", help="client folders or ids (default: every client)")
    p.add_argument("--earlier", help="the earlier audit `run --earlier` will compare with (a year)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("score", parents=[common, analysis], help="print positions, profile and label readiness")
    p.add_argument("clients", nargs="*", help="client folders or ids (default: every client)")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("interpret", parents=[common, analysis],
                       help="print the interpretation: commentary, auditor's notes, improvement handles")
    p.add_argument("clients", nargs="*", help="client folders or ids (default: every client)")
    _lang(p, "the interpretation's language")
    p.set_defaults(func=cmd_interpret)

    p = sub.add_parser("batch", parents=[common, analysis],
                       help="every client's report in parallel, and the portfolio index")
    p.add_argument("client_names", nargs="*", metavar="clients",
                   help="client ids or folders (default: every folder in the clients folder)")
    p.add_argument("--folder", metavar="DIR", help="a folder of client folders to run")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes (default: one per core)")
    p.add_argument("--changed-only", action="store_true",
                   help="skip clients whose inputs, catalogue, benchmark and notebook are unchanged since "
                        "their last good report")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="per-cell timeout (default 600)")
    _lang(p, "the reports' language")
    p.add_argument("--formats", help="comma-separated subset of html,pdf,xlsx (default: all)")
    p.add_argument("--outputs", help=OUTPUTS_HELP)
    p.add_argument("--engagement", help="engagement id, the output folders' name (default: each client's "
                                        "benchmark year)")
    p.add_argument("--date", help="engagement date shown on the covers (e.g. 2026-11-26)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask cluster: its scheduler's address (tcp://host:8786), or 'local' for a "
                        "LocalCluster on this machine (default: this machine's warm worker processes)")
    _pdf_engine(p)
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("run", parents=[common, analysis], help="write one engagement's report (HTML, PDF, Excel)")
    p.add_argument("client", help="client folder or id")
    _lang(p, "the report's language")
    p.add_argument("--formats", help="comma-separated subset of html,pdf,xlsx (default: all)")
    p.add_argument("--outputs", help=OUTPUTS_HELP)
    p.add_argument("--engagement", help="engagement id, the output folder's name (default: the benchmark year)")
    p.add_argument("--date", help="engagement date shown on the cover (e.g. 2026-11-26)")
    p.add_argument("--earlier", help="the earlier audit to compare with (a year in the client's earlier/)")
    p.add_argument("--timeout", type=float, default=600, help="per-cell timeout in seconds (default 600)")
    _pdf_engine(p)
    p.set_defaults(func=cmd_run, end_process=True)      # see _end_process

    p = sub.add_parser("finalise", help="re-render a reviewed report from its edited notebook (HTML, PDF), "
                                        "after checking the edited commentary against the figures")
    p.add_argument("folder", help="the report folder, outputs/<client>/<engagement>[.<lang>]")
    p.add_argument("--accept", action="append", metavar="KEY",
                   help="accept one flagged sentence deliberately (the key finalise printed; repeatable)")
    _pdf_engine(p)
    p.set_defaults(func=cmd_finalise)

    p = sub.add_parser("meeting", parents=[common], help="the interpretation meeting's screen (Voilà on localhost)")
    p.add_argument("client", help="client folder or id")
    _lang(p, "the screen's language at the start (switchable on screen)")
    p.add_argument("--port", type=int, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="print the address only; open no browser")
    p.set_defaults(func=cmd_meeting)

    p = sub.add_parser("open", parents=[common],
                       help="open a client's report notebook in JupyterLab, as a copy in its outputs folder "
                            "(the tracked template is never edited)")
    p.add_argument("client", help="client folder or id")
    _lang(p, "the notebook's report language")
    p.add_argument("--engagement", help="engagement id (default: the benchmark year)")
    p.add_argument("--outputs", help=OUTPUTS_HELP)
    p.add_argument("--fresh", action="store_true",
                   help="start the copy over from the template (your edits in the existing copy are lost)")
    p.add_argument("--no-browser", action="store_true", help="start JupyterLab without opening a browser")
    p.add_argument("--write-only", action="store_true",
                   help="write (or keep) the copy and print its path; start no JupyterLab")
    p.set_defaults(func=cmd_open)

    p = sub.add_parser("demo", parents=[common], help="the main job on the bundled example clients")
    p.add_argument("--outputs", help=OUTPUTS_HELP)
    p.set_defaults(func=cmd_demo)
    return parser


def _pipe_closed() -> int:
    """The reader of our output went away (`auditlib score | head`): stop quietly, as a Unix tool does.

    Later writes, and the interpreter's final flush, go to /dev/null instead of raising again;
    the exit code is the shell's for a command stopped by SIGPIPE (128 + 13).
    """
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        for stream in (sys.stdout, sys.stderr):
            os.dup2(devnull, stream.fileno())
    except (OSError, ValueError):
        pass
    return 141


def main(argv: Sequence[str] | None = None) -> int:
    """The `auditlib` command: parse, run the sub-command, turn every user mistake into a message.

    Parameters
    ----------
    argv
        The arguments (default: the command line). With the command line, a command that asks for
        it (`run`) ends the process itself once it is done (`_end_process`): this function does not
        return then.

    Returns
    -------
    int
        0 on success, 1 for a user mistake, 2 for a bug or no command, 130 after Ctrl-C, 141
        when the reader of the output closed the pipe.
    """
    from auditlib.startup import skip_unused_imports

    skip_unused_imports()               # seconds of optional third-party imports no report uses
    args = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        status = args.func(args)
        sys.stdout.flush()              # a closed pipe shows here, not in the interpreter's last flush
    except BrokenPipeError:
        status = _pipe_closed()
    except AuditError as exc:
        _err(f"error: {exc}")
        status = 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        status = 130
    except OSError as exc:      # a file or folder the user named cannot be read or written
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        _err(f"error:{where}: {exc.strerror or exc}")
        status = 1
    except Exception as exc:    # a bug: one line, not a traceback (AUDITLIB_DEBUG=1 shows it)
        import os

        if os.environ.get("AUDITLIB_DEBUG"):
            raise
        _err(f"error: unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
             "(please report this; set AUDITLIB_DEBUG=1 to see where it happened)")
        status = 2
    if argv is None and getattr(args, "end_process", False):
        _end_process(status)
    return status


def _end_process(status: int) -> None:
    """End the program now, with `status`, once its exit handlers have run and its output is flushed.

    Why: after a report, the interpreter's own exit tears down ~2,000 modules and ~200,000 objects
    the GC tracks (pandas, matplotlib, IPython, papermill, nbconvert): 0.3-0.65 s of a cold
    `auditlib run` that writes nothing. Everything that must happen at the end already has: the command closed
    its outputs lock, kernel, Chromium and its broker, and removed its build folder (context
    managers); the exit handlers (`atexit`: logging, weakref finalizers such as temporary folders,
    IPython's) run here as they would at exit; stdout and stderr are flushed. With a non-daemon
    thread still running, the interpreter's normal exit (which waits for it) is kept.
    """
    import atexit
    import os
    import threading

    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        return
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):   # a reader gone, a stream closed: nothing left to lose
            pass
    os._exit(status)
