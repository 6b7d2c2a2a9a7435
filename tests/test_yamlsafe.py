"""The YAML loader for user files: alias bombs refused quickly, ordinary anchors still read."""

from __future__ import annotations

import shutil
import time

import pytest
import yaml

from auditlib import yamlsafe
from auditlib.errors import CatalogueError, NotesError, QuestionnaireError
from auditlib.testing import DATA, TEST_DATA


def bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("fast", [True, False])
def test_a_billion_laughs_is_refused_at_once(fast):
    text = bomb()
    assert len(text) < 600
    start = time.perf_counter()
    with pytest.raises(yamlsafe.AliasBombError, match="would expand to more than 10,000"):
        yamlsafe.load(text, "notes.yaml", fast=fast)
    # Not a speed test (benchmarks/ measure speed): an unguarded expansion never returns at all.
    assert time.perf_counter() - start < 5


def test_a_recursive_alias_is_refused():
    with pytest.raises(yamlsafe.AliasBombError, match="recursive"):
        yamlsafe.load("a: &x [1, *x]\n")


def test_ordinary_anchors_and_merge_keys_are_read():
    data = yamlsafe.load("base: &b {unit: EUR, max: 10}\nx: {<<: *b, max: 5}\ny: *b\nlist: &l [1, 2]\nz: *l\n")
    assert data["x"] == {"unit": "EUR", "max": 5} and data["y"] == {"unit": "EUR", "max": 10}
    assert data["z"] == [1, 2]


def test_the_bound_counts_expanded_values_not_aliases():
    ok = "a: &a [" + ", ".join(["1"] * 100) + "]\n" + "".join(f"k{i}: *a\n" for i in range(90))
    assert len(yamlsafe.load(ok)["k89"]) == 100                  # 9,000 extra values: allowed
    with pytest.raises(yamlsafe.AliasBombError):
        yamlsafe.load(ok + "".join(f"m{i}: *a\n" for i in range(20)))   # 11,000: refused


def test_python_tags_stay_refused():
    with pytest.raises(yaml.YAMLError):
        yamlsafe.load("x: !!python/object/apply:os.system ['true']\n")


def test_every_reader_of_user_yaml_refuses_a_bomb(catalogue, tmp_path):
    from auditlib.catalogue import load_catalogue
    from auditlib.intake import load_client
    from auditlib.notes import load_notes

    with pytest.raises(NotesError, match="would expand"):
        load_notes(TEST_DATA / "folders" / "alias_bomb_notes" / "notes.yaml", catalogue)
    client = tmp_path / "client"
    shutil.copytree(TEST_DATA / "folders" / "earlier_wrong_year", client)
    (client / "earlier" / "2024.yaml").write_text(bomb(), encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="would expand"):
        load_client(client, catalogue)
    cat = tmp_path / "catalogue"
    shutil.copytree(DATA / "catalogue", cat)
    with (cat / "fields.yaml").open("a", encoding="utf-8") as fh:
        fh.write(bomb().replace("a0:", "x0:", 1).replace("\na", "\nx"))
    with pytest.raises(CatalogueError, match="would expand"):
        load_catalogue(cat)


def test_no_direct_yaml_load_is_left_in_the_library():
    import auditlib

    root = DATA.parent / "auditlib"
    offenders = []
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in ("yaml.safe_load(", "yaml.load(", "CSafeLoader(", "yaml.SafeLoader(", "yaml.full_load("):
            if needle in text and path.name != "yamlsafe.py":
                offenders.append(f"{path.relative_to(root)}: {needle}")
    # words.yaml is package data read by the presentation layer, not a user file
    allowed = {"present.py: yaml.safe_load("}
    assert set(offenders) <= allowed, offenders
    assert auditlib
