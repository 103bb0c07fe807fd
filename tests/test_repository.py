"""What the repository promises: notebooks carry no outputs, release/
is exactly what `course release` makes and holds no solution or hidden test, CI runs the
README's test command."""
import json
import shutil
import subprocess

import nbformat
import pytest

from course.paths import REPOSITORY_ROOT, lesson_ids
from course.release import release

ROOT = REPOSITORY_ROOT


def _tracked_notebooks():
    names = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    return [ROOT / name for name in names] or sorted(ROOT.glob("*/*/*.ipynb"))


def test_committed_notebooks_have_no_outputs():
    for path in _tracked_notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        dirty = [i for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
                 and (cell.get("outputs") or cell.get("execution_count") is not None)]
        assert not dirty, f"{path.relative_to(ROOT)}: cells {dirty} have outputs"


def test_every_lesson_is_released():
    assert lesson_ids(ROOT), "no lessons in source/"
    released = sorted(p.name for p in (ROOT / "release").iterdir() if p.is_dir())
    assert released == lesson_ids(ROOT)


@pytest.mark.parametrize("lesson", lesson_ids(ROOT))
def test_release_has_no_solution_and_no_hidden_test(lesson):
    text = (ROOT / "release" / lesson / f"{lesson}.ipynb").read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    assert "from course.checks import" not in text, "the check helpers must be inlined"


def test_release_is_what_course_release_makes(tmp_path):
    for name in ("nbgrader_config.py", "README.md"):
        shutil.copy(ROOT / name, tmp_path)
    shutil.copytree(ROOT / "source", tmp_path / "source")
    release(tmp_path, lesson_ids(ROOT))
    for lesson in lesson_ids(ROOT):
        made = nbformat.read(tmp_path / "release" / lesson / f"{lesson}.ipynb", as_version=4)
        committed = nbformat.read(ROOT / "release" / lesson / f"{lesson}.ipynb", as_version=4)
        assert made == committed, f"release/{lesson} is stale: run `course release {lesson}`"
    assert (tmp_path / "README.md").read_text() == (ROOT / "README.md").read_text(), (
        "README's lesson table is stale: run `course release`")


def test_ci_runs_the_readme_test_command():
    ci_command = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
                  if "pytest" in line]
    assert len(ci_command) == 1
    assert ci_command[0] in (ROOT / "README.md").read_text()
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    assert "bash .ci/run" in workflow


@pytest.mark.xdist_group("grouping")
def test_xdist_keeps_a_group_on_one_worker(request):
    """Each lesson's graded course is built once per worker; without working groups every
    worker would grade every lesson (pytest 9.2 with pytest-xdist 3.8 silently did)."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("only under pytest-xdist --dist loadgroup, as CI runs the tests")
    assert request.node.nodeid.endswith("@grouping")
