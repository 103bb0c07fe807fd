"""Intake takes in regular files only (no kernel): a submission that is a symlink, a named pipe,
a hard link to a file outside submitted/ or reached through a linked folder is refused without
being opened; one file under two students' names is taken in for both, flagged; and a timestamp
is copied only from a regular file that holds a date."""
import os
import threading

import pytest
import tiny_course
from conftest import copy_course
from tiny_course import LESSON

from course.intake import stage, submitted_timestamp, take_in, unusable_name
from course.nbgrader_api import course_directory
from course.status import Status
from course.untrusted import NotRegularFile, is_real_folder, other_names, read_regular


@pytest.fixture(scope="module")
def course(released_tiny_course, tmp_path_factory):
    root = copy_course(released_tiny_course, tmp_path_factory.mktemp("refusals") / "course")
    tiny_course.submit(root, "honest", tiny_course.answered(root))
    return root


def _take(course, student):
    """take_in in a thread: a refusal must come back, not block on a pipe."""
    result = {}
    thread = threading.Thread(target=lambda: result.update(
        intake=take_in(course, course_directory(course), student, LESSON)), daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), f"take_in blocked on {student}'s submission"
    return result["intake"]


def _folder(course, student):
    folder = course / "submitted" / student / LESSON
    folder.mkdir(parents=True)
    return folder


def _refused(intake):
    return (intake.status, intake.notebook is None,
            any("symlink or special file" in note for note in intake.notes))


def test_an_honest_submission_is_taken_in(course):
    intake = _take(course, "honest")
    assert intake.status is Status.GRADED and intake.notebook is not None


def test_a_notebook_linked_to_the_instructors_source_is_refused(course):
    folder = _folder(course, "linked_source")
    (folder / f"{LESSON}.ipynb").symlink_to(course / "source" / LESSON / f"{LESSON}.ipynb")
    assert _refused(_take(course, "linked_source")) == (Status.CORRUPT, True, True)


def test_a_renamed_notebook_that_is_a_link_is_refused(course):
    folder = _folder(course, "linked_renamed")
    (folder / "mine.ipynb").symlink_to(course / "submitted" / "honest" / LESSON / f"{LESSON}.ipynb")
    assert _refused(_take(course, "linked_renamed")) == (Status.CORRUPT, True, True)


@pytest.mark.parametrize("target", ["source/{lesson}/{lesson}.ipynb", "release/{lesson}/{lesson}.ipynb",
                                    "gradebook.db", "nbgrader_config.py"])
def test_a_hard_link_to_a_course_file_outside_submitted_is_refused(course, target):
    """Read through the link, the source notebook would be graded (full marks) and its
    solutions shown in the feedback."""
    student = "hard_" + target.split("/")[0].replace(".", "_")
    os.link(course / target.format(lesson=LESSON), _folder(course, student) / f"{LESSON}.ipynb")
    intake = _take(course, student)
    assert _refused(intake) == (Status.CORRUPT, True, True), intake.notes
    assert any("hard link" in note for note in intake.notes)


def test_one_file_under_two_students_names_is_graded_for_both_and_flagged(course):
    """A student hard-links another's submission into their own folder: neither is refused (the
    one whose file it was did nothing wrong); both are flagged with the other's name."""
    tiny_course.submit(course, "original", tiny_course.answered(course))
    os.link(course / "submitted" / "original" / LESSON / f"{LESSON}.ipynb",
            _folder(course, "copier") / f"{LESSON}.ipynb")
    for student, other in (("original", "copier"), ("copier", "original")):
        intake = _take(course, student)
        assert intake.status is Status.FLAGGED and intake.notebook is not None, (student, intake.notes)
        assert f"same file as {other}'s submission (hard link)" in intake.notes[0], intake.notes


def test_other_names_finds_every_hard_link_below_the_base_or_raises(tmp_path):
    (tmp_path / "base" / "a").mkdir(parents=True)
    (tmp_path / "base" / "b").mkdir()
    single = tmp_path / "base" / "a" / "single"
    single.write_text("x")
    assert other_names(single, tmp_path / "base") == []
    first = tmp_path / "base" / "a" / "first"
    first.write_text("y")
    os.link(first, tmp_path / "base" / "b" / "second")
    assert other_names(first, tmp_path / "base") == [tmp_path / "base" / "b" / "second"]
    os.link(first, tmp_path / "outside")
    with pytest.raises(NotRegularFile):
        other_names(first, tmp_path / "base")
    with pytest.raises(NotRegularFile):
        read_regular(first)  # three names, one expected
    assert read_regular(first, names=3) == b"y"


