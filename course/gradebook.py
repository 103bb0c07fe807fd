"""The gradebook (nbgrader's database): who is in it, what each submission scored, grades.csv."""
import shutil
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from course.errors import CourseError
from course.nbgrader_api import course_directory, tools_on_path
from course.paths import step_folder
from course.spreadsheet import SafeCsvExportPlugin

GRADES_CSV = "grades.csv"


def gradebook(root, coursedir=None):
    """nbgrader's Gradebook of the course, as a context manager (where there is no database yet,
    nbgrader creates it and runs `alembic`)."""
    tools_on_path()
    coursedir = coursedir or course_directory(root)
    return Gradebook(coursedir.db_url, coursedir.course_id)


def prepare(root, pairs):
    """Check that every lesson of `pairs` [(student, lesson)] is released (CourseError if not)
    and add the students. Done before the workers start: two workers adding the same student
    at once would fail on the gradebook's unique key."""
    with gradebook(root) as gb:
        for lesson in sorted({lesson for _, lesson in pairs}):
            try:
                gb.find_assignment(lesson)
            except MissingEntry:
                raise CourseError(f"{lesson} is not in the gradebook: run `course release "
                                  f"{lesson}` first") from None
        for student in sorted({student for student, _ in pairs}):
            gb.update_or_create_student(student)


def forget(root, coursedir, student, lesson):
    """Remove the submission's score, autograded copy and feedback of any earlier run."""
    with gradebook(root, coursedir) as gb:
        try:
            gb.remove_submission(lesson, student)
        except MissingEntry:
            pass
    for step in (coursedir.autograded_directory, coursedir.feedback_directory):
        shutil.rmtree(step_folder(coursedir, step, student, lesson), ignore_errors=True)


def score(root, student, lesson):
    """(score, max_score) of a submission: (0, max) if it has no score, (0, 0) for an unknown lesson."""
    with gradebook(root) as gb:
        try:
            maximum = gb.find_assignment(lesson).max_score
        except MissingEntry:
            maximum = 0.0
        try:
            return gb.find_submission(lesson, student).score, maximum
        except MissingEntry:
            return 0.0, maximum


def submission_score(root, lesson, student):
    """(score, max_score) of one submission, or None if it was never autograded."""
    with gradebook(root) as gb:
        try:
            submission = gb.find_submission(lesson, student)
        except MissingEntry:
            return None
        return submission.score, submission.max_score


def cell_scores(root, lesson, student):
    """{grade_id: (score, max_score)} of one autograded submission; {} if there is none."""
    with gradebook(root) as gb:
        try:
            notebook = gb.find_submission_notebook(lesson, lesson, student)
        except MissingEntry:
            return {}
        return {grade.name: (grade.score, grade.max_score) for grade in notebook.grades}


def export_csv(root):
    """grades.csv of the whole gradebook (nbgrader's columns, spreadsheet-safe cells), in the
    course directory; returns its path."""
    path = Path(root) / GRADES_CSV
    with gradebook(root) as gb:
        SafeCsvExportPlugin(to=str(path)).export(gb)
    return path


def set_flagged(root, student, lesson, flagged=True):
    """Mark the autograded submission's notebook as flagged for review (nbgrader's own flag,
    the one formgrader shows) or clear the mark."""
    with gradebook(root) as gb:
        notebook = gb.find_submission_notebook(lesson, lesson, student)
        notebook.flagged = flagged
        gb.db.commit()


def is_withheld(gb, lesson, student):
    """Whether the submission's score is withheld: one of its notebooks is flagged for review."""
    try:
        return any(notebook.flagged for notebook in gb.find_submission(lesson, student).notebooks)
    except MissingEntry:
        return False


def review(root, student, lesson, accept):
    """The instructor's decision on a flagged submission: accepted, its autograded score stands;
    rejected, every graded cell gets a manual score of 0. Either way the flag is cleared and the
    score is exported again. Returns the submission's score; CourseError if it is not flagged."""
    with gradebook(root) as gb:
        try:
            submission = gb.find_submission(lesson, student)
        except MissingEntry:
            raise CourseError(f"{student} has no graded submission of {lesson}") from None
        if not any(notebook.flagged for notebook in submission.notebooks):
            raise CourseError(f"{student}'s {lesson} is not flagged for review")
        for notebook in submission.notebooks:
            if not accept:
                for grade in notebook.grades:
                    grade.manual_score = 0.0
            notebook.flagged = False
        gb.db.commit()
        return gb.find_submission(lesson, student).score
