import functools
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import argument_scrambling
import nbgrader.api
import postgres_server
import pytest
import tiny_course
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from lean_notebooks import lean
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore", message=".*not in session.*")

from course import submissions  # noqa: E402
from course.demo import make_course  # noqa: E402
from course.grade import NO_SANDBOX, grade  # noqa: E402
from course.paths import REPOSITORY_ROOT, lesson_ids  # noqa: E402
from course.release import release  # noqa: E402
from course.sandbox import sandbox_problem  # noqa: E402

LESSONS = lesson_ids(REPOSITORY_ROOT)
OVERWRITES_ITS_ARGUMENTS = "overwrites_its_arguments"  # tests/argument_scrambling.py
needs_bubblewrap = pytest.mark.skipif(sandbox_problem() is not None,
                                      reason=f"the sandbox cannot run here: {sandbox_problem()}")


def own_code_overrides():
    """Submissions made from the course's own code may be graded without the sandbox where
    bubblewrap is missing (the tests of hostile submissions require it: needs_bubblewrap)."""
    return None if sandbox_problem() is None else NO_SANDBOX


def per_lesson(values=None):
    """Parameters that keep each lesson's tests on one xdist worker (its graded course is
    built once per worker)."""
    values = values or [(lesson,) for lesson in LESSONS]
    return [pytest.param(*v, marks=pytest.mark.xdist_group(v[0]), id="-".join(map(str, v)))
            for v in values]


@dataclass
class GradedLesson:
    root: Path
    lesson: str
    results: dict  # student -> course.grade.Result
    wrong_packs: dict  # student -> the wrong answers that submission holds
    alternative_packs: dict  # student -> the alternative correct answers that submission holds

    def student_with(self, wrong_name):
        """The submission that holds the catalogued wrong answer `wrong_name`, and its answers."""
        return next((student, pack) for student, pack in self.wrong_packs.items()
                    if wrong_name in {w.name for w in pack})


def _grade_examples(root, lesson):
    """Grade the solution, the blank release, the solution that overwrites its arguments
    (tests/argument_scrambling.py), every catalogued wrong answer and every alternative correct
    answer. Wrong answers share submissions where no test cell can tell them
    apart (submissions.packs), alternatives share them one per cell (submissions.alternative_packs),
    so that a lesson costs a few autogrades instead of one per answer. The solution and the blank
    release run every cell; the wrong and alternative answers are handed in without the
    demonstration cells no exercise needs (tests/lean_notebooks.py), as a student who deleted
    them would."""
    submissions.submit(root, "solution", lesson, submissions.answered(root, lesson))
    submissions.submit(root, "blank", lesson, submissions.blank(root, lesson))
    submissions.submit(root, OVERWRITES_ITS_ARGUMENTS, lesson, argument_scrambling.overwriting_solution(root, lesson))
    wrong_packs = {}
    for number, pack in enumerate(submissions.packs(root, lesson, submissions.wrong_answers(root, lesson))):
        student = f"wrong_{number:02d}"
        submissions.submit(root, student, lesson,
                           lean(submissions.answered(root, lesson, {w.cell: w.code for w in pack})))
        wrong_packs[student] = pack
    alternative_packs = {}
    alternatives = submissions.alternative_answers(root, lesson)
    for number, pack in enumerate(submissions.alternative_packs(alternatives)):
        student = f"alternatives_{number:02d}"
        submissions.submit(root, student, lesson,
                           lean(submissions.answered(root, lesson, {a.cell: a.code for a in pack})))
        alternative_packs[student] = pack
    jobs = 1 if os.environ.get("PYTEST_XDIST_WORKER") else None  # xdist already fills the cores
    results = {r.student: r for r in grade(root, jobs=jobs, overrides=own_code_overrides(),
                                           progress=False)}
    return GradedLesson(root, lesson, results, wrong_packs, alternative_packs)


NBGRADERS_ALEMBIC_VERSION = nbgrader.api.get_alembic_version  # before the fixture below stands in


def alembic_head():
    """The gradebook schema's newest alembic revision, as nbgrader's get_alembic_version answers
    it (`alembic heads` in a subprocess that imports all of nbgrader: seconds), but asked of
    alembic's API in this process, from the same alembic.ini."""
    with nbgrader.api._temp_alembic_ini("sqlite:////tmp/gradebook.db") as alembic_ini:
        return ScriptDirectory.from_config(AlembicConfig(alembic_ini)).get_current_head()


@pytest.fixture(scope="session", autouse=True)
def alembic_head_asked_in_process():
    """nbgrader asks `alembic heads` for every new gradebook; the tests' gradebooks get the
    same answer from alembic_head (tests/test_gradebook_schema.py holds them equal)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nbgrader.api, "get_alembic_version", functools.cache(alembic_head))
        yield


def copy_course(course, target):
    """A copy of the course directory `course` at `target` (new); returns `target`."""
    return Path(shutil.copytree(course, target))


@pytest.fixture(scope="session")
def released_course(tmp_path_factory):
    """A scratch course with lesson 01 released (nbgrader generate_assignment, no kernel) and no
    submissions; its gradebook knows the lesson. Made once per session and shared: copy it
    (course_copy, copy_course) before changing anything in it."""
    root = make_course(REPOSITORY_ROOT, tmp_path_factory.mktemp("released") / "course",
                       ["01_parameters"])
    release(root, ["01_parameters"], update_readme=False)
    return root


@pytest.fixture
def course_copy(released_course, tmp_path):
    """A fresh copy of released_course, nobody submitted or graded yet."""
    return copy_course(released_course, tmp_path / "course")


@pytest.fixture(scope="session")
def released_tiny_course(tmp_path_factory):
    """tests/tiny_course.py's course (one lesson that needs no TensorFlow) released, no
    submissions; made once per session and shared: copy it (copy_course) before changing it."""
    return tiny_course.make_tiny_course(tmp_path_factory.mktemp("tiny") / "course")


@pytest.fixture(scope="session")
def graded_lesson(tmp_path_factory):
    """graded_lesson(lesson): a scratch course where the lesson was released and its example
    submissions (solution, blank, every catalogued wrong answer, every alternative correct
    answer) were graded."""
    cache = {}

    def get(lesson):
        if lesson not in cache:
            root = make_course(REPOSITORY_ROOT, tmp_path_factory.mktemp(lesson), [lesson])
            release(root, [lesson], update_readme=False)
            cache[lesson] = _grade_examples(root, lesson)
        return cache[lesson]

    return get


@pytest.fixture(scope="session")
def postgres_admin_url():
    """The URL of a PostgreSQL server whose user may create databases: COURSE_TEST_POSTGRES_URL
    (.ci/run sets it), else a scratch server started for this session. Skips with the reason
    where neither can be had, except in CI (the environment variable CI set), where it fails."""
    if os.environ.get(postgres_server.URL_VARIABLE):
        url = os.environ[postgres_server.URL_VARIABLE]
        try:
            make_url(url)
        except ArgumentError:
            pytest.fail(f"{postgres_server.URL_VARIABLE} is not a database URL: {url!r}")
        yield url
        return
    problem = postgres_server.why_no_server()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    with postgres_server.scratch_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_admin_url):
    """A new, empty database on that server (SQLAlchemy URL, driver psycopg), dropped afterwards."""
    url = postgres_server.new_database(postgres_admin_url)
    yield url
    postgres_server.drop_database(postgres_admin_url, url)
