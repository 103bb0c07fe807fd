"""A whole autograde is bounded by wall-clock time (no kernel): a job that runs past its limit
is stopped, its kernels are killed, and it becomes that job's FAILED status."""
import time

import pytest
import tiny_course
from conftest import copy_course

from course import job
from course.grade import NO_SANDBOX
from course.nbgrader_api import load_config
from course.paths import REPOSITORY_ROOT
from course.status import Status


@pytest.fixture(scope="module")
def course(released_tiny_course, tmp_path_factory):
    return copy_course(released_tiny_course, tmp_path_factory.mktemp("limits") / "course")


def test_the_job_limit_comes_from_nbgrader_config():
    config = load_config(REPOSITORY_ROOT)
    assert job.job_seconds(config) == (config.ResilientExecute.max_seconds
                                       + config.Execute.startup_timeout + config.GradeEngine.job_margin_seconds)
    config.ResilientExecute.max_seconds, config.Execute.startup_timeout = 10, 20
    config.GradeEngine.job_margin_seconds = 5
    assert job.job_seconds(config) == 35


def test_a_job_past_its_time_limit_fails_alone_and_its_kernels_are_killed(course, monkeypatch):
    job.init_worker(str(course), NO_SANDBOX)
    monkeypatch.setitem(job._worker, "seconds", 0.25)
    killed = []
    monkeypatch.setattr(job, "kill_kernels", lambda: killed.append(True))

    def stuck(*args):
        time.sleep(30)

    monkeypatch.setattr(job, "_grade", stuck)
    start = time.perf_counter()
    result = job.grade_one(str(course), "slow", tiny_course.LESSON)
    assert time.perf_counter() - start < 10
    assert result.status is Status.FAILED and "time limit" in result.reason
    assert killed == [True]
    assert (result.score, result.max_score) == (0.0, float(tiny_course.FULL))


def test_a_time_limit_that_nbgrader_caught_is_still_the_jobs_failure(course, monkeypatch):
    job.init_worker(str(course), NO_SANDBOX)
    monkeypatch.setitem(job._worker, "seconds", 0.25)
    monkeypatch.setattr(job, "kill_kernels", lambda: None)

    def swallowing(root, student, lesson):  # as nbgrader's convert_notebooks does
        try:
            time.sleep(30)
        except Exception:  # noqa: BLE001
            pass
        return job.Result(student, lesson, Status.FAILED, notes=["nbgrader: JobTimeLimit"])

    monkeypatch.setattr(job, "_grade", swallowing)
    result = job.grade_one(str(course), "slow", tiny_course.LESSON)
    assert result.status is Status.FAILED and "time limit" in result.reason


def test_the_time_limit_is_lifted_after_the_job(course, monkeypatch):
    job.init_worker(str(course), NO_SANDBOX)
    monkeypatch.setitem(job._worker, "seconds", 1)
    monkeypatch.setattr(job, "_grade", lambda root, student, lesson: job.Result(
        student, lesson, Status.GRADED, score=5.0, max_score=5.0))
    assert job.grade_one(str(course), "quick", tiny_course.LESSON).status is Status.GRADED
    time.sleep(1.5)  # an alarm left armed would raise here
