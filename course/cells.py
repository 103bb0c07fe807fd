"""What a notebook cell is to nbgrader, by nbgrader's own predicates (nbgrader.utils)."""
from nbgrader import utils


def is_managed(cell):
    """A cell nbgrader manages: graded, a solution, or locked."""
    return bool(utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell))


def grade_id(cell):
    """The cell's nbgrader grade_id, or None for a cell nbgrader does not manage."""
    return cell.metadata["nbgrader"].get("grade_id") if is_managed(cell) else None


def is_test(cell):
    """A graded test cell: it gives points and holds no answer."""
    return utils.is_grade(cell) and not utils.is_solution(cell)


def is_answer(cell):
    """A cell the student writes (nbgrader's solution cell)."""
    return utils.is_solution(cell)


def points(cell):
    """The points of a test cell (a number > 0 in a valid source notebook)."""
    return cell.metadata["nbgrader"].get("points")
