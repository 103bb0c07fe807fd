"""What travels to a Dask worker and back, without a kernel: a submission folder packed on the
instructor's machine and unpacked in a worker's scratch course is taken in exactly as the
original (links, pipes and renamed copies included), and a submission's grades carried from
one gradebook to another read back the same."""
import os
import subprocess
import sys

import nbformat
import psutil
import pytest
import tiny_course
from conftest import copy_course
from nbgrader.api import Gradebook

from course import remote_job
from course.gradebook import gradebook
from course.gradebook_transfer import assignment_only_gradebook, store_submission, submission_record
from course.intake import take_in
from course.nbgrader_api import course_directory
from course.remote_job import scratch_course
from course.shipment import folder_files, lesson_kit, pack_submission, write_files

LESSON = tiny_course.LESSON


@pytest.fixture
def course(released_tiny_course, tmp_path):
    return copy_course(released_tiny_course, tmp_path / "course")


def _folder(root, student):
    folder = root / "submitted" / student / LESSON
    folder.mkdir(parents=True)
    return folder


def _odd_class(root, elsewhere):
    """Submission folders the intake treats each in its own way."""
    answered = nbformat.writes(tiny_course.answered(root))
    tiny_course.submit(root, "plain", tiny_course.answered(root))
    folder = _folder(root, "extras")
    (folder / f"{LESSON}.ipynb").write_text(answered)
    (folder / "timestamp.txt").write_text("2026-03-02 10:00:00 UTC")
    (folder / "notes.txt").write_text("x" * 5000)
    (folder / "data").mkdir()
    (_folder(root, "renamed") / f"Copy of {LESSON}.ipynb").write_text(answered)
    (_folder(root, "linked") / f"{LESSON}.ipynb").symlink_to(root / "gradebook.db")
    os.mkfifo(_folder(root, "piped") / f"{LESSON}.ipynb")
    (_folder(root, "empty") / f"{LESSON}.ipynb").write_bytes(b"")
    (_folder(root, "corrupt") / f"{LESSON}.ipynb").write_text('{"cells": [ oops')
    hard = _folder(root, "hardlinked") / f"{LESSON}.ipynb"
    hard.write_text(answered)
    os.link(hard, elsewhere / "second-name.ipynb")
    (_folder(root, "nothing") / "readme.md").write_text("no notebook")
    (elsewhere / "folder").mkdir()
    (root / "submitted" / "folder_link").mkdir()
    (root / "submitted" / "folder_link" / LESSON).symlink_to(elsewhere / "folder")
    return ["plain", "extras", "renamed", "linked", "piped", "empty", "corrupt", "hardlinked",
            "nothing", "folder_link"]


def _taken(root, coursedir, student):
    intake = take_in(root, coursedir, student, LESSON)
    cells = [cell.source for cell in intake.notebook.cells] if intake.notebook else None
    return str(intake.status), intake.notes, cells


