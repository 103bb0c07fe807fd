"""Which names a code cell defines and which it reads from the cells before it, by the cell's
syntax (the `ast` module): how graded cells are recognised without their metadata, and which
answer cells a test cell depends on."""
import ast

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _bound_here(node):
    """Names a statement binds in the scope it runs in (not inside its functions or comprehensions)."""
    bound, todo = set(), [node]
    while todo:
        current = todo.pop()
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(current.name)
            continue
        if isinstance(current, _SCOPES):
            continue
        if isinstance(current, ast.Name) and isinstance(current.ctx, ast.Store):
            bound.add(current.id)
        elif isinstance(current, (ast.Import, ast.ImportFrom)):
            bound |= {(alias.asname or alias.name).split(".")[0] for alias in current.names}
        todo.extend(ast.iter_child_nodes(current))
    return bound


def free_reads(node):
    """Names a statement reads from the scope around it (a function's own locals excluded)."""
    if isinstance(node, _SCOPES):
        inner = set().union(*(free_reads(child) for child in ast.iter_child_nodes(node)))
        local = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        if not isinstance(node, ast.ClassDef) and hasattr(node, "args"):
            local |= {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
        return inner - local
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        return {node.id}
    return set().union(*(free_reads(child) for child in ast.iter_child_nodes(node)))


def syntax_tree(code):
    """The cell's syntax tree with its IPython magic and shell lines skipped; an empty module
    where the rest does not parse."""
    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return ast.Module(body=[], type_ignores=[])


def defined_and_read(code):
    """(names the cell defines, names it reads before defining them), by its syntax, statement by
    statement; IPython magics are skipped, code that does not parse defines and reads nothing."""
    defined, read = set(), set()
    for statement in syntax_tree(code).body:
        read |= free_reads(statement) - defined
        defined |= _bound_here(statement)
    return defined, read
