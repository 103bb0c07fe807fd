"""`course grade --scheduler`: a real Dask scheduler and two workers (separate processes, TCP on
localhost, seeing nothing of the course directory) grade the tiny course's class and give what
local workers give; everything comes back into the instructor's course, and the student kernels
ran in the sandbox on the workers."""
import csv
import os
import re

import dask_cluster
import nbformat
import pytest
import tiny_course
from conftest import copy_course, needs_bubblewrap

from course.cli import main
from course.errors import CourseError
from course.grade import grade
from course.gradebook import cell_scores

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dask"), needs_bubblewrap]
LESSON = tiny_course.LESSON
# An answer that reports where its kernel runs: the sandbox's working directory and uid.
WHERE = ("import os\nprint('where:', os.getcwd(), os.getuid(), os.path.exists({root!r}))\n"
         + tiny_course.SOLUTIONS["sub"])


@pytest.fixture(scope="module")
def courses(tmp_path_factory):
    """Where the tests' course directories are: a folder the workers see empty."""
    return tmp_path_factory.mktemp("courses")


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory, courses):
    with dask_cluster.local_cluster(tmp_path_factory.mktemp("dask") / "cluster", workers=2,
                                    hide=[courses]) as address:
        yield address


def _seen_by_workers(address, path):
    """{worker: whether `path` exists there}."""
    from distributed import Client
    with Client(address) as client:
        return client.run(os.path.exists, str(path))


def _class(root):
    earned = tiny_course.submit_class(root)
    tiny_course.submit(root, "sam", tiny_course.answered(root, {"sub": WHERE.format(root=str(root))}))
    return {**earned, "sam": tiny_course.FULL}


def _outcome(root, results):
    with open(root / "grades.csv", newline="") as handle:
        rows = sorted(tuple(sorted((k, v) for k, v in row.items() if k != "timestamp"))
                      for row in csv.DictReader(handle))
    return ({r.student: (str(r.status), r.score, r.max_score, r.notes) for r in results},
            {r.student: cell_scores(root, LESSON, r.student) for r in results}, rows)


def _printed(root, student):
    nb = nbformat.read(root / "autograded" / student / LESSON / f"{LESSON}.ipynb", as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_a_dask_cluster_grades_the_class_as_local_workers_do(released_tiny_course, courses, scheduler):
    local = copy_course(released_tiny_course, courses / "local")
    earned = _class(local)
    expected = _outcome(local, grade(local, jobs=2, progress=False))
    assert {s: outcome[1] for s, outcome in expected[0].items()} == earned

    remote = copy_course(released_tiny_course, courses / "remote")
    _class(remote)
    seen = _seen_by_workers(scheduler, remote / "submitted")
    assert len(seen) == 2 and not any(seen.values())  # no shared disk
    results = grade(remote, overrides={"GradeEngine": {"scheduler_address": scheduler}}, progress=False)
    assert _outcome(remote, results) == expected

    for student, (status, *_) in expected[0].items():
        page = remote / "feedback" / student / LESSON / f"{LESSON}.html"
        assert page.is_file() == (status == "graded"), student
        if page.is_file():
            assert tiny_course.HIDDEN_MARKER not in page.read_text(encoding="utf-8")
    where = _printed(remote, "sam").split()
    assert where[:2] == ["where:", "/sandbox"], where  # the sandbox's working directory
    assert int(where[2]) != 0 and where[3] == "False"  # another uid, and no course directory
    assert not (remote / "autograded" / "di").exists()


def test_the_cli_sends_the_jobs_to_the_scheduler_named(released_tiny_course, courses, scheduler, capsys,
                                                       monkeypatch):
    """Also: an unexpected exception in one job, before it is sent ("bo") or while its outcome
    is stored ("cy"), is that job's failed status with the reason; ada is graded and the run
    ends with grades.csv and the report."""
    from course import engine

    def faulty(step, student):
        def call(*args, **kwargs):
            if student in args:
                raise RuntimeError(f"{step} broke for {student}")
            return getattr(engine, f"_real_{step}")(*args, **kwargs)
        monkeypatch.setattr(engine, f"_real_{step}", getattr(engine, step), raising=False)
        monkeypatch.setattr(engine, step, call)

    faulty("pack_submission", "bo")
    faulty("store_submission", "cy")
    root = copy_course(released_tiny_course, courses / "cli")
    for student in ("ada", "bo", "cy"):
        tiny_course.submit(root, student, tiny_course.answered(root))
    assert main(["grade", "--root", str(root), "--scheduler", scheduler]) == 1
    assert f"Dask: {scheduler}" in capsys.readouterr().err
    assert cell_scores(root, LESSON, "ada") == {name: (float(points), float(points))
                                                 for name, points in
                                                 {f"test_{n}": p for n, p in tiny_course.POINTS.items()}.items()}
    with open(root / "reports" / "status.csv", newline="") as handle:
        statuses = {row["student"]: row for row in csv.DictReader(handle)}
    assert {s: row["status"] for s, row in statuses.items()} == {
        "ada": "graded", "bo": "failed", "cy": "failed"}
    assert "RuntimeError: pack_submission broke for bo" in statuses["bo"]["details"]
    assert "RuntimeError: store_submission broke for cy" in statuses["cy"]["details"]
    with open(root / "grades.csv", newline="") as handle:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert scores["ada"] == tiny_course.FULL and scores.get("cy", 0.0) == 0.0
    assert (root / "reports" / "report.html").is_file()
    assert not (root / "autograded" / "cy" / LESSON).exists()


def test_an_unreachable_scheduler_is_said_before_grading(released_tiny_course, tmp_path, monkeypatch):
    from course import engine
    monkeypatch.setattr(engine, "CONNECT_SECONDS", 2)
    root = copy_course(released_tiny_course, tmp_path / "course")
    tiny_course.submit(root, "ada", tiny_course.answered(root))
    with pytest.raises(CourseError, match=re.escape("cannot reach the Dask scheduler at tcp://127.0.0.1:9")):
        grade(root, overrides={"GradeEngine": {"scheduler_address": "tcp://127.0.0.1:9"}}, progress=False)
    assert not (root / "autograded").exists()
