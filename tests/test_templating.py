"""Compiled templates kept for every report environment (auditlib/templating.py)."""

from __future__ import annotations

import jinja2
import pytest

from auditlib import interpret as interpret_module
from auditlib import templating
from auditlib.audit import analyse
from auditlib.report import fragments
from auditlib.testing import make_profile


@pytest.fixture
def fresh_environments():
    """Commentary and fragment environments built anew inside the test; none is left behind."""
    def clear():
        templating.remember_compiled_templates(None)
        interpret_module.commentary_env.cache_clear()
        interpret_module.phrases.cache_clear()
        fragments._fragments.cache_clear()

    clear()
    yield clear
    clear()


def _commentary(result) -> dict[str, str]:
    fragments._fragments()
    return {lang: interpret_module.interpret(result, lang).to_markdown() for lang in ("en", "nl")}


def test_the_commentary_and_fragments_are_kept_compiled_each_in_its_own_folder(
        tmp_path, catalogue, synthetic_db, fresh_environments, compiled_templates):
    """The next process (here: environments built anew) loads them compiled; the text is the same,
    in both languages, and a damaged kept file is compiled again."""
    compiled = compiled_templates
    result = analyse(make_profile(catalogue), catalogue=catalogue, benchmark=synthetic_db)
    plain = _commentary(result)
    assert "fragments.html.j2" in compiled and "document.j2" in compiled
    fresh_environments()
    templating.remember_compiled_templates(tmp_path)
    assert _commentary(result) == plain
    kept = {p.parent.name for p in (tmp_path / "templates").rglob("*") if p.is_file()}
    assert kept == {"commentary-en", "commentary-nl", "fragments"}
    fresh_environments()
    templating.remember_compiled_templates(tmp_path)
    compiled.clear()
    assert _commentary(result) == plain and compiled == []
    for path in (tmp_path / "templates" / "commentary-nl").iterdir():
        path.write_bytes(b"damaged")
    fresh_environments()
    templating.remember_compiled_templates(tmp_path)
    assert _commentary(result) == plain and compiled and "fragments.html.j2" not in compiled


def test_an_environment_made_before_the_folder_is_set_follows_it(tmp_path, fresh_environments):
    env = templating.keep_compiled(jinja2.Environment(loader=jinja2.DictLoader({"t": "x"})), "probe")
    assert env.bytecode_cache is None
    templating.remember_compiled_templates(tmp_path)
    assert isinstance(env.bytecode_cache, jinja2.FileSystemBytecodeCache)
    assert (tmp_path / "templates" / "probe").is_dir()
    assert oct((tmp_path / "templates" / "probe").stat().st_mode & 0o777) == oct(0o700)
    templating.remember_compiled_templates(None)
    assert env.bytecode_cache is None


def test_a_kind_folder_another_account_could_write_into_is_not_used(tmp_path, fresh_environments):
    (tmp_path / "templates" / "probe").mkdir(parents=True, mode=0o700)
    (tmp_path / "templates" / "probe").chmod(0o770)
    templating.remember_compiled_templates(tmp_path)
    env = templating.keep_compiled(jinja2.Environment(loader=jinja2.DictLoader({"t": "x"})), "probe")
    assert env.bytecode_cache is None
