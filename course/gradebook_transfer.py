"""Gradebook entries carried between machines: a lesson's assignment copied into a gradebook of
its own (what a Dask worker grades against), and one submission's grades read out of one
gradebook and written into another (the worker's scratch gradebook, then the course's).

Everything goes through nbgrader.api.Gradebook, so the course's gradebook may be SQLite or
PostgreSQL; what crosses machines is plain data (a dict of names, numbers, times and text).
"""
from nbgrader.api import Gradebook, MissingEntry

# nbgrader's per-submission columns that autograde sets (SaveAutoGrades, the late penalty):
# each is copied as it stands.
GRADE_COLUMNS = ("auto_score", "manual_score", "extra_credit", "needs_manual_grade")
COMMENT_COLUMNS = ("auto_comment", "manual_comment")
NOTEBOOK_COLUMNS = ("flagged", "late_submission_penalty")
CELL_KINDS = ("grade_cells", "solution_cells", "task_cells", "source_cells")


def copy_assignment(source, target, lesson):
    """Copy the assignment `lesson` (its notebooks and their grade, solution, task and source
    cells with points and checksums, as `nbgrader generate_assignment` recorded them) from the
    Gradebook `source` into the Gradebook `target`. Raises MissingEntry if `source` lacks it."""
    assignment = source.find_assignment(lesson)
    target.update_or_create_assignment(lesson, duedate=assignment.duedate)
    for notebook in assignment.notebooks:
        target.add_notebook(notebook.name, lesson, kernelspec=notebook.kernelspec)
        for kind in CELL_KINDS:
            create = getattr(target, f"update_or_create_{kind[:-1]}")
            for cell in getattr(notebook, kind):
                fields = {key: value for key, value in cell.to_dict().items()
                          if key not in ("id", "name", "notebook", "assignment")}
                create(cell.name, notebook.name, lesson, **fields)


def assignment_only_gradebook(source, lesson, db_url, course_id):
    """A new gradebook at `db_url` (an SQLite file that does not exist yet) holding the course
    `course_id` and the assignment `lesson` copied from the Gradebook `source`, and no student."""
    with Gradebook(db_url, course_id) as target:
        copy_assignment(source, target, lesson)


def submission_record(gb, lesson, student):
    """The grades of `student`'s submission of `lesson` in the Gradebook `gb` as plain data
    ({"timestamp", "extension", "notebooks": {name: {columns, "grades", "comments"}}}), or None
    if it has none."""
    try:
        submission = gb.find_submission(lesson, student)
    except MissingEntry:
        return None
    notebooks = {}
    for notebook in submission.notebooks:
        record = {column: getattr(notebook, column) for column in NOTEBOOK_COLUMNS}
        record["grades"] = {grade.name: {c: getattr(grade, c) for c in GRADE_COLUMNS}
                            for grade in notebook.grades}
        record["comments"] = {comment.name: {c: getattr(comment, c) for c in COMMENT_COLUMNS}
                              for comment in notebook.comments}
        notebooks[notebook.name] = record
    return {"timestamp": submission.timestamp, "extension": submission.extension,
            "notebooks": notebooks}


def store_submission(gb, lesson, student, record):
    """Write a submission_record as `student`'s submission of `lesson` into the Gradebook `gb`,
    which must hold the student and the assignment and no submission of theirs (remove it
    first). Raises KeyError where the record's notebooks or cells are not the assignment's."""
    submission = gb.add_submission(lesson, student, timestamp=record["timestamp"],
                                   extension=record["extension"])
    for notebook in submission.notebooks:
        saved = record["notebooks"][notebook.name]
        for column in NOTEBOOK_COLUMNS:
            setattr(notebook, column, saved[column])
        for grade in notebook.grades:
            for column, value in saved["grades"][grade.name].items():
                setattr(grade, column, value)
        for comment in notebook.comments:
            for column, value in saved["comments"][comment.name].items():
                setattr(comment, column, value)
    gb.db.commit()
