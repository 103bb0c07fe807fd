"""Reading a submission's own code for what a beginner's neural-network course never needs and
a forged score always does: IPython's machinery, frames and interpreter internals, patching
imported modules, rebinding the check helpers, conversion hooks (dunder methods), dynamic code,
signals, threads and processes. Nothing is run; each finding names the cell, the line and the rule.

Only code the student wrote or changed is read: cells whose source is not a cell of the release.
"""
import ast
from dataclasses import dataclass

from course import cells
from course.cell_names import defined_and_read

# Modules whose import alone is flagged: a lesson never needs them.
FLAGGED_MODULES = {
    "inspect": "frames", "gc": "interpreter internals", "ctypes": "interpreter internals",
    "builtins": "interpreter internals", "importlib": "dynamic code", "traceback": "frames",
    "IPython": "IPython's machinery", "ipykernel": "IPython's machinery", "signal": "signals",
    "threading": "threads and processes", "_thread": "threads and processes",
    "multiprocessing": "threads and processes", "subprocess": "threads and processes",
    "pty": "threads and processes", "atexit": "interpreter internals",
    "code": "dynamic code", "codeop": "dynamic code", "types": "interpreter internals",
    "weakref": "interpreter internals", "dis": "interpreter internals", "marshal": "dynamic code",
    "pickle": "dynamic code", "copyreg": "interpreter internals",
}
# Names a flagged module offers that honest code uses to show things (a table, a picture);
# HTML and Javascript are not among them: they run in the browser that opens the feedback.
SHOWING_IMPORTS = {"IPython.display": {"display", "clear_output", "Markdown", "Math", "Latex", "Image"}}
FLAGGED_CALLS = {
    "get_ipython": "IPython's machinery", "__import__": "dynamic code", "eval": "dynamic code",
    "exec": "dynamic code", "compile": "dynamic code", "globals": "interpreter internals",
    "locals": "interpreter internals", "vars": "interpreter internals",
    "setattr": "patching", "delattr": "patching", "getattr": "interpreter internals",
    "breakpoint": "interpreter internals",
}
FLAGGED_ATTRIBUTES = {
    "_getframe": "frames", "f_back": "frames", "f_locals": "frames", "f_globals": "frames",
    "f_code": "frames", "tb_frame": "frames", "gi_frame": "frames", "cr_frame": "frames",
    "__globals__": "interpreter internals", "__code__": "interpreter internals",
    "__closure__": "interpreter internals", "__builtins__": "interpreter internals",
    "__dict__": "interpreter internals", "__class__": "interpreter internals",
    "__subclasses__": "interpreter internals", "__mro__": "interpreter internals",
    "__bases__": "interpreter internals", "__getattribute__": "interpreter internals",
    "settrace": "frames", "setprofile": "frames", "excepthook": "patching",
    "displayhook": "patching", "meta_path": "dynamic code", "addaudithook": "interpreter internals",
    "input_transformers_post": "IPython's machinery", "input_transformers_cleanup": "IPython's machinery",
    "ast_transformers": "IPython's machinery", "set_custom_exc": "IPython's machinery",
    "user_ns": "IPython's machinery", "run_cell": "IPython's machinery",
    "fork": "threads and processes", "kill": "threads and processes",
    "popen": "threads and processes", "execv": "threads and processes", "_exit": "threads and processes",
}
# Attributes flagged only on these modules (`model.events` or `df.system` are a student's own).
MODULE_ATTRIBUTES = {"sys": {"modules", "stdout", "stderr", "path_hooks"},
                     "os": {"system", "popen", "fork", "kill", "execv", "_exit"}}
ALLOWED_DUNDERS = {"__init__"}
# IPython's input and output history: the source of every test cell that ran before.
HISTORY_NAMES = {"In", "Out", "_ih", "_oh", "_dh", "_i", "_ii", "_iii"}


@dataclass(frozen=True)
class Finding:
    """One thing found: where (a grade_id or "cell N", and the line in the cell) and why."""
    cell: str
    line: int
    rule: str
    code: str

    def __str__(self):
        return f"{self.cell} line {self.line}: {self.rule}: {self.code}"


def _module_aliases(tree):
    """{name bound by an import: the module's top-level name}."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[(alias.asname or alias.name).split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                aliases[alias.asname or alias.name] = node.module.split(".")[0]
    return aliases


def _root_name(node):
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _parse(code):
    """The code's syntax tree, IPython magics left out; an empty module where it does not parse."""
    try:
        return ast.parse("\n".join(line if not line.lstrip().startswith(("%", "!")) else ""
                                   for line in code.splitlines()))
    except SyntaxError:
        return ast.Module(body=[], type_ignores=[])


