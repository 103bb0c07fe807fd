"""`course demo`: a scratch course with three example students, graded end to end."""
import shutil
import tempfile
from pathlib import Path

from course import submissions
from course.errors import CourseError
from course.grade import grade
from course.gradebook import GRADES_CSV
from course.paths import feedback_html, feedback_root, source_notebook
from course.release import release
from course.report import REPORTS, score_table

STUDENTS = ("demo_correct", "demo_partly_wrong", "demo_syntax_error")


def make_course(repository_root, workdir, lessons):
    """A fresh course directory holding this course's config and the chosen lessons' sources;
    CourseError if `workdir` exists and is not empty."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if any(workdir.iterdir()):
        raise CourseError(f"{workdir} is not empty; give an empty or new directory")
    shutil.copy(Path(repository_root) / "nbgrader_config.py", workdir)
    for lesson in lessons:
        shutil.copytree(source_notebook(repository_root, lesson).parent,
                        source_notebook(workdir, lesson).parent)
    return workdir


def submit_examples(root, lesson):
    """One correct, one partly wrong, one syntax-error submission of a released lesson."""
    submissions.submit(root, STUDENTS[0], lesson, submissions.answered(root, lesson))
    mistakes = submissions.wrong_answers(root, lesson)
    if mistakes:
        partly = submissions.with_wrong_answer(root, lesson, mistakes[0])
    else:  # no catalogued mistake: leave the first exercise unanswered
        first = next(iter(submissions.solutions(root, lesson)))
        partly = submissions.answered(root, lesson, {first: "raise NotImplementedError()"})
    submissions.submit(root, STUDENTS[1], lesson, partly)
    broken, _ = submissions.with_syntax_error(root, lesson)
    submissions.submit(root, STUDENTS[2], lesson, broken)


def demo(repository_root, lessons, workdir=None, jobs=None, overrides=None, progress=True):
    """Release `lessons` into a scratch course, submit three example students, grade them and
    print the score table; returns (course root, results, table)."""
    root = make_course(repository_root, workdir or tempfile.mkdtemp(prefix="course-demo-"), lessons)
    print(f"demo course: {root}")
    release(root, lessons, update_readme=False)
    for lesson in lessons:
        submit_examples(root, lesson)
    results = grade(root, jobs=jobs, overrides=overrides, progress=progress)
    table = score_table(results)
    print()
    print(table.to_string())
    print()
    print(f"grades CSV: {root / GRADES_CSV}")
    print(f"report:     {root / REPORTS / 'report.html'}")
    print(f"feedback:   {feedback_html(root, STUDENTS[1], lessons[0])} (and the others in "
          f"{feedback_root(root)})")
    return root, results, table
