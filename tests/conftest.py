import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore", message=".*not in session.*")

from course import submissions  # noqa: E402
from course.demo import make_course  # noqa: E402
from course.grade import NO_SANDBOX, grade  # noqa: E402
from course.paths import REPOSITORY_ROOT, lesson_ids  # noqa: E402
from course.release import release  # noqa: E402
from course.sandbox import sandbox_problem  # noqa: E402

LESSONS = lesson_ids(REPOSITORY_ROOT)
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
    """Grade the solution, the blank release, every catalogued wrong answer and every
    alternative correct answer. Wrong answers share submissions where no test cell can tell them
    apart (submissions.packs), alternatives share them one per cell (submissions.alternative_packs),
    so that a lesson costs a few autogrades instead of one per answer."""
    submissions.submit(root, "solution", lesson, submissions.answered(root, lesson))
    submissions.submit(root, "blank", lesson, submissions.blank(root, lesson))
    wrong_packs = {}
    for number, pack in enumerate(submissions.packs(root, lesson, submissions.wrong_answers(root, lesson))):
        student = f"wrong_{number:02d}"
        submissions.submit(root, student, lesson,
                           submissions.answered(root, lesson, {w.cell: w.code for w in pack}))
        wrong_packs[student] = pack
    alternative_packs = {}
    alternatives = submissions.alternative_answers(root, lesson)
    for number, pack in enumerate(submissions.alternative_packs(alternatives)):
        student = f"alternatives_{number:02d}"
        submissions.submit(root, student, lesson,
                           submissions.answered(root, lesson, {a.cell: a.code for a in pack}))
        alternative_packs[student] = pack
    jobs = 1 if os.environ.get("PYTEST_XDIST_WORKER") else None  # xdist already fills the cores
    results = {r.student: r for r in grade(root, jobs=jobs, overrides=own_code_overrides(),
                                           progress=False)}
    return GradedLesson(root, lesson, results, wrong_packs, alternative_packs)


@pytest.fixture(scope="session")
def released_lesson_01(tmp_path_factory):
    """A scratch course with lesson 01 released (nbgrader generate_assignment, no kernel), made
    once per session: copy it (course_copy) before changing it."""
    root = make_course(REPOSITORY_ROOT, tmp_path_factory.mktemp("released_01"), ["01_parameters"])
    release(root, ["01_parameters"], update_readme=False)
    return root


@pytest.fixture
def course_copy(released_lesson_01, tmp_path):
    """A fresh copy of the released lesson-01 course, nobody graded yet."""
    root = tmp_path / "course"
    shutil.copytree(released_lesson_01, root)
    return root


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
def released_course(tmp_path_factory):
    """A scratch course with lesson 01 released and no submissions (its gradebook knows the
    lesson). Shared: copy it (shutil.copytree) before changing anything in it."""
    root = make_course(REPOSITORY_ROOT, tmp_path_factory.mktemp("released") / "course",
                       ["01_parameters"])
    release(root, ["01_parameters"], update_readme=False)
    return root
