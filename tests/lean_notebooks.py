"""A submission without the lesson's demonstration cells that no exercise needs: what a student
who deleted them would hand in. The example submissions of tests/test_lessons.py other than the
solution and the blank release are made lean, so that each wrong or alternative answer is graded
without training the lesson's demonstration models again (lessons 01, 04 and 06 spend 5-7 s of
their 9-11 s there); the solution and the blank release run every cell.

A demonstration cell is kept when a kept cell reads a name it binds (its latest binding before
that cell), or when it changes such a name in between (calls a method on it, sets an attribute or
item of it); the setup cell and every nbgrader cell are always kept. Demonstration cells after the
last graded test cell are dropped: they run after every check. A cell this misses makes a kept
cell fail with a NameError, which costs points the tests expect kept: never a silent pass."""
import ast
import copy

from course import cells
from course.cell_names import defined_and_read, syntax_tree


def _imported(code):
    return {(alias.asname or alias.name).split(".")[0] for node in ast.walk(syntax_tree(code))
            if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}


def _changed(code):
    """Names whose methods a cell calls or whose attributes or items it sets (modules included:
    `lean` leaves those out)."""
    changed, todo = set(), list(syntax_tree(code).body)
    while todo:  # the cell's own statements, not its functions' and classes' bodies
        node = todo.pop()
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, ast.Store):
            target = node.value
        else:
            continue
        while isinstance(target, (ast.Attribute, ast.Subscript)):
            target = target.value
        if isinstance(target, ast.Name):
            changed.add(target.id)
    return changed


def lean(nb):
    """A copy of notebook `nb` without the code cells no exercise needs (see the module)."""
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    modules = set().union(*(_imported(cell.source) for cell in code))
    facts = [(*defined_and_read(cell.source), _changed(cell.source) - modules) for cell in code]
    last_test = max(i for i, cell in enumerate(code) if cells.is_test(cell))
    keep = {0} | {i for i, cell in enumerate(code) if cells.is_managed(cell)}
    todo = sorted(keep)
    while todo:
        reader = todo.pop()
        for name in facts[reader][1]:
            binders = [j for j in range(reader) if name in facts[j][0]]
            if not binders:
                continue
            latest = binders[-1]
            for j in [latest] + [j for j in range(latest + 1, reader) if name in facts[j][2]]:
                if j not in keep:
                    keep.add(j)
                    todo.append(j)
    dropped = {id(cell) for i, cell in enumerate(code)
               if i not in keep or (i > last_test and not cells.is_managed(cell))}
    slim = copy.deepcopy(nb)
    slim.cells = [cell for cell, original in zip(slim.cells, nb.cells) if id(original) not in dropped]
    return slim
