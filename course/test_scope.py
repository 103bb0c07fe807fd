"""A test cell run in a scope of its own: what it binds (its expected values, its random data,
its reference models) is local to it, so that a student's function the test calls cannot read
them from the notebook's globals (`def XOR(x1, x2): return expected` passed a check that bound
`expected` before calling XOR).

`in_own_scope(source)` is the code the grader sends to the kernel instead of the test cell's
source: the cell's lines, indented, as the body of a function that a decorator calls at once,
whose locals become the notebook's globals when it ends (as if the cell had run at the top
level: a later cell may use a test's data), but not while it runs. Names that only the cell's
hidden tests bind stay its own: the student's notebook, whose test cells have no hidden tests,
never had them, and a later cell that printed them would show the hidden tests' data.
No name is looked up to call it, so nothing the student's code rebinds (or a thread of it
rebinds while the cell runs) can stand in for it; the built-ins the cell reads, and `globals` and
`locals` that the footer which hands its names on calls (FOOTER_BUILTINS), are the function's
own, taken from the builtins module (a student's `from numpy import *` binds numpy's `sum`).
Lines inside a multi-line string are not indented (their text would change). The cell's lines
come HEADER_LINES further down; the check helpers (course/checks.py) say the line of the cell
itself.

Where the cell would not run the same as a function, in_own_scope gives None and the cell runs
as written: IPython syntax (magics), `from m import *`, top-level `await`, `global`, and a name
the cell may read before it binds it (`x += 1`, a loop that reads what its last round bound),
which in a function would be an error instead of the notebook's value.
"""
import ast
import builtins
import functools
import io
import tokenize

from course.cell_names import free_reads

FUNCTION = "test_cell"
BUILTINS = "builtins"
HEADER = (f"@lambda {FUNCTION}: {FUNCTION}()  # (the grader runs this test cell in a scope of its own)\n"
          f"def {FUNCTION}():\n"
          "    try:\n")
HEADER_LINES = HEADER.count("\n")
# the built-ins the footer calls (taken, as every built-in the cell reads, from the builtins
# module; an answer that rebinds them is still flagged by course/integrity.py)
FOOTER_BUILTINS = frozenset({"globals", "locals"})
INDENT = "        "
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp)