def check_code(code, modules, protected):
    """[(line, rule, what)] of what `code` does that the course flags. `modules` are the names
    bound to imported modules in the notebook ({alias: module}), `protected` the names the
    release's locked cells define ({name: the module it is bound to, or None}): the student may
    not rebind them. Code that does not parse gives nothing (it cannot run either)."""
    tree = _parse(code)
    source = "\n".join(line if not line.lstrip().startswith(("%", "!")) else "" for line in code.splitlines())
    modules = {**modules, **_module_aliases(tree)}
    found = []

    def flag(node, rule):
        segment = ast.get_source_segment(source, node) or type(node).__name__
        found.append((getattr(node, "lineno", 0), rule, segment.splitlines()[0][:80]))

    functions = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                rule = FLAGGED_MODULES.get(alias.name.split(".")[0])
                if rule:
                    flag(node, f"import {alias.name} ({rule})")
        elif isinstance(node, ast.ImportFrom) and node.module:
            top = node.module.split(".")[0]
            rule = FLAGGED_MODULES.get(top)
            if {a.name for a in node.names} <= SHOWING_IMPORTS.get(node.module, set()):
                rule = None
            if rule:
                flag(node, f"import from {node.module} ({rule})")
            elif any(a.name in FLAGGED_ATTRIBUTES or a.name in MODULE_ATTRIBUTES.get(top, ()) for a in node.names):
                flag(node, f"import from {node.module} (interpreter internals)")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            rule = FLAGGED_CALLS.get(node.func.id)
            if node.func.id == "getattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                rule = FLAGGED_ATTRIBUTES.get(node.args[1].value) if isinstance(node.args[1].value, str) else None
            if rule:
                flag(node, f"{node.func.id}() ({rule})")
        elif isinstance(node, ast.Attribute):
            rule = FLAGGED_ATTRIBUTES.get(node.attr)
            if node.attr in MODULE_ATTRIBUTES.get(modules.get(_root_name(node)), ()):
                rule = "interpreter internals"
            if rule:
                flag(node, f".{node.attr} ({rule})")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and (
                node.id in HISTORY_NAMES or (node.id.startswith("_i") and node.id[2:].isdigit())):
            flag(node, f"{node.id} (IPython's input history)")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name.startswith("__") and node.name.endswith("__") and node.name not in ALLOWED_DUNDERS:
                flag(node, f"def {node.name} (a conversion or comparison hook)")
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            value = getattr(node, "value", None)
            replaces_method = isinstance(value, ast.Lambda) or (
                isinstance(value, ast.Name) and value.id in functions)
            for target in targets:
                for part in (target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]):
                    root = _root_name(part)
                    if isinstance(part, ast.Attribute) and root in modules:
                        flag(node, f"changes {modules[root]} (patching an imported module)")
                    elif isinstance(part, ast.Attribute) and replaces_method:
                        flag(node, f"replaces .{part.attr} with a function (patching an object)")
                    elif isinstance(part, ast.Name) and part.id in protected:
                        flag(node, f"rebinds {part.id} (a check helper)")
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and statement.name in protected:
            flag(statement, f"redefines {statement.name} (a check helper)")
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            for alias in statement.names:
                name = (alias.asname or alias.name).split(".")[0]
                if name in protected and modules.get(name) != protected[name]:
                    flag(statement, f"rebinds {name} (a check helper)")
    return sorted(set(found))


def review(nb, released):
    """Findings in the cells of `nb` that the student wrote or changed (a source that is not a
    cell of the release), in notebook order."""
    release_sources = {c.source.strip() for c in released.cells}
    protected, modules = {}, {}
    for cell in released.cells:
        if cell.cell_type != "code":
            continue
        cell_modules = _module_aliases(_parse(cell.source))
        modules.update(cell_modules)
        if cells.grade_id(cell) and not cells.is_answer(cell) and not cells.is_test(cell):
            for name in defined_and_read(cell.source)[0]:
                protected[name] = cell_modules.get(name)  # a module name, or None for a helper
    findings = []
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code" or cell.source.strip() in release_sources:
            continue
        where = cells.grade_id(cell) or f"cell {number}"
        findings += [Finding(where, line, rule, code.splitlines()[0][:80] if code else "")
                     for line, rule, code in check_code(cell.source, modules, protected)]
    return findings

