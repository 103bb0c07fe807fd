"""Reading what happened: the problems in a graded notebook's cells, and the reason behind a
failed nbgrader call."""
import re

from course import cells
from course.kernel_zygote import LIBRARIES_CHANGED
from course.status import KERNEL_DIED, KERNEL_RESTARTED, OUTPUT_TRUNCATED, PROCESSES_LEFT, Note

ERROR_KINDS = {  # ename -> the note it gives
    "CellTimeoutError": Note.TIMEOUT,
    "KeyboardInterrupt": Note.TIMEOUT,  # how the timeout stopped a student's cell
    KERNEL_DIED: Note.KERNEL_DIED,
    "MemoryError": Note.MEMORY,
    "SyntaxError": Note.SYNTAX_ERROR,
    "IndentationError": Note.SYNTAX_ERROR,
    "NotImplementedError": Note.NOT_ANSWERED,
}
# A test cell failing is its job; in one, only what stopped the grader is worth a note.
NOTED_IN_TEST_CELLS = {"CellTimeoutError", KERNEL_DIED, "MemoryError"}


def libraries_changed(nb):
    """"cell: names" for each cell around which the kernel put back what student code changed in
    the libraries (the metadata ResilientExecute keeps, kernel_zygote.LIBRARIES_CHANGED)."""
    return [f"{cells.grade_id(cell) or f'cell {number}'}: {', '.join(cell.metadata[LIBRARIES_CHANGED])}"
            for number, cell in enumerate(nb.cells, start=1)
            if cell.cell_type == "code" and cell.metadata.get(LIBRARIES_CHANGED)]


def cell_problems(nb):
    """Notes on what went wrong in a graded notebook: errors in the student's own cells (and
    timeouts, kernel deaths and memory errors anywhere), truncated output, kernel restarts;
    each note names the cells (grade_id, else "cell N")."""
    problems, truncated, restarted, forked = {}, [], [], []
    processes_left = PROCESSES_LEFT.split("{count}")[-1]
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        where = cells.grade_id(cell) or f"cell {number}"
        test = cells.is_test(cell)
        for output in cell.get("outputs", []):
            if output.output_type == "stream" and OUTPUT_TRUNCATED in output.text:
                truncated.append(where)
            if output.output_type == "stream" and KERNEL_RESTARTED in output.text:
                restarted.append(where)
            if output.output_type == "stream" and processes_left in output.text:
                forked.append(where)
            if output.output_type != "error" or (test and output.ename not in NOTED_IN_TEST_CELLS):
                continue
            note = ERROR_KINDS.get(output.ename)
            line = note.say() if note else Note.EXCEPTION.say(ename=output.ename)
            problems.setdefault(line, []).append(where)
    notes = [f"{line}: {', '.join(dict.fromkeys(where))}" for line, where in problems.items()]
    if truncated:
        notes.append(Note.OUTPUT_TRUNCATED.say(", ".join(truncated)))
    if restarted:
        notes.append(Note.KERNEL_RESTARTED.say(", ".join(restarted)))
    if forked:
        notes.append(Note.PROCESSES_LEFT.say(", ".join(forked)))
    return notes


EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_]\w*\.)*[A-Z]\w*: \S")  # "sqlite3.IntegrityError: ..."


def nbgrader_reason(lines):
    """The exception behind a failed nbgrader call, from what it reported (its traceback and
    log lines): the last traceback line naming an exception, else the last error logged other
    than nbgrader's "Please see the above traceback"; at most 300 characters."""
    lines = [line.strip() for line in lines if line.strip()]
    exceptions = [line for line in lines if EXCEPTION_LINE.match(line)]
    errors = [line for line in lines if "ERROR" in line and "above traceback" not in line]
    return (exceptions or errors or lines or ["unknown error"])[-1][:300]
