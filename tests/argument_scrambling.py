"""The solution, with every answer function changed to overwrite what it was given (arrays,
lists, tables, a model's weights) with other values once it has computed its result: a correct
answer that leaves its arguments wrecked. It must keep every point. A test cell that computed its
expected value from an argument after the call, or gave two calls the same array, would lose
them here, and would have let a wrong answer pass by rewriting that argument to fit its result
(`for row in X: row[:] = 0` then `return np.zeros(len(X)) + b`). The rule this holds the test
cells to is docs/authoring.md's: every expected value first, then each call its own copies.

Only the outermost call overwrites (an answer that calls another of its own functions keeps
working), after copying its result, so a result that shares memory with an argument is kept."""
import ast

import nbformat
from lean_notebooks import lean

from course import submissions

# Answer functions whose test checks what they do to their arguments: they are left alone
KEEP_ARGUMENTS = {
    "numerical_gradient": "its test checks that params come back as they were given",
}

SCRAMBLER = '''\
import copy as _copy
import numpy as _np

_CALL_DEPTH = [0]


def _plain(value):
    if isinstance(value, (_np.ndarray, _np.generic, int, float, bool, str, type(None))):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(_plain(item) for item in value.values())
    return type(value).__name__ in ("DataFrame", "Series")


def _overwrite(value, rng):
    if isinstance(value, _np.ndarray):
        if not value.flags.writeable:
            try:
                value.setflags(write=True)  # as a student's code can (pandas hands out read-only views)
            except ValueError:
                return  # it does not own its memory, nor does what it views: no one writes it
        if value.size:
            if value.dtype == bool:
                value[...] = rng.random(value.shape) < 0.5
            elif _np.issubdtype(value.dtype, _np.integer):
                value[...] = rng.integers(2, 9, value.shape)
            elif _np.issubdtype(value.dtype, _np.number):
                value[...] = rng.normal(size=value.shape) * 3 + 1
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, bool):
                value[i] = not item
            elif isinstance(item, (int, float)):
                value[i] = item * 2 + 3
            else:
                _overwrite(item, rng)
    elif isinstance(value, dict):
        for item in value.values():
            _overwrite(item, rng)
    elif hasattr(value, "get_weights") and hasattr(value, "set_weights"):
        value.set_weights([rng.normal(size=w.shape) for w in value.get_weights()])
    elif type(value).__name__ == "DataFrame":
        for column in value.columns:
            if _np.issubdtype(value[column].dtype, _np.number):
                value[column] = rng.normal(size=len(value)) * 3 + 1
    elif type(value).__name__ == "Series" and _np.issubdtype(value.dtype, _np.number):
        value[:] = rng.normal(size=len(value)) * 3 + 1


def _overwrites_its_arguments(function):
    def overwriting(*args, **kwargs):
        _CALL_DEPTH[0] += 1
        try:
            result = function(*args, **kwargs)
        finally:
            _CALL_DEPTH[0] -= 1
        if _CALL_DEPTH[0] == 0:
            if _plain(result):
                result = _copy.deepcopy(result)
            rng = _np.random.default_rng(12345)
            for argument in [*args, *kwargs.values()]:
                _overwrite(argument, rng)
        return result
    overwriting.__name__, overwriting.__doc__ = function.__name__, function.__doc__
    return overwriting
'''


def overwriting_solution(root, lesson):
    """The lean solution notebook of `lesson` whose answer functions (but KEEP_ARGUMENTS)
    overwrite their arguments after computing their results; SCRAMBLER in an extra cell after
    the setup cell."""
    answers = {}
    for grade_id, code in submissions.solutions(root, lesson).items():
        functions = [node.name for node in ast.parse(code).body
                     if isinstance(node, ast.FunctionDef) and node.name not in KEEP_ARGUMENTS]
        answers[grade_id] = code + "\n\n" + "".join(
            f"{name} = _overwrites_its_arguments({name})\n" for name in functions)
    nb = lean(submissions.answered(root, lesson, answers))
    setup = next(number for number, cell in enumerate(nb.cells) if cell.cell_type == "code")
    nb.cells.insert(setup + 1, nbformat.v4.new_code_cell(SCRAMBLER))
    return nb