@functools.lru_cache(maxsize=1024)
def in_own_scope(source):
    """The test cell `source` (str) as a function called at once, or None where that cannot be
    done (the cell then runs as written). Cached: a class's notebooks share their test cells."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython syntax (magics, !commands): left as it is
        return None
    if not tree.body or _read_before_bound(tree) or any(
            isinstance(node, (ast.Global, ast.Nonlocal)) for node in ast.walk(tree)):
        return None
    lines = source.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    inside = _string_continuation_lines(source)
    leading = next(number for number, line in enumerate(lines) if line.strip())  # IPython drops them
    body = "".join(line if number in inside or not line.strip() else INDENT + line
                   for number, line in enumerate(lines, start=1) if number > leading)
    visible = _bound_without_hidden_tests(source)
    bound = bound_in_scope(tree)
    read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    own_builtins = sorted(FOOTER_BUILTINS | {name for name in read - bound if hasattr(builtins, name)})
    withheld = set() if visible is None else bound - visible
    wrapped = _header(own_builtins) + body + _footer(sorted(withheld | set(own_builtins)))
    try:
        compile(wrapped, "<test cell>", "exec")
    except SyntaxError:  # `from m import *`, top-level await or return, ...
        return None
    return wrapped


def _header(own_builtins):
    """HEADER, the function taking the built-ins in `own_builtins` as its own (keyword defaults
    from the builtins module): the cell, and the functions it defines, use Python's `sum` and
    `bool` even where the notebook has numpy's (`from numpy import *`: honest, and it made
    `bool(...)` give np.True_ and `sum` of a generator fail in the checks)."""
    own = ", ".join(f"{name}=__import__({BUILTINS!r}).{name}" for name in own_builtins)
    return HEADER.replace(f"def {FUNCTION}():", f"def {FUNCTION}(*, {own}):")


def _footer(withheld):
    """The lines that, once the cell has run, make what it bound the notebook's, as when a student
    runs it (a later answer may use a test's data), except the names in `withheld`; while it
    runs, a function it calls sees none of it."""
    return ("    finally:\n"
            "        globals().update((name, value) for name, value in locals().items()\n"
            f"                         if name not in {tuple(withheld)!r})\n")


def _bound_without_hidden_tests(source):
    """The names the cell binds without its hidden tests (nbgrader's ClearHiddenTests takes them
    out, as in the release): all the student's own notebook ever had of it. None where that
    cannot be read: then the cell keeps nothing back."""
    from nbformat.v4 import new_code_cell
    from nbgrader.preprocessors import ClearHiddenTests

    cell = new_code_cell(source)
    try:
        ClearHiddenTests()._remove_hidden_test_region(cell)
        return bound_in_scope(ast.parse(cell.source))
    except (RuntimeError, SyntaxError):
        return None


def _string_continuation_lines(source):
    """Line numbers (from 1) that continue a string begun on an earlier line."""
    inside = set()
    start = None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        kind = tokenize.tok_name[token.type]
        if kind == "STRING" and token.start[0] != token.end[0]:
            inside |= set(range(token.start[0] + 1, token.end[0] + 1))
        elif kind == "FSTRING_START":
            start = token.start[0] if start is None else start
        elif kind == "FSTRING_END" and start is not None:
            inside |= set(range(start + 1, token.end[0] + 1))
            start = None
    return inside


class _FirstUse(ast.NodeVisitor):
    """Whether each name the cell's own scope uses is first read or first bound, in the order
    Python runs the cell (an assignment's value before its targets; what nested functions,
    classes and comprehensions read counts as read where they are defined)."""

    def __init__(self):
        self.first = {}

    def _note(self, name, kind):
        self.first.setdefault(name, kind)

    def _reads_of(self, node):
        for child in ast.walk(node):
            if isinstance(child, ast.Name):
                self._note(child.id, "read")

    def visit_Name(self, node):
        self._note(node.id, "bound" if isinstance(node.ctx, ast.Store) else "read")

    def visit_Assign(self, node):
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    def visit_AugAssign(self, node):
        self._reads_of(node.target)
        self.visit(node.value)

    def visit_NamedExpr(self, node):
        self.visit(node.value)
        self.visit(node.target)

    def visit_For(self, node):
        self.visit(node.iter)
        self.visit(node.target)
        for statement in node.body + node.orelse:
            self.visit(statement)

    visit_AsyncFor = visit_For

    def visit_Delete(self, node):
        for target in node.targets:
            self._reads_of(target)

    def _nested(self, node, name=None):
        for read in free_reads(node):  # what it reads from the cell's scope counts as read here
            self._note(read, "read")
        if name is not None:
            self._note(name, "bound")

    def visit_FunctionDef(self, node):
        self._nested(node, node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self._nested(node, node.name)

    def visit_Lambda(self, node):
        self._nested(node)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_Lambda

    def visit_Import(self, node):
        for alias in node.names:
            self._note((alias.asname or alias.name).split(".")[0], "bound")

    visit_ImportFrom = visit_Import

    def visit_ExceptHandler(self, node):
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self._note(node.name, "bound")
        for statement in node.body:
            self.visit(statement)


def bound_in_scope(tree):
    """Names the cell's own scope binds (what would be a function's locals)."""
    bound, todo = set(), list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            todo.extend(node.decorator_list)
            continue
        if isinstance(node, _SCOPES):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        todo.extend(ast.iter_child_nodes(node))
    return bound


def _read_before_bound(tree):
    """Names the cell's scope binds that it may read before binding them."""
    uses = _FirstUse()
    for statement in tree.body:
        uses.visit(statement)
    return {name for name in bound_in_scope(tree) if uses.first.get(name) == "read"}