@pytest.mark.parametrize("name, unusable", [
    (".dotted", True), ("new\nline", True), ("kim ", True), (" kim", True), ("kim\u00a0", True),
    ("\u200bkim", True), ("kim\u200b", True), ("ki\u2060m", True), ("\u202ekim", True), ("\ufeffkim", True),
    # fillers and selectors that show as nothing, though not format characters (round 7)
    ("\u3164ada", True), ("\u115fada", True), ("ada\uffa0", True), ("a\ufe0fda", True), ("\u034fada", True),
    ("한글이름", False), ("ada😀", False),
    ("kim", False), ("bell\x07", False), ("-김 철수", False), ("a,b\"c", False), ("a.b", False),
])
def test_names_nbgrader_would_skip_or_strip_are_unusable(name, unusable):
    """nbgrader skips dotted names and names with a line break and strips spaces at either end;
    it keeps every other name, control characters included (tests/test_names_are_data.py)."""
    assert unusable_name(name) is unusable


def test_a_named_pipe_is_refused_without_blocking(course):
    folder = _folder(course, "pipe")
    os.mkfifo(folder / f"{LESSON}.ipynb")
    assert _refused(_take(course, "pipe")) == (Status.CORRUPT, True, True)


def test_a_lesson_folder_linked_to_another_students_is_refused(course):
    (course / "submitted" / "linked_folder").mkdir()
    (course / "submitted" / "linked_folder" / LESSON).symlink_to(course / "submitted" / "honest" / LESSON)
    assert _refused(_take(course, "linked_folder")) == (Status.CORRUPT, True, True)


def test_a_student_folder_linked_to_another_students_is_refused(course):
    (course / "submitted" / "linked_student").symlink_to(course / "submitted" / "honest")
    assert _refused(_take(course, "linked_student")) == (Status.CORRUPT, True, True)


def test_a_dangling_link_is_refused(course):
    folder = _folder(course, "dangling")
    (folder / f"{LESSON}.ipynb").symlink_to(course / "nowhere.ipynb")
    assert _refused(_take(course, "dangling")) == (Status.CORRUPT, True, True)


def test_read_regular_refuses_links_pipes_and_folders(tmp_path):
    (tmp_path / "file").write_bytes(b"data")
    (tmp_path / "link").symlink_to(tmp_path / "file")
    os.mkfifo(tmp_path / "pipe")
    assert read_regular(tmp_path / "file") == b"data"
    assert read_regular(tmp_path / "file", limit=2) == b"da"
    for name in ("link", "pipe", "."):
        with pytest.raises(NotRegularFile):
            read_regular(tmp_path / name)


def test_is_real_folder_sees_a_link_anywhere_below_the_base(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "a")
    assert is_real_folder(tmp_path / "a" / "b", tmp_path)
    assert not is_real_folder(tmp_path / "link" / "b", tmp_path)
    assert not is_real_folder(tmp_path / "link", tmp_path)
    assert not is_real_folder(tmp_path.parent, tmp_path)


@pytest.mark.parametrize("content, kept", [
    (b"2024-05-01 10:00:00.000000 UTC", "2024-05-01 10:00:00.000000 UTC"),
    (b"not a date", None),
    (b"\xff\xfe", None),
    (None, None),  # a symlink to the gradebook
])
def test_the_timestamp_is_copied_only_from_a_regular_file_with_a_date(course, tmp_path, content, kept):
    folder = tmp_path / "submission"
    folder.mkdir()
    if content is None:
        (folder / "timestamp.txt").symlink_to(course / "gradebook.db")
    else:
        (folder / "timestamp.txt").write_bytes(content)
    assert submitted_timestamp(folder) == kept


def test_stage_writes_the_timestamp_fresh_never_through_a_link(course):
    folder = _folder(course, "stamped")
    tiny_course.submit(course, "stamped", tiny_course.answered(course))
    (folder / "timestamp.txt").symlink_to(course / "gradebook.db")
    coursedir = course_directory(course)
    intake = take_in(course, coursedir, "stamped", LESSON)
    staged = stage(coursedir, ".grading/submitted", "stamped", LESSON, intake.notebook)
    assert sorted(p.name for p in staged.iterdir()) == [f"{LESSON}.ipynb"]
    (folder / "timestamp.txt").unlink()
    (folder / "timestamp.txt").write_text("2024-05-01 10:00:00 UTC")
    staged = stage(coursedir, ".grading/submitted", "stamped", LESSON, intake.notebook)
    assert not (staged / "timestamp.txt").is_symlink()
    assert (staged / "timestamp.txt").read_text() == "2024-05-01 10:00:00 UTC"
