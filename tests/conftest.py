import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore", message=".*not in session.*")

from course import submissions  # noqa: E402
from course.demo import make_course  # noqa: E402
from course.grade import grade  # noqa: E402
from course.paths import REPOSITORY_ROOT, lesson_ids  # noqa: E402
from course.release import release  # noqa: E402
from course.sandbox import sandbox_problem  # noqa: E402

LESSONS = lesson_ids(REPOSITORY_ROOT)


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


def _grade_examples(root, lesson):
    submissions.submit(root, "solution", lesson, submissions.answered(root, lesson))
    submissions.submit(root, "blank", lesson, submissions.blank(root, lesson))
    for wrong in submissions.wrong_answers(root, lesson):
        submissions.submit(root, f"wrong_{wrong.name}", lesson,
                           submissions.with_wrong_answer(root, lesson, wrong))
    broken, _ = submissions.with_syntax_error(root, lesson)
    submissions.submit(root, "syntax_error", lesson, broken)
    jobs = 1 if os.environ.get("PYTEST_XDIST_WORKER") else None  # xdist already fills the cores
    # These submissions are the course's own code; test_grading.py requires the sandbox.
    sandbox = sandbox_problem() is None
    return {r.student: r for r in grade(root, jobs=jobs, sandbox=sandbox, progress=False)}


@pytest.fixture(scope="session")
def graded_lesson(tmp_path_factory):
    """graded_lesson(lesson): a scratch course where the lesson was released and its example
    submissions (solution, blank, every wrong answer, a syntax error) were graded."""
    cache = {}

    def get(lesson):
        if lesson not in cache:
            root = make_course(REPOSITORY_ROOT, tmp_path_factory.mktemp(lesson), [lesson])
            release(root, [lesson], update_readme=False)
            cache[lesson] = GradedLesson(root, lesson, _grade_examples(root, lesson))
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
