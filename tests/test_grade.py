"""course.grade without a kernel: the gradebook is ready before the workers start, grading
refuses what it cannot do, a job's failure is that job's status, and a class of unreadable
files still ends with grades.csv and the report."""
import csv

import job_helpers
import nbformat
import pytest

from course import gradebook, job
from course.cli import main
from course.errors import CourseError
from course.grade import NO_SANDBOX, _run_jobs, grade
from course.status import Status

LESSON = "01_parameters"


@pytest.fixture
def course(course_copy):
    return course_copy


def test_students_are_in_the_gradebook_before_the_workers_start(course):
    """Two workers adding the same new student at once collide on the gradebook's unique key."""
    gradebook.prepare(course, [("cy", LESSON), ("di", LESSON)])
    with gradebook.gradebook(course) as gb:
        assert {student.id for student in gb.students} == {"cy", "di"}


def test_an_unreleased_lesson_is_refused(course):
    with pytest.raises(CourseError, match="run `course release 02_activations` first"):
        gradebook.prepare(course, [("cy", "02_activations")])


def test_grading_refuses_without_bubblewrap_unless_told(course, monkeypatch, capsys):
    from course import sandbox
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    with pytest.raises(CourseError, match="apt-get install bubblewrap"):
        grade(course, progress=False)
    assert main(["grade", "--root", str(course)]) == 2
    assert "--no-sandbox" in capsys.readouterr().err
    with pytest.raises(CourseError, match="nothing to grade"):  # past the sandbox check
        grade(course, overrides=NO_SANDBOX, progress=False)


def _submit_bytes(root, student, content, name=f"{LESSON}.ipynb"):
    folder = root / "submitted" / student / LESSON
    folder.mkdir(parents=True)
    if content is not None:
        (folder / name).write_bytes(content)


def test_a_class_of_unreadable_files_still_gets_grades_csv_and_the_report(course):
    _submit_bytes(course, "nothing", None)
    _submit_bytes(course, "empty", b"")
    _submit_bytes(course, "corrupt", b'{"cells": [ oops')
    _submit_bytes(course, "not_a_notebook", b'{"cells": 3}')
    results = {r.student: r for r in grade(course, jobs=1, overrides=NO_SANDBOX, progress=False)}
    assert {s: r.status for s, r in results.items()} == {
        "nothing": Status.MISSING, "empty": Status.EMPTY, "corrupt": Status.CORRUPT,
        "not_a_notebook": Status.CORRUPT}
    with open(course / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert rows == dict.fromkeys(results, 0.0)
    report = (course / "reports" / "report.html").read_text(encoding="utf-8")
    # A student's row, not just the name: "empty" and "corrupt" are also statuses in the report.
    assert [s for s in results if f"<tr><td>{s}</td><td>{LESSON}</td>" not in report] == []


def test_an_exception_inside_a_job_is_that_jobs_failed_status(course, monkeypatch):
    _submit_bytes(course, "ada", nbformat.writes(nbformat.v4.new_notebook()).encode())
    gradebook.prepare(course, [("ada", LESSON)])
    job.init_worker(str(course), NO_SANDBOX)

    def broken_intake(*args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(job, "take_in", broken_intake)
    result = job.grade_one(str(course), "ada", LESSON)
    assert result.status is Status.FAILED
    assert result.reason.endswith("RuntimeError: disk on fire")
    assert (result.score, result.max_score) == (0.0, 13.0)


def test_a_failing_clean_up_does_not_hide_why_the_job_failed(course, monkeypatch):
    _submit_bytes(course, "ada", nbformat.writes(nbformat.v4.new_notebook()).encode())
    gradebook.prepare(course, [("ada", LESSON)])
    job.init_worker(str(course), NO_SANDBOX)

    def fails(message):
        def call(*args):
            raise RuntimeError(message)
        return call

    monkeypatch.setattr(job, "take_in", fails("disk on fire"))
    monkeypatch.setattr(job.gradebook, "forget", fails("gradebook locked"))
    result = job.grade_one(str(course), "ada", LESSON)
    assert result.status is Status.FAILED
    assert "RuntimeError: disk on fire" in result.notes[0]
    assert "RuntimeError: gradebook locked" in result.notes[1]


def test_a_job_that_kills_its_worker_fails_alone(tmp_path):
    """The pool around the jobs: "killer" ends its worker, and so the pool with "bo" still
    queued, twice; "bo" is tried again and graded. The workers are not set up as graders
    (setup=None), so that each of the three pools starts in a fraction of a second instead of
    importing nbgrader; test_a_class_of_unreadable_files_still_gets_grades_csv_and_the_report
    runs the real set-up and job through grade()."""
    pairs = [(student, LESSON) for student in ("ada", "killer", "bo")]
    results = _run_jobs(tmp_path, pairs, jobs=1, overrides=NO_SANDBOX, progress=False,
                        job=job_helpers.exit_for_killer, setup=None)
    assert [(r.student, r.status) for r in results] == [
        ("ada", Status.GRADED), ("bo", Status.GRADED), ("killer", Status.FAILED)]
    assert "worker" in results[-1].reason


def test_a_job_that_raises_past_its_guard_fails_alone(tmp_path):
    pairs = [(student, LESSON) for student in ("ada", "quitter", "crasher")]
    results = _run_jobs(tmp_path, pairs, jobs=1, overrides=NO_SANDBOX, progress=False,
                        job=job_helpers.raise_past_the_guard, setup=None)
    assert [(r.student, r.status) for r in results] == [
        ("ada", Status.GRADED), ("crasher", Status.FAILED), ("quitter", Status.FAILED)]
    assert results[1].reason.endswith("RuntimeError: disk on fire")
    assert results[2].reason.endswith("SystemExit: 3")


def test_a_worker_whose_set_up_fails_says_why_for_each_job(tmp_path):
    pairs = [(student, LESSON) for student in ("ada", "bo")]
    results = _run_jobs(tmp_path, pairs, jobs=1, overrides=NO_SANDBOX, progress=False,
                        setup=job_helpers.broken_setup)
    assert [(r.student, r.status) for r in results] == [("ada", Status.FAILED), ("bo", Status.FAILED)]
    assert all(r.reason.endswith("the worker's set-up: RuntimeError: nbgrader_config.py: broken")
               for r in results)


def test_the_report_is_written_even_where_grades_csv_cannot_be(course, monkeypatch):
    _submit_bytes(course, "empty", b"")
    monkeypatch.setattr(gradebook, "export_csv", lambda root: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        grade(course, jobs=1, overrides=NO_SANDBOX, progress=False)
    assert "empty" in (course / "reports" / "report.html").read_text(encoding="utf-8")


def test_a_worker_starts_with_the_environment_directory_and_path_of_now(tmp_path, monkeypatch):
    """The workers are forked from a fork server that outlives one pool: each new pool's workers
    still see the environment, the working directory and sys.path as they are when it starts."""
    pairs = [("ada", LESSON)]
    _run_jobs(tmp_path, pairs, jobs=1, overrides=NO_SANDBOX, progress=False,
              job=job_helpers.where_am_i, setup=None)  # the fork server is running from here on
    monkeypatch.setenv("COURSE_TEST_MARK", "now")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path / "extra"))
    (result,) = _run_jobs(tmp_path, pairs, jobs=1, overrides=NO_SANDBOX, progress=False,
                          job=job_helpers.where_am_i, setup=None)
    mark, directory, path = result.notes
    assert (mark, directory, path[0]) == ("now", str(tmp_path), str(tmp_path / "extra"))