def test_a_shipped_submission_is_taken_in_as_the_original(course, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    students = _odd_class(course, elsewhere)
    coursedir = course_directory(course)
    kit = lesson_kit(course, LESSON, coursedir)
    statuses = set()
    for student in students:
        original = _taken(course, coursedir, student)
        scratch = tmp_path / "scratch" / student
        scratch.mkdir(parents=True)
        root, _, scratch_dir = scratch_course(kit, pack_submission(coursedir, student, LESSON), scratch)
        assert _taken(root, scratch_dir, student) == original, student
        statuses.add(original[0])
    assert statuses >= {"graded", "corrupt", "empty", "missing"}


def test_a_file_shared_by_two_students_travels_as_their_own_and_says_with_whom(course, tmp_path):
    """As the local intake flags it (course.intake.take_in): each student's submission is sent
    as a file of its own, with the other student named, for course.engine to flag the Result."""
    tiny_course.submit(course, "honest", tiny_course.answered(course))
    honest = course / "submitted" / "honest" / LESSON / f"{LESSON}.ipynb"
    os.link(honest, _folder(course, "copier") / f"{LESSON}.ipynb")
    coursedir = course_directory(course)
    for student, other in (("honest", "copier"), ("copier", "honest")):
        shipped = pack_submission(coursedir, student, LESSON)
        assert shipped.sharing == [other]
        assert [(e.name, e.links, e.data == honest.read_bytes()) for e in shipped.entries] == [
            (f"{LESSON}.ipynb", 1, True)]
        (tmp_path / student).mkdir()
        root, _, scratch_dir = scratch_course(lesson_kit(course, LESSON, coursedir), shipped,
                                              tmp_path / student)
        assert str(take_in(root, scratch_dir, student, LESSON).status) == "graded"


def test_extra_files_travel_by_name_only(course):
    folder = _folder(course, "extras")
    (folder / f"{LESSON}.ipynb").write_text(nbformat.writes(tiny_course.answered(course)))
    (folder / "big.bin").write_bytes(b"\0" * 100_000)
    shipped = {entry.name: entry for entry in pack_submission(course_directory(course), "extras", LESSON).entries}
    assert shipped["big.bin"].data == b"" and shipped[f"{LESSON}.ipynb"].data


def test_the_kit_gradebook_holds_the_assignment_and_no_student(course, tmp_path):
    kit = lesson_kit(course, LESSON)
    (tmp_path / "kit.db").write_bytes(kit.gradebook)
    with Gradebook(f"sqlite:///{tmp_path / 'kit.db'}", kit.course_id) as copy, gradebook(course) as real:
        assert copy.students == []
        mine, theirs = copy.find_assignment(LESSON), real.find_assignment(LESSON)
        assert mine.max_score == theirs.max_score == tiny_course.FULL
        for kind in ("grade_cells", "solution_cells", "source_cells"):
            cells = {c.name: {k: v for k, v in c.to_dict().items() if k != "id"}
                     for c in getattr(mine.notebooks[0], kind)}
            assert cells == {c.name: {k: v for k, v in c.to_dict().items() if k != "id"}
                             for c in getattr(theirs.notebooks[0], kind)}, kind
            assert cells


def test_a_submission_record_is_stored_as_it_was_read(course, tmp_path):
    with gradebook(course) as real:
        assignment_only_gradebook(real, LESSON, f"sqlite:///{tmp_path / 'worker.db'}", "nn-basics")
    with Gradebook(f"sqlite:///{tmp_path / 'worker.db'}", "nn-basics") as worker:
        worker.update_or_create_student("ada")
        submission = worker.add_submission(LESSON, "ada", timestamp="2026-03-02 10:00:00 UTC")
        notebook = submission.notebooks[0]
        notebook.flagged = True
        for number, grade in enumerate(notebook.grades):
            grade.auto_score, grade.needs_manual_grade = float(number), False
        notebook.comments[0].auto_comment = "No response."
        worker.db.commit()
        graded = len(notebook.grades)
        record = submission_record(worker, LESSON, "ada")
    assert record["notebooks"][LESSON]["flagged"] and record["timestamp"].year == 2026
    with gradebook(course) as real:
        real.update_or_create_student("ada")
        assert submission_record(real, LESSON, "ada") is None
        store_submission(real, LESSON, "ada", record)
    with gradebook(course) as real:
        assert submission_record(real, LESSON, "ada") == record
        assert real.find_submission(LESSON, "ada").score == sum(range(graded))


def test_returned_files_stay_inside_their_folder(tmp_path):
    write_files(tmp_path / "autograded", {"a/b.ipynb": b"1", "timestamp.txt": b"2"})
    assert folder_files(tmp_path / "autograded") == {"a/b.ipynb": b"1", "timestamp.txt": b"2"}
    for bad in ("../escape.txt", "/etc/escape.txt", "a/../../escape.txt"):
        with pytest.raises(ValueError, match="outside"):
            write_files(tmp_path / "autograded", {bad: b"x"})
    assert not (tmp_path / "escape.txt").exists()


def test_a_workers_grading_process_ends_with_the_worker(tmp_path):
    """A Dask worker's pool of grading processes (course.remote_job): when the worker is killed,
    its idle grading process ends too instead of waiting for jobs for ever."""
    script = ("import os, time\nfrom course import remote_job\n"
              "print(remote_job._executor().submit(os.getpid).result(), flush=True)\ntime.sleep(600)\n")
    worker = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        child = psutil.Process(int(worker.stdout.readline()))
        assert child.ppid() == worker.pid
    finally:
        worker.kill()
        worker.wait()
    try:
        child.wait(timeout=20 * remote_job.PARENT_CHECK_SECONDS)
    except psutil.TimeoutExpired:
        child.kill()
        pytest.fail(f"the grading process {child.pid} outlived its worker")
