"""The student's install (issue 15, item 9): environments/student.txt holds what a student needs
and no instructor tool; each version is pinned in one place; the setup cell prints nothing to
stderr."""
import importlib.metadata
import tomllib

import nbformat
import pytest
import yaml
from conftest import LESSONS, per_lesson
from nbclient import NotebookClient
from packaging.requirements import Requirement
from pinned_envs import (
    ENVIRONMENTS,
    installed_closure,
    lesson_distributions,
    pins,
    requirements,
)

from course.kernel_client import kernel_client_config
from course.paths import REPOSITORY_ROOT, release_notebook

STUDENT = ENVIRONMENTS / "student.txt"
INSTRUCTOR = ENVIRONMENTS / "instructor.txt"
COLAB = ENVIRONMENTS / "colab.txt"
INSTRUCTOR_TOOLS = {"nbgrader"}  # its JupyterLab extensions are the formgrader and assignment menus


def test_the_student_install_holds_no_instructor_tool():
    student = set(pins(STUDENT))
    assert not student & INSTRUCTOR_TOOLS, f"{STUDENT.name} names {student & INSTRUCTOR_TOOLS}"
    pulled_in = installed_closure(student) & INSTRUCTOR_TOOLS
    assert not pulled_in, f"{STUDENT.name}'s packages require {pulled_in} (as installed here)"


def test_the_student_install_holds_what_the_lessons_import():
    needed = lesson_distributions()
    assert {"tensorflow", "keras", "ipywidgets"} <= set(needed.values()), needed
    closure = installed_closure(pins(STUDENT))
    missing = {module: dist for module, dist in needed.items() if dist not in closure}
    assert not missing, f"the lessons import {missing}, which {STUDENT.name} does not install"
    assert {"jupyterlab", "ipykernel"} <= set(pins(STUDENT))


def test_each_version_is_pinned_in_one_place():
    student, instructor = pins(STUDENT), pins(INSTRUCTOR)
    pyproject = tomllib.loads((REPOSITORY_ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    assert "dependencies" not in project and project["dynamic"] == ["dependencies"]
    files = pyproject["tool"]["setuptools"]["dynamic"]["dependencies"]["file"]
    assert [REPOSITORY_ROOT / f for f in files] == [STUDENT, INSTRUCTOR]
    installed = [r for r in importlib.metadata.requires(project["name"]) if "extra ==" not in r]
    assert installed == [str(r) for r in requirements(STUDENT) + requirements(INSTRUCTOR)], (
        "the installed course package requires other versions than environments/*.txt: pip install -e .")
    test_extras = {Requirement(line).name for line in project["optional-dependencies"]["test"]}
    named_twice = (set(student) & set(instructor)) | ((set(student) | set(instructor)) & test_extras)
    assert not named_twice, f"pinned in two places: {named_twice}"
    conda = yaml.safe_load((REPOSITORY_ROOT / "environment.yml").read_text())
    pip_lines = next(d["pip"] for d in conda["dependencies"] if isinstance(d, dict))
    assert not [line for line in pip_lines if "==" in line], "environment.yml pins again"
    python = next(d for d in conda["dependencies"] if isinstance(d, str) and d.startswith("python="))
    minimum = tomllib.loads((REPOSITORY_ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert python.split("=")[1] == minimum.removeprefix(">=")


def test_the_colab_environment_pins_every_package_the_lessons_import():
    colab = pins(COLAB)
    missing = set(lesson_distributions().values()) - set(colab) - {"ipython"}
    assert not missing, f"{COLAB.name} leaves {missing} to the resolver"
    assert {"ipykernel", "ipython"} <= set(colab)
    assert colab["tensorflow"] != pins(STUDENT)["tensorflow"], "Colab's TensorFlow is the second one tested"


def _lessons_with_their_own_setup_cell():
    """The first lesson of each different setup cell (several lessons share one word for word)."""
    seen = {}
    for lesson in LESSONS:
        nb = nbformat.read(release_notebook(REPOSITORY_ROOT, lesson), as_version=4)
        seen.setdefault(next(cell for cell in nb.cells if cell.cell_type == "code").source, lesson)
    return list(seen.values())


@pytest.mark.slow
@pytest.mark.parametrize("lesson", per_lesson([(lesson,) for lesson in _lessons_with_their_own_setup_cell()]))
def test_the_setup_cell_prints_nothing_to_stderr(lesson, monkeypatch):
    """TensorFlow's import writes absl and C++ log lines to file descriptor 2 whatever
    TF_CPP_MIN_LOG_LEVEL says; a notebook shows them in a red box under the first cell. The
    kernel starts as a student's does, without the tests' TF_CPP_MIN_LOG_LEVEL (conftest).
    A lesson whose setup cell is another's, word for word, is tested with that one."""
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    nb = nbformat.read(release_notebook(REPOSITORY_ROOT, lesson), as_version=4)
    setup = next(cell for cell in nb.cells if cell.cell_type == "code")
    nb.cells = [setup]
    NotebookClient(nb, timeout=120, config=kernel_client_config(),
                   resources={"metadata": {"path": str(release_notebook(REPOSITORY_ROOT, lesson).parent)}}).execute()
    stderr = [output.text for output in setup.outputs if output.get("name") == "stderr"]
    errors = [f"{o.ename}: {o.evalue}" for o in setup.outputs if o.output_type == "error"]
    assert not errors, errors
    assert not stderr, f"the setup cell of {lesson} printed to stderr:\n{''.join(stderr)}"
    assert any("Keras" in output.get("text", "") for output in setup.outputs), "the setup cell's own line is shown"
