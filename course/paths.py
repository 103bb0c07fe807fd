"""Where a course directory keeps what: nbgrader's layout (CourseDirectory) plus the lesson list."""
import glob
import os
import re
from pathlib import Path

from course.errors import CourseError

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
LESSON_ID = re.compile(r"^\d\d_[a-z0-9_]+$")


def course_root(path=None):
    """The course directory: the given one, else the current one, else this repository.

    Raises CourseError where none of them holds an nbgrader_config.py."""
    for candidate in ([Path(path)] if path else [Path.cwd(), REPOSITORY_ROOT]):
        if (candidate / "nbgrader_config.py").is_file():
            return candidate.resolve()
    where = path or f"{Path.cwd()} or {REPOSITORY_ROOT}"
    raise CourseError(f"nbgrader_config.py not found in {where}: is this a course directory?")


def lesson_ids(root):
    """Lessons in the source folder (source/), in course order (their ids start with the lesson number)."""
    coursedir = _coursedir(root)
    return sorted(p.name for p in step_folder(coursedir, coursedir.source_directory, ".", "").iterdir()
                  if p.is_dir() and LESSON_ID.match(p.name))


def select_lessons(root, wanted=None):
    """The lessons named in `wanted` (all if none), in course order; CourseError for an unknown one."""
    known = lesson_ids(root)
    unknown = sorted(set(wanted or []) - set(known))
    if unknown:
        raise CourseError(f"unknown lesson(s) {', '.join(unknown)}; lessons: {', '.join(known)}")
    return [lesson for lesson in known if not wanted or lesson in wanted]


def step_folder(coursedir, step, student, lesson):
    """nbgrader's folder of one step ("source", "release", "submitted", "autograded",
    "feedback", or a configured directory name) for a student's lesson."""
    return Path(coursedir.format_path(step, student, lesson))


def step_root(coursedir, step):
    """The deepest folder that holds every student's folders of that step: where nbgrader's
    directory_structure stops being the same for everyone (`submitted/` in the default layout,
    the course itself in "{student_id}/{nbgrader_step}/{assignment_id}")."""
    mark = "\0"
    path = coursedir.format_path(step, mark, mark)
    prefix = path[:path.index(mark)]
    return Path(prefix) if prefix.endswith(os.sep) else Path(prefix).parent


def student_of(coursedir, step, path):
    """The id of the student whose folder of that step (for any lesson) holds `path`, read back
    through nbgrader's path format; None where `path` is in no student's folder of that step."""
    regex = coursedir.format_path(step, "(?P<student_id>[^/]+)", "[^/]+", escape=True)
    match = re.fullmatch(regex + r"(?:/.*)?", os.path.abspath(path), flags=re.S)
    return match["student_id"] if match else None


def students_with(coursedir, step, lesson, everyone=False):
    """Sorted ids of the students with a folder for `lesson` in that step, found and read back
    through nbgrader's path format, as NbGraderAPI.get_submitted_students does for submitted/.
    `everyone` also counts what nbgrader's listing skips: names starting with a dot, and a
    link in the folder's place (even a broken one), for the intake to refuse with a reason."""
    pattern = coursedir.format_path(step, "*", lesson)
    regex = coursedir.format_path(step, "(?P<student_id>[^/]+)", lesson, escape=True)
    found = (re.fullmatch(regex, path) for path in glob.glob(pattern, include_hidden=everyone)
             if os.path.isdir(path) or (everyone and os.path.islink(path)))
    return sorted(match["student_id"] for match in found if match)


def notebook(coursedir, step, student, lesson):
    """The lesson's notebook in that folder: <folder>/<lesson>.ipynb."""
    return step_folder(coursedir, step, student, lesson) / f"{lesson}.ipynb"


def feedback_page(coursedir, student, lesson):
    """The feedback page nbgrader's generate_feedback writes: <feedback folder>/<lesson>.html."""
    return step_folder(coursedir, coursedir.feedback_directory, student, lesson) / f"{lesson}.html"


def feedback_root(root):
    """The folder that holds every student's feedback (feedback/ in nbgrader's default layout)."""
    coursedir = _coursedir(root)
    return step_root(coursedir, coursedir.feedback_directory)


def _coursedir(root):
    from course.nbgrader_api import course_directory
    return course_directory(root)


def source_notebook(root, lesson):
    coursedir = _coursedir(root)
    return notebook(coursedir, coursedir.source_directory, ".", lesson)


def release_notebook(root, lesson):
    coursedir = _coursedir(root)
    return notebook(coursedir, coursedir.release_directory, ".", lesson)


def submitted_notebook(root, student, lesson):
    coursedir = _coursedir(root)
    return notebook(coursedir, coursedir.submitted_directory, student, lesson)


def autograded_notebook(root, student, lesson):
    coursedir = _coursedir(root)
    return notebook(coursedir, coursedir.autograded_directory, student, lesson)


def feedback_html(root, student, lesson):
    return feedback_page(_coursedir(root), student, lesson)


def wrong_answers_file(root, lesson):
    return source_notebook(root, lesson).with_name("wrong_answers.toml")


def alternative_answers_file(root, lesson):
    return source_notebook(root, lesson).with_name("alternative_answers.toml")
