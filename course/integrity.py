"""Reading a submission's own code for what a beginner's neural-network course never needs and
a forged score always does: IPython's machinery, frames and interpreter internals, patching
imported modules, rebinding the names the locked cells define (the check helpers), conversion
hooks (dunder methods and attributes), dynamic code, modules outside the course's list, signals,
threads and processes. Nothing is run; each finding names the cell, the line and the rule.

A cell is read as IPython runs it: IPython's own TransformerManager turns magics (`%time`,
`%%capture`, `!ls`) into Python first. The code a magic runs (`%time code`, `%%timeit` cells) is
read like any cell; magics that only show things or install packages pass; any other magic is
flagged. Only code the student wrote or changed is read: cells whose source is not a cell of the
release.
"""
import ast
import builtins
import functools
import re
import sys
from dataclasses import dataclass

from IPython.core.inputtransformer2 import TransformerManager

from course import cells, test_scope
from course.cell_names import defined_and_read
from course.kernel_zygote import CHECKS_CELL_HEADER, TEST_CELL_HEADER

# The modules a lesson's code may import (top-level names); any other import is flagged.
ALLOWED_MODULES = {
    "numpy", "pandas", "matplotlib", "seaborn", "keras", "tensorflow", "tf_keras", "statsmodels",
    "sklearn", "scipy", "tqdm", "ipywidgets", "math", "cmath", "random", "time", "datetime",
    "statistics", "fractions", "decimal", "numbers", "itertools", "functools", "collections",
    "dataclasses", "typing", "enum", "copy", "pprint", "textwrap", "string", "re", "json", "csv",
    "pathlib", "warnings", "abc", "os", "sys", "IPython", "__future__", "operator", "contextlib", "io",
    "gc", "timeit",
}
# Modules allowed for a few of their names only: {module: the names}
LIMITED_MODULES = {"gc": {"collect"}}
# Within an allowed module, what is still flagged: {module: allowed names (a set) or a rule}.
# IPython: only IPython.display's names that show things (HTML and Javascript run in the
# browser that opens the feedback; update_display rewrites earlier outputs).
SHOWING_IMPORTS = {"display", "clear_output", "Markdown", "Math", "Latex", "Image"}
# timeit runs text as Python where it is given a statement as text (or globals to run it in)
TIMEIT_CALLS = {"timeit", "repeat", "Timer", "autorange"}
SYS_NAMES = {"stdout", "stderr", "version", "version_info", "platform", "maxsize", "float_info",
             "getsizeof", "exit"}
# os: what spawns, signals or replaces processes, or makes files in memory.
OS_FLAGGED = re.compile(r"^(system|popen|fork|forkpty|kill|killpg|exec\w*|spawn\w*|posix_spawn\w*|"
                        r"memfd_create|_exit|abort|setsid|setpgid|setpgrp|ptrace|pidfd_\w+|"
                        r"register_at_fork|putenv|unsetenv|dup2?|openpty|pipe2?|mkfifo|mknod|"
                        r"symlink|link|chmod|chown|wait\w*)$")
FLAGGED_CALLS = {
    "get_ipython": "IPython's machinery", "__import__": "dynamic code", "eval": "dynamic code",
    "exec": "dynamic code", "compile": "dynamic code", "globals": "interpreter internals",
    "locals": "interpreter internals", "vars": "interpreter internals",
    "setattr": "patching", "delattr": "patching", "getattr": "interpreter internals",
    "breakpoint": "interpreter internals", "memoryview": "interpreter internals",
    # the kernel's stdin channel is how the checks read the answers (course/answer_server.py):
    # code that writes to it while a check calls it answers for the checks (round 14)
    "input": "the checks' channel",
}
FLAGGED_ATTRIBUTES = {
    "fits": "the training record", "records_fits": "the training record",
    "_getframe": "frames", "f_back": "frames", "f_locals": "frames", "f_globals": "frames",
    "f_code": "frames", "tb_frame": "frames", "gi_frame": "frames", "cr_frame": "frames",
    "settrace": "frames", "setprofile": "frames", "excepthook": "patching",
    "displayhook": "patching", "meta_path": "dynamic code", "addaudithook": "interpreter internals",
    "input_transformers_post": "IPython's machinery", "input_transformers_cleanup": "IPython's machinery",
    "ast_transformers": "IPython's machinery", "set_custom_exc": "IPython's machinery",
    "user_ns": "IPython's machinery", "run_cell": "IPython's machinery",
    "get_ipython": "IPython's machinery", "input_transformer_manager": "IPython's machinery",
    "cleanup_transforms": "IPython's machinery", "line_transforms": "IPython's machinery",
    "token_transformers": "IPython's machinery", "showtraceback": "IPython's machinery",
    "showsyntaxerror": "IPython's machinery", "events": "IPython's machinery",
    "user_global_ns": "IPython's machinery", "history_manager": "IPython's machinery",
    "extract_stack": "frames", "walk_stack": "frames", "walk_tb": "frames", "format_stack": "frames",
    "print_stack": "frames", "currentframe": "frames", "getframeinfo": "frames",
    "getouterframes": "frames", "getinnerframes": "frames", "linecache": "frames", "getlines": "frames",
    "sys": "interpreter internals", "modules": "interpreter internals", "exc_info": "frames",
    "fork": "threads and processes", "kill": "threads and processes",
    "popen": "threads and processes", "execv": "threads and processes", "_exit": "threads and processes",
    # library functions that set attributes by name (functools' update_wrapper sets __code__ or
    # updates a module's __dict__) or hand out any attribute by name (string.Formatter().get_field)
    "update_wrapper": "patching", "Formatter": "interpreter internals", "get_field": "interpreter internals",
    # library functions that run text as Python, or load pickles (a pickle runs code when loaded)
    "get_type_hints": "dynamic code", "ForwardRef": "dynamic code", "eval": "dynamic code",
    "query": "dynamic code", "read_pickle": "dynamic code", "enable_unsafe_deserialization": "dynamic code",
    # built-ins flagged by name, reached as an attribute of a module that holds them (not compile:
    # model.compile is Keras; a module holding the built-in compile is flagged as `builtins`)
    **{name: rule for name, rule in FLAGGED_CALLS.items() if name not in ("compile", "__import__")},
    # native code, memory at any address, templates and pickles that run code when loaded
    "load_op_library": "dynamic code", "load_library": "dynamic code", "as_strided": "interpreter internals",
    "from_custom_template": "dynamic code", "func_load": "dynamic code", "load_pickle": "dynamic code",
    # numpy.testing runs text in the caller's namespace
    "measure": "dynamic code", "runstring": "dynamic code", "rundocs": "dynamic code",
    # warnings format the source line of the frame a warning names: a test cell's, from linecache
    "formatwarning": "frames", "showwarning": "frames", "warn_explicit": "frames", "WarningMessage": "frames",
    # the libraries' own internals (keras.src, tensorflow.python, pandas' frame-reading Scope)
    "src": "interpreter internals", "python": "interpreter internals", "computation": "interpreter internals",
    # IPython's shell and ipykernel's kernel reached through other modules or widgets (the request
    # being run holds the test cell's whole source)
    "InteractiveShell": "IPython's machinery", "instance": "IPython's machinery", "shell": "IPython's machinery",
    "get_parent": "IPython's machinery", "parent_header": "IPython's machinery", "comm": "IPython's machinery",
    "_parents": "IPython's machinery", "_parent_header": "IPython's machinery",
    # Keras' global dtype policy: a quantizing policy changes every later layer's parameter count;
    # its other global settings change what the test cells' reference losses and layers compute
    # (epsilon 0.5 clips every cross-entropy to log 2)
    "set_dtype_policy": "patching", "set_global_policy": "patching", "set_epsilon": "patching",
    "set_floatx": "patching", "set_image_data_format": "patching", "set_max_epochs": "patching",
    "set_max_steps_per_epoch": "patching",
    # TensorFlow's NumPy behaviour changes how every later tensor operation promotes types, for good
    "experimental_enable_numpy_behavior": "patching",
    # getattr under other names (operator.attrgetter("f_back"))
    "attrgetter": "interpreter internals", "methodcaller": "interpreter internals",
}
# pandas' query and eval run their text as an expression; text that is only column names,
# numbers, operators and calls (no `@` for the caller's variables, no attribute, no dunder) is
# read as it is written.
PANDAS_TEXT_CALLS = {"query", "eval"}
PLAIN_PANDAS_EXPRESSION = re.compile(r"^[\w\s<>=!+\-*/%&|~^(),.'\"\[\]]*$")
ATTRIBUTE_IN_TEXT = re.compile(r"[A-Za-z_]\w*\s*\.\s*[A-Za-z_]|__|lambda")


def _interpreter_attributes():
    """The attribute names of the interpreter's frames, generators, coroutines, async
    generators, tracebacks and code objects (f_builtins, ag_frame, tb_next, co_consts...), read
    off those objects: each reaches a frame's namespaces or a code's constants."""
    def generator():
        yield

    async def async_generator():
        yield

    async def coroutine():
        pass

    try:
        raise ValueError
    except ValueError as error:
        trace = error.__traceback__
    running = coroutine()
    objects = [sys._getframe(), generator(), async_generator(), running, trace, generator.__code__]
    names = {name for thing in objects for name in dir(thing)
             if re.match(r"^(f|gi|cr|ag|tb|co)_", name)}
    running.close()
    return names


FLAGGED_ATTRIBUTES.update(dict.fromkeys(sorted(_interpreter_attributes() - set(FLAGGED_ATTRIBUTES)), "frames"))
# Dunder names a cell may read as plain names (`if __name__ == "__main__":`)
HONEST_DUNDER_NAMES = {"__name__", "__doc__"}
# statsmodels' load (sm.load, a results class's load) reads a pickle
PICKLE_LOADING_MODULES = {"statsmodels"}
# Modules a lesson never needs, reached as another module's attribute (`np.ma.core.builtins`,
# `pd.io.pickle.pickle`): what importing them would be flagged for, without an import.
REACHED_MODULES = {
    "builtins", "pickle", "_pickle", "marshal", "types", "ctypes", "_ctypes", "importlib", "imp",
    "inspect", "gc", "operator", "subprocess", "_posixsubprocess", "socket", "threading", "_thread",
    "multiprocessing", "concurrent", "signal", "runpy", "code", "codeop", "pdb", "bdb", "trace",
    "copyreg", "shelve", "dbm", "zipimport", "pkgutil", "atexit", "posix", "pty", "os", "dill",
    "cloudpickle", "joblib", "mmap", "faulthandler", "tracemalloc", "weakref", "ast", "dis",
    "ctypeslib", "f2py", "jinja2", "traceback", "logging", "doctest", "unittest", "pydoc", "tokenize",
    "IPython", "ipykernel", "traitlets", "zmq", "jupyter_client", "matplotlib_inline", "widget_output",
}
# Bases of a class that only holds data or constants (a student's record, settings or enum): its
# members reached through the class are plain values, except the methods it defines.
PLAIN_BASES = {"object", "NamedTuple", "Enum", "IntEnum", "StrEnum", "Flag", "IntFlag"}
# Calls that make a class from field names given as text
RECORD_MAKERS = {"namedtuple", "NamedTuple", "make_dataclass"}
# Methods a fake model or array answers with, set on the student's own objects (self.numpy = ...)
FAKE_METHODS = {"count_params", "get_weights", "set_weights", "numpy", "tolist", "item", "get_config"}
# Keyword arguments that make a loader run code from a file: {keyword: the value that does}
UNSAFE_KEYWORDS = {"allow_pickle": True, "safe_mode": False}
# Loaders that take allow_pickle by position too: {name: its position among the arguments}
PICKLE_POSITIONS = {"load": 2, "read_array": 1, "NpzFile": 2}
# Keyword arguments that name a frame up the stack (warnings.warn(stacklevel=3): the test cell's)
FRAME_KEYWORDS = {"stacklevel"}
# What the checks read of a model, a layer or an array: a class of the student's that defines one
# of these can answer for a model it is not (`def count_params(self): return 9`).
# (Not `output`, `shape` or `predict`: a student's own perceptron class may well have them, and a
# wrong answer cannot pass the checks on them alone.)
CHECKED_MEMBERS = {"count_params", "get_weights", "set_weights", "weights", "trainable_weights",
                   "non_trainable_weights", "variables", "trainable_variables", "layers", "optimizer",
                   "iterations", "get_config", "numpy", "tolist", "item"}
# Of those, what neither the libraries' own code nor the checks read of a student's class to
# compute weights, outputs or counts (Keras documents get_config for a subclass to define; the
# checks' model_outputs reads it of Keras' own layers only): a class may define them
LIBRARY_UNREAD_MEMBERS = {"get_config"}
# Keys that, read out of a mapping, are a flagged built-in or IPython's shell (a namespace:
# `frame.f_builtins["exec"]`); not `compile`, which a mapping of settings may well hold
SUBSCRIPT_FLAGGED = (set(FLAGGED_CALLS) - {"compile"}) | {"get_ipython"}
# Attributes students set to a value of their own making (a name, a list): settings of an
# optimizer, a layer or a table. Any other attribute takes literals only.
SETTABLE_ATTRIBUTES = {"learning_rate", "momentum", "nesterov", "weight_decay", "epsilon", "beta_1",
                       "beta_2", "rho", "trainable", "name", "columns", "index", "kernel_initializer",
                       "bias_initializer"}
# Flagged calls that are flagged as values too (`functools.partial(setattr, np)`, `map(setattr, ...)`)
VALUE_FLAGGED = {"setattr", "delattr", "getattr", "eval", "exec", "compile", "__import__", "globals",
                 "locals", "vars", "breakpoint", "input"}
# Dunder names honest code uses: reading them, or defining them as methods in a class.
HONEST_DUNDER_READS = {"__name__", "__doc__", "__init__", "__version__", "__qualname__", "__main__",
                       "__call__", "__len__", "__repr__", "__str__"}
HONEST_DUNDER_METHODS = {"__init__", "__call__", "__repr__", "__str__", "__len__", "__getitem__",
                         "__iter__", "__next__", "__post_init__", "__enter__", "__exit__", "__contains__"}
DUNDER = re.compile(r"^__\w+__$")
NAMES_OF_THINGS = {"__name__", "__qualname__", "__doc__", "__module__"}
# Imports that bind the module a release cell binds, by another path
SAME_MODULES = {"tensorflow.keras": "keras"}
PROCESS_FILES = re.compile(r"/proc\b|/dev/mem|/dev/kmem")
# IPython's input and output history: the source of every test cell that ran before.
HISTORY_NAMES = {"In", "Out", "_ih", "_oh", "_dh", "_i", "_ii", "_iii"}
BUILTIN_NAMES = frozenset(dir(builtins))
# Names IPython puts in every kernel: rebinding them changes what later cells (magics) run.
KERNEL_NAMES = {"get_ipython"}
# Magics: those whose argument or cell is Python are read like a cell; these pass; others flagged.
PYTHON_MAGICS = {"time", "timeit", "prun", "capture", "debug"}
HARMLESS_MAGICS = {"matplotlib", "pip", "conda", "who", "whos", "who_ls", "pwd", "ls", "lsmagic",
                   "pinfo", "pinfo2", "pdoc", "pdef", "psearch", "system", "getoutput", "env",
                   "reset"}  # %reset: a graded kernel binds the check helpers again before every cell
MAGIC_CALLS = {"run_line_magic": 2, "run_cell_magic": 3, "system": 1, "getoutput": 1}
_TRANSFORMER = TransformerManager()


def _walk(node):
    """ast.walk(node) as a list, made once per node: the rules walk each tree many times, and no
    rule changes a tree."""
    nodes = node.__dict__.get("_walked")
    if nodes is None:
        nodes = node._walked = list(ast.walk(node))
    return nodes


@dataclass(frozen=True)
class Finding:
    """One thing found: where (a grade_id or "cell N", and the line in the cell) and why."""
    cell: str
    line: int
    rule: str
    code: str

    def __str__(self):
        return f"{self.cell} line {self.line}: {self.rule}: {self.code}"


@functools.lru_cache(maxsize=4096)
def as_python(code, automagic=True):
    """The Python IPython runs for a cell (magics turned into calls), or None if it does not
    parse. A one-line cell that is not Python may be an automagic (`time f()`): IPython runs it
    as `%time f()`, and so is it read. Cached: a class's submissions share most of their cells."""
    one_line = automagic and "\n" not in code.strip()
    for candidate in (code, "%" + code.strip()) if one_line else (code,):
        try:
            source = _TRANSFORMER.transform_cell(candidate)
            ast.parse(source)
            return source
        except (SyntaxError, ValueError):
            continue
    return None


@functools.lru_cache(maxsize=4096)
def _parse(code):
    """The cell's syntax tree as IPython runs it; an empty module where it does not parse.
    Cached, so shared: no rule changes a tree."""
    source = as_python(code)
    return ast.parse(source) if source is not None else ast.Module(body=[], type_ignores=[])


def _module_aliases(tree):
    """{name bound by an import: the module's top-level name}."""
    aliases = {}
    for node in _walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[(alias.asname or alias.name).split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                aliases[alias.asname or alias.name] = node.module.split(".")[0]
    return aliases


def _import_paths(tree):
    """{name an import binds: the full dotted path of what it binds} (`import numpy.ma as np`:
    np -> numpy.ma; `import keras`: keras -> keras; `from numpy import ma`: ma -> numpy.ma)."""
    paths = {}
    for node in _walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                paths[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if alias.name != "*":
                    paths[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return paths


def _module_values(value, modules):
    """Whether an assigned value is (or holds) an imported module or something read off one
    without calling it (`np`, `keras.layers.Layer`, `[np]`): changing it changes the module."""
    todo = [value]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "type" \
                and len(node.args) == 1:
            return True  # an object's class: a library's, as far as the reading can tell
        if isinstance(node, ast.Call):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in modules:
            return True
        todo.extend(ast.iter_child_nodes(node))
    return False


def derived_aliases(trees, modules):
    """{name: module} for the names the student binds to a module or to something read off one
    (`numeric = np`, `layer_class = keras.layers.Layer`), in any of `trees`, through each other."""
    aliases, grew = dict(modules), True
    while grew:
        grew = False
        for tree in trees:
            for node in _walk(tree):
                if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    names = [n.id for t in targets for n in _walk(t) if isinstance(n, ast.Name)]
                    roots = {n.id for n in _walk(node.value) if isinstance(n, ast.Name) and n.id in aliases}
                    for name in names:
                        if name not in aliases and _module_values(node.value, aliases):
                            aliases[name] = aliases[sorted(roots)[0]] if roots else "a class (type())"
                            grew = True
    return {name: module for name, module in aliases.items() if name not in modules}


def _root_name(node):
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _magic(node):
    """(magic name, its arguments) if `node` is a call IPython's transformer writes for a magic
    or a shell command (`get_ipython().run_line_magic('time', 'code')`), else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in MAGIC_CALLS and isinstance(node.func.value, ast.Call)
            and isinstance(node.func.value.func, ast.Name) and node.func.value.func.id == "get_ipython"
            and not node.func.value.args and not node.keywords
            and len(node.args) == MAGIC_CALLS[node.func.attr]
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)):
        return None
    args = [a.value for a in node.args]
    return (args[0], args[1:]) if node.func.attr.startswith("run_") else (node.func.attr, args)


def _code_in_arguments(line):
    """The pieces of a magic's argument line that are Python: every suffix after its options
    (`-n1 -r 3 code`) that parses, so that no option hides code."""
    words = line.split(" ")
    return [" ".join(words[i:]) for i in range(len(words))
            if words[i] and not words[i].startswith("-") and as_python(" ".join(words[i:]), False) is not None]


class _Scopes(ast.NodeVisitor):
    """Who binds what: the names a cell binds at module scope, by any binding form (assignment,
    walrus, for/with/except targets, import, def, class, del, match), each with its statement;
    `global` declarations; and reads of the input history that no binding of the student's
    covers."""

    def __init__(self, bound_before, checker_names=frozenset(), checker_imports=frozenset()):
        self.module_bindings = []  # (node, name)
        self.globals = []  # (node, name)
        self.history_reads = []  # node
        self.checker_names = checker_names
        self.checker_reads = []  # node
        self.checker_imports = checker_imports  # checker names bound to a library's module or object
        self.bound = set(bound_before)  # module names bound by earlier statements
        self.stack = []  # per function: its local names

    def run(self, tree):
        for statement in tree.body:
            start = len(self.module_bindings)
            self.visit(statement)
            self.bound |= {name for _, name in self.module_bindings[start:]}
        return self

    def _bind(self, node, name):
        if not self.stack or name in self.stack[-1].get("global", ()):
            self.module_bindings.append((node, name))

    def visit_Name(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self._bind(node, node.id)
        elif (node.id in HISTORY_NAMES or re.fullmatch(r"_i\d+", node.id)) and not any(
                node.id in scope["locals"] for scope in self.stack) and node.id not in self.bound:
            self.history_reads.append(node)
        elif node.id in self.checker_names and node.id not in BUILTIN_NAMES and isinstance(node.ctx, ast.Load) \
                and not any(node.id in scope["locals"] for scope in self.stack) \
                and ((self.stack and node.id not in self.checker_imports) or node.id not in self.bound):
            # (read at module scope after the student bound it: the student's own value; a
            # function reads the name when a test cell calls it, after the test bound it, unless
            # it is a library's that the student imported too: any other binding of it is flagged)
            self.checker_reads.append(node)

    def visit_NamedExpr(self, node):
        """A walrus binds in the scope around its comprehensions."""
        self.visit(node.value)
        scopes = [scope for scope in self.stack if not scope.get("comprehension")]
        if not scopes or node.target.id in scopes[-1].get("global", ()):
            self.module_bindings.append((node, node.target.id))

    def visit_ExceptHandler(self, node):
        if node.name:
            self._bind(node, node.name)
        self.generic_visit(node)

    def _imports(self, node):
        for alias in node.names:
            if alias.name != "*":
                self._bind(node, (alias.asname or alias.name).split(".")[0])

    visit_Import = visit_ImportFrom = _imports

    def visit_Global(self, node):
        self.globals += [(node, name) for name in node.names]
        if self.stack:
            self.stack[-1].setdefault("global", set()).update(node.names)

    def _match_name(self, node):
        name = getattr(node, "name", None) or getattr(node, "rest", None)
        if name:
            self._bind(node, name)
        self.generic_visit(node)

    visit_MatchAs = visit_MatchStar = visit_MatchMapping = _match_name

    def _function(self, node):
        if not isinstance(node, ast.Lambda):
            self._bind(node, node.name)
            for decorator in node.decorator_list:
                self.visit(decorator)
        arguments = node.args
        for default in arguments.defaults + [d for d in arguments.kw_defaults if d]:
            self.visit(default)
        local = {a.arg for a in _walk(arguments) if isinstance(a, ast.arg)}
        body = node.body if isinstance(node.body, list) else [node.body]
        declared = {n for s in body for g in _walk(s) if isinstance(g, ast.Global) for n in g.names}
        for statement in body:
            local |= _bound_in_scope(statement) - declared
        self.stack.append({"locals": local, "global": declared})
        for statement in body:
            self.visit(statement)
        self.stack.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_ClassDef(self, node):
        self._bind(node, node.name)
        for child in node.bases + node.keywords + node.decorator_list:
            self.visit(child)
        self.stack.append({"locals": set().union(*(_bound_in_scope(s) for s in node.body))})
        for statement in node.body:
            self.visit(statement)
        self.stack.pop()

    def _comprehension(self, node):
        local = {n.id for g in node.generators for n in _walk(g.target) if isinstance(n, ast.Name)}
        self.stack.append({"locals": local, "comprehension": True})
        for generator in node.generators:
            self.visit(generator.iter)
            for condition in generator.ifs:
                self.visit(condition)
        for element in ("elt", "key", "value"):
            if hasattr(node, element):
                self.visit(getattr(node, element))
        self.stack.pop()

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension


def _bound_in_scope(node):
    """Names a statement binds in its own scope (not inside nested functions or classes)."""
    bound, todo = set(), [node]
    while todo:
        current = todo.pop()
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(current.name)
            continue
        if isinstance(current, ast.Lambda):
            continue
        if isinstance(current, ast.Name) and isinstance(current.ctx, (ast.Store, ast.Del)):
            bound.add(current.id)
        elif isinstance(current, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in current.names if a.name != "*"}
        elif isinstance(current, ast.ExceptHandler) and current.name:
            bound.add(current.name)
        elif isinstance(current, ast.NamedExpr):
            bound.add(current.target.id)
        todo.extend(ast.iter_child_nodes(current))
    return bound


def _import_rule(module, names=()):
    """Why importing `names` from `module` (or the module itself) is flagged, or None."""
    top = module.split(".")[0]
    if top not in ALLOWED_MODULES:
        return "a module the course does not use"
    for part in module.split(".")[1:]:
        if part in FLAGGED_ATTRIBUTES or part in REACHED_MODULES or (part.startswith("_") and not DUNDER.match(part)):
            return FLAGGED_ATTRIBUTES.get(part, "a library's private internals")
    if top == "IPython":
        if module == "IPython.display" and names and set(names) <= SHOWING_IMPORTS:
            return None
        if module == "IPython" and names and set(names) <= {"display"}:
            return None  # the module IPython.display: what is read off it is checked
        return "IPython's machinery"
    if top in LIMITED_MODULES and module != top:
        return "interpreter internals"
    if top in LIMITED_MODULES and not set(names) <= LIMITED_MODULES[top]:
        return "interpreter internals"
    for name in names:
        if name == "*" and top in ("os", "sys"):
            return "interpreter internals"
        if top == "sys" and name not in SYS_NAMES:
            return "interpreter internals"
        if top == "os" and OS_FLAGGED.match(name):
            return "threads and processes"
        if name in FLAGGED_ATTRIBUTES or DUNDER.match(name):
            return "interpreter internals"
    return None


def check_code(code, modules, protected, bound_before=(), checker_names=frozenset(), _depth=0,
               student_classes=(), checks_read=None):
    """[(line, rule, what)] of what `code` (a cell, magics included) does that the course flags.
    `modules` are the names bound to imported modules in the notebook ({alias: module}),
    `protected` the names the release's locked cells define ({name: the module it is bound to,
    or None}): the student may not rebind them. `bound_before` are the names the student's
    earlier cells bind at module scope (reading `In` is not reading the history if the student
    made `In`). `student_classes` describes the classes the student's cells define
    (class_members: (name, plain, instance methods, other members) each). `checks_read` are the
    attribute names the lesson's helper and test cells read (None: any): a class of the student's
    may not define those of a model, a layer or an array (CHECKED_MEMBERS), nor a record maker
    take them as fields, nor a computed value be set on one.
    Code that does not parse gives nothing (it cannot run either)."""
    source = as_python(code, automagic=not _depth)
    if source is None:
        return []
    tree = ast.parse(source)
    checked_members = CHECKED_MEMBERS | FAKE_METHODS if checks_read is None else (
        (CHECKED_MEMBERS | FAKE_METHODS) & checks_read)
    modules = {**modules, **_module_aliases(tree)}
    found = []

    def flag(node, rule):
        segment = ast.get_source_segment(source, node) or type(node).__name__
        found.append((getattr(node, "lineno", 0), rule, segment.splitlines()[0][:80]))

    for node in _walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "{" in node.value:
            for attribute in _format_field_attributes(node.value):
                if DUNDER.match(attribute) or attribute in FLAGGED_ATTRIBUTES:
                    flag(node, f"a format field reads .{attribute} (str.format follows it)")
        if isinstance(node, ast.keyword) and node.arg == "eval_env":
            flag(node.value, "eval_env (a formula's names read from frames further up: the checks')")

    magics = set()
    for node in _walk(tree):
        magic = _magic(node)
        if magic is None:
            continue
        magics.add(id(node.func.value))
        name, args = magic
        if name in PYTHON_MAGICS and _depth < 5:
            pieces = [(piece, 0) for piece in _code_in_arguments(args[0])]
            if len(args) == 2:
                pieces.append((args[1], 1))  # a cell magic's cell, from the line after the magic
            for piece, offset in pieces:
                found += [(node.lineno + offset + line - 1, rule, what) for line, rule, what
                          in check_code(piece, modules, protected, bound_before, checker_names, _depth + 1,
                                        student_classes, checks_read)]
        elif name == "config" and args[0].strip().startswith("InlineBackend."):
            continue
        elif name not in HARMLESS_MAGICS:
            flag(node, f"%{name} (a magic the course does not use)")
        elif re.search(r"[{$]", args[0]):
            flag(node, f"%{name} with {{...}} or $name in its arguments (IPython runs them as Python)")

    decorators = {id(d) for n in _walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                   ast.ClassDef)) for d in n.decorator_list}
    own_attributes = _own_attribute_stores(tree)
    classes = {name: (plain, methods, others) for name, plain, methods, others
               in (*student_classes, *class_members([tree]))}
    plain_text_calls = _plain_text_calls(tree)
    class_names = {id(n.value) for n in _walk(tree) if isinstance(n, ast.Attribute)
                   and n.attr in NAMES_OF_THINGS and isinstance(n.value, ast.Attribute)
                   and n.value.attr == "__class__"}
    called = {id(n.func) for n in _walk(tree) if isinstance(n, ast.Call)}
    defined_functions = {n.name for n in _walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    scopes = _Scopes(bound_before, checker_names,
                     frozenset(name for name in checker_names if protected.get(name))).run(tree)
    for node in scopes.history_reads:
        flag(node, f"{node.id} (IPython's input history)")
    for node in scopes.checker_reads:
        flag(node, f"reads {node.id} (a name of the checks, defined by the test cells or the check helpers)")
    for node, name in scopes.module_bindings:
        if name in checker_names and name in BUILTIN_NAMES:
            flag(node, f"rebinds {name} (a built-in the checks use)")
        elif name in KERNEL_NAMES or (name in protected and not (
                isinstance(node, (ast.Import, ast.ImportFrom)) and protected[name] is not None
                and SAME_MODULES.get(path := _import_paths(node).get(name), path) == protected[name])):
            flag(node, f"rebinds {name} (a name the locked cells define)")
    for node, name in scopes.globals:
        if name in protected or name in KERNEL_NAMES:
            flag(node, f"global {name} (rebinding a name the locked cells define)")

    for node in _walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                rule = _import_rule(alias.name)
                if rule:
                    flag(node, f"import {alias.name} ({rule})")
        elif isinstance(node, ast.ImportFrom):
            rule = _import_rule(node.module or "", [a.name for a in node.names]) if not node.level \
                else "a module the course does not use"
            if rule:
                flag(node, f"import from {'.' * node.level}{node.module or ''} ({rule})")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in VALUE_FLAGGED \
                and id(node) not in called:
            flag(node, f"{node.id} passed as a value ({FLAGGED_CALLS[node.id]})")
        elif isinstance(node, ast.Name) and DUNDER.match(node.id) and node.id not in HONEST_DUNDER_NAMES:
            flag(node, f"{node.id} (interpreter internals)")
        elif isinstance(node, ast.Subscript) and (key := _text_value(node.slice)) is not None and (
                key in SUBSCRIPT_FLAGGED or key in checker_names or DUNDER.match(key)):
            flag(node, f"[{key!r}] (a namespace's {key}: {FLAGGED_CALLS.get(key, 'the checks or internals')})")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            rule = FLAGGED_CALLS.get(node.func.id)
            if node.func.id == "get_ipython" and id(node) in magics:
                rule = None
            if node.func.id == "getattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                    and isinstance(node.args[1].value, str):
                attribute = node.args[1].value
                rule = FLAGGED_ATTRIBUTES.get(attribute) or (
                    "interpreter internals" if DUNDER.match(attribute) else None)
            if node.func.id == "type" and len(node.args) == 3:
                rule = "a class made at run time"
            if rule:
                flag(node, f"{node.func.id}() ({rule})")
        elif isinstance(node, ast.Attribute):
            rule = FLAGGED_ATTRIBUTES.get(node.attr)
            module = modules.get(node.value.id) if isinstance(node.value, ast.Name) else None
            if isinstance(node.value, ast.Name) and node.value.id in classes and node.attr not in NAMES_OF_THINGS:
                plain, methods, others = classes[node.value.id]
                if DUNDER.match(node.attr) or node.attr in methods or not (plain or node.attr in others):
                    rule = "a method reached through its class (called with anything as self, it changes that)"
            elif isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name) \
                    and node.value.func.id == "type" and node.attr not in NAMES_OF_THINGS:
                rule = "a method reached through an object's class"
            if node.attr == "load" and modules.get(_root_name(node)) in PICKLE_LOADING_MODULES:
                rule = "dynamic code"
            if node.attr in PANDAS_TEXT_CALLS and id(node) in plain_text_calls:
                rule = None
            if module in LIMITED_MODULES and node.attr not in LIMITED_MODULES[module]:
                rule = "interpreter internals"
            if module == "IPython" and node.attr not in SHOWING_IMPORTS:
                rule = "IPython's machinery"
            if node.attr in REACHED_MODULES:
                rule = "a module the course does not use, reached through another"
            elif node.attr.startswith("_") and not DUNDER.match(node.attr) and _root_name(node) in modules:
                rule = "a library's private internals"
            if module == "sys" and node.attr not in SYS_NAMES:
                rule = "interpreter internals"
            elif module == "os" and OS_FLAGGED.match(node.attr):
                rule = "threads and processes"
            elif DUNDER.match(node.attr) and (node.attr not in HONEST_DUNDER_READS
                                              or not isinstance(node.ctx, ast.Load)) and id(node) not in class_names:
                rule = "interpreter internals"
            if rule:
                flag(node, f".{node.attr} ({rule})")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and DUNDER.match(node.value) \
                and node.value not in HONEST_DUNDER_READS | HONEST_DUNDER_METHODS:
            flag(node, f"'{node.value}' (a dunder name)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)) and PROCESS_FILES.search(
                node.value if isinstance(node.value, str) else node.value.decode("latin-1")):
            flag(node, "a path to the process's own files or memory (/proc: the test cells' source is there)")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if DUNDER.match(node.name) and node.name not in HONEST_DUNDER_METHODS:
                flag(node, f"def {node.name} (a conversion or comparison hook)")
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name in RECORD_MAKERS and any(
                    isinstance(a, ast.Constant) and isinstance(a.value, str)
                    and set(re.findall(r"\w+", a.value)) & checked_members
                    for arg in node.args + [k.value for k in node.keywords] for a in _walk(arg)):
                flag(node, f"{name}() with a field the checks read of a model (a fake model)")
            if name in ("assign", "assign_add", "assign_sub") and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "iterations":
                flag(node, "sets an optimizer's update count (the checks read it to see the model trained)")
            if name in TIMEIT_CALLS and modules.get(_root_name(node.func)) == "timeit" and (
                    _timeit_text(node) or any(k.arg == "globals" for k in node.keywords)):
                flag(node, f"{name}() of a statement given as text (dynamic code)")
            if name == "wraps" and id(node) not in decorators:
                flag(node, "wraps() used other than as a decorator (patching: it sets attributes on "
                           "what it is applied to)")
            position = PICKLE_POSITIONS.get(name)
            if position is not None and (
                    any(isinstance(a, ast.Starred) for a in node.args[:position + 1])
                    or any(k.arg is None for k in node.keywords)
                    or (len(node.args) > position and not (isinstance(node.args[position], ast.Constant)
                                                          and not node.args[position].value))):
                flag(node, f"{name}() with allow_pickle given by position or unpacked (dynamic code: "
                           "loading a file that runs code)")
            for keyword in node.keywords:
                if keyword.arg in FRAME_KEYWORDS and not (isinstance(keyword.value, ast.Constant)
                                                          and keyword.value.value in (0, 1, 2)):
                    flag(node, f"{keyword.arg}={ast.unparse(keyword.value)} (frames: it names a caller's frame)")
                if keyword.arg in UNSAFE_KEYWORDS and not (isinstance(keyword.value, ast.Constant)
                                                           and keyword.value.value != UNSAFE_KEYWORDS[keyword.arg]):
                    flag(node, f"{keyword.arg}={ast.unparse(keyword.value)} (dynamic code: loading a "
                               "file that runs code)")
        if isinstance(node, ast.arg) or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.AnnAssign)):
            annotation = node.returns if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else node.annotation
            if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
                flag(node, "an annotation written as text (dynamic code: libraries run it as Python)")
        if isinstance(node, ast.ClassDef):
            methods = {f.name for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
            for statement in node.body:
                if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                for name_node in _walk(statement):
                    if isinstance(name_node, ast.Name) and isinstance(name_node.ctx, ast.Load) \
                            and name_node.id in methods:
                        flag(name_node, f"{name_node.id} (a method taken as a value in its class: called "
                                        "with anything as self, it changes that)")
            assigned = set().union(set(), *(_bound_in_scope(statement) for statement in node.body
                                            if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))))
            for member in sorted(name for name in assigned if DUNDER.match(name)
                                 and name not in HONEST_DUNDER_METHODS | HONEST_DUNDER_READS | {"__slots__"}):
                flag(node, f"class {node.name} binds {member} (a conversion or comparison hook)")
            # a library class's own code reads these (Keras' get_weights reads .weights), so a
            # subclass may not define them whatever the checks read; a plain class, only those the
            # checks read (a record with a .weights field is the student's own data)
            members = (checked_members if classes[node.name][0] else (
                CHECKED_MEMBERS | FAKE_METHODS | checked_members)) - LIBRARY_UNREAD_MEMBERS
            for member in sorted(_bound_in_class(node) & members):
                flag(node, f"class {node.name} defines {member} (what the checks read of a model, a "
                           "layer or an array)")
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            value = getattr(node, "value", None)
            replaces_method = isinstance(value, ast.Lambda) or (
                isinstance(value, ast.Name) and (value.id in protected or value.id in defined_functions)) or (
                isinstance(value, ast.Attribute) and _root_name(value) in modules)
            for target in targets:
                for part in (target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]):
                    root = _root_name(part)
                    if isinstance(part, ast.Attribute) and id(node) in own_attributes \
                            and part.attr in FAKE_METHODS & checked_members:
                        flag(node, f"sets .{part.attr} on an object of the student's (what a fake model "
                                   "or array answers with)")
                    if not isinstance(part, ast.Attribute) or id(node) in own_attributes:
                        continue
                    if root in modules and not (_pandas_display_option(part, modules) and _plain_data(value)):
                        flag(node, f"changes {modules[root]} (patching an imported module)")
                    elif replaces_method:
                        flag(node, f"replaces .{part.attr} with a function (patching an object)")
                    elif not (_plain_data(value) or _settable(value, part.attr)):
                        flag(node, f"sets .{part.attr} to a computed value (patching an object: only "
                                   "numbers, text and True/False are set on objects in this course)")
    statement_targets = {id(part) for node in _walk(tree)
                         if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete))
                         for target in (node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target])
                         for part in (target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target])}
    for node in _walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)) \
                and id(node) not in statement_targets:
            flag(node, f".{node.attr} bound as a loop, with, comprehension or unpacking target "
                       "(patching an object)")
    return sorted(set(found))


def _format_field_attributes(text):
    """The attribute names the replacement fields of `text` read when it is used as a str.format
    template ("{0.__traceback__.tb_frame}": __traceback__, tb_frame), nested fields included;
    none for text that is not a valid template."""
    import _string
    found, todo = [], [text]
    while todo:
        try:
            fields = list(_string.formatter_parser(todo.pop()))
        except ValueError:
            continue
        for _, field, spec, _ in fields:
            if field:
                try:
                    _, rest = _string.formatter_field_name_split(field)
                    found += [name for is_attribute, name in rest if is_attribute]
                except ValueError:
                    pass
            if spec and "{" in spec:
                todo.append(spec)
    return found


def _text_value(node):
    """The text an expression always has (a constant, joined constants: `"glob" + "als"`,
    f-strings of constants), or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text_value(node.left), _text_value(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.JoinedStr):
        parts = [_text_value(value) for value in node.values]
        return None if None in parts else "".join(parts)
    return None


def class_members(trees):
    """(name, plain, instance methods, other members) of every class defined in `trees`: plain
    when its bases only make it a record or an enum (PLAIN_BASES) or it has none; its instance
    methods are the functions of its body that are neither static nor class methods."""
    found = []
    for tree in trees:
        for node in _walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = [b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", None) for b in node.bases]
            methods = {f.name for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                       and not any(isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod")
                                   for d in f.decorator_list)}
            found.append((node.name, all(base in PLAIN_BASES for base in bases) and not node.keywords,
                          frozenset(methods), frozenset(_bound_in_class(node) - methods)))
    return tuple(found)


def _plain_text_calls(tree):
    """Ids of the `.query` / `.eval` attributes called with one text that is a plain pandas
    expression (column names, numbers, operators, calls) and no keyword that names variables."""
    plain = set()
    for node in _walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in PANDAS_TEXT_CALLS and len(node.args) == 1 \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str) \
                and PLAIN_PANDAS_EXPRESSION.match(node.args[0].value) \
                and not ATTRIBUTE_IN_TEXT.search(node.args[0].value) \
                and all(k.arg in ("inplace", "engine", "parser") for k in node.keywords):
            plain.add(id(node.func))
    return plain


def _timeit_text(node):
    """Whether a timeit call is given a statement (or set-up) that is not a function: text."""
    values = node.args[:2] + [k.value for k in node.keywords if k.arg in ("stmt", "setup")]
    return any(not isinstance(v, (ast.Lambda, ast.Name, ast.Attribute)) for v in values)


def _settable(value, attribute):
    """Whether setting `.attribute` to a value that is not a literal is a setting students make
    (`optimizer.learning_rate = RATE`, `table.columns = [...]`): only SETTABLE_ATTRIBUTES, never a
    function (check_code catches those first)."""
    return attribute in SETTABLE_ATTRIBUTES and not isinstance(value, ast.Lambda)


def _pandas_display_option(target, modules):
    """Whether an attribute target is one of pandas' display options (`pd.options.display.precision`),
    which change how a table is shown, never a value the checks compare."""
    chain = []
    while isinstance(target, ast.Attribute):
        chain.append(target.attr)
        target = target.value
    return (isinstance(target, ast.Name) and modules.get(target.id) == "pandas"
            and chain[-2:] == ["display", "options"])


def _bound_in_class(node):
    """The names a class body binds: its methods, properties and class attributes."""
    return set().union(set(), *(_bound_in_scope(statement) for statement in node.body))


def _plain_data(value):
    """Whether an assigned value is a literal: a number, text, True/False/None, or a tuple or list
    of them (`model.trainable = False`). `del` (no value) is not."""
    if isinstance(value, ast.UnaryOp):
        value = value.operand
    if isinstance(value, (ast.Tuple, ast.List)):
        return all(_plain_data(element) for element in value.elts)
    return isinstance(value, ast.Constant)


def _own_attribute_stores(tree):
    """Ids of the assignments in a class's methods (not static ones) to attributes of the
    method's first argument: `self.activation = identity` in a class the student wrote. (That
    argument is the object only when the method is called on one: check_code flags reaching a
    method through its class, `Box.put(np, f)`.)"""
    own = set()
    methods = {id(f) for c in _walk(tree) if isinstance(c, ast.ClassDef) for f in c.body
               if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and not any(
                   isinstance(d, ast.Name) and d.id == "staticmethod" for d in f.decorator_list)}
    for function in _walk(tree):
        if id(function) not in methods:
            continue
        arguments = [a.arg for a in function.args.posonlyargs + function.args.args]
        if not arguments:
            continue
        first = arguments[0]
        for node in _walk(function):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                parts = [p for t in targets for p in (t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t])]
                if all(isinstance(p, ast.Attribute) and isinstance(p.value, ast.Name) and p.value.id == first
                       for p in parts):
                    own.add(id(node))
    return own


@functools.lru_cache(maxsize=16)
def _release_names(code_cells):
    """(protected, modules, checker names, attributes the checks read) of a release's code
    cells, given as ((source, kind), ...) with kind "helper" (a locked cell that is neither an
    answer nor a test), "test", "answer" or "other" (the lesson's own cells, the setup cell among
    them).
    - protected: the names the helper cells define, and the names the lesson's own cells bind
      that the test cells read (`keras`, `W0`: the tests compute their expected values with them)
      ({name: the full path of the module it is bound to, or None});
    - modules: the names bound to imported modules ({alias: module});
    - checker names (a frozenset): the functions, classes and modules that only the helper and
      test cells bind (their own code, which an answer that calls it would pass with), and the
      built-ins they use (`isinstance`, `float`: the helpers run in the student's namespace,
      where a rebound built-in would answer for them);
    - attributes the checks read (a frozenset): the attribute names, and identifier-like texts
      (for getattr), of the helper and test cells.
    Cached: every submission of a lesson is read against the same release. Callers must not
    change them."""
    protected, modules, checks, elsewhere, checks_read, attributes = {}, {}, set(), set(), set(), set()
    lesson_bound, tests_read = {}, set()
    for source, kind in code_cells:
        tree = _parse(source)
        cell_modules = _module_aliases(tree)
        modules.update(cell_modules)
        paths = _import_paths(tree)
        if kind == "helper":
            for name in defined_and_read(source)[0]:
                protected[name] = paths.get(name)  # a module's path, or None for a helper
        if kind == "other":
            lesson_bound.update({name: paths.get(name) for name in defined_and_read(source)[0]})
        if kind == "test":
            defined, read = defined_and_read(source)
            tests_read |= set(read) - set(defined)
        if kind in ("helper", "test"):
            checks |= {n.name for n in tree.body
                       if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
            checks |= set(cell_modules)
            checks_read |= {n.id for n in _walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            attributes |= {n.attr for n in _walk(tree) if isinstance(n, ast.Attribute)}
            attributes |= {n.value for n in _walk(tree) if isinstance(n, ast.Constant)
                           and isinstance(n.value, str) and n.value.isidentifier()}
        else:
            elsewhere |= defined_and_read(source)[0]
    for name in tests_read & set(lesson_bound):
        protected.setdefault(name, lesson_bound[name])
    used_builtins = frozenset(name for name in checks_read if name in BUILTIN_NAMES) | test_scope.FOOTER_BUILTINS
    return protected, modules, frozenset(checks - elsewhere - KERNEL_NAMES) | used_builtins, frozenset(attributes)


def review(nb, released, source=None):
    """Findings in the cells of `nb` that the student wrote or changed (a source that is not a
    cell of the release), in notebook order. With the lesson's `source` notebook, the names its
    test cells use are read with their hidden tests (`range`, `pd` that only a hidden test uses
    are the checks' too)."""
    release_sources = {c.source.strip() for c in released.cells}
    full_tests = {cells.grade_id(c): c.source for c in (source.cells if source else []) if cells.is_test(c)}
    protected, modules, checker_names, checks_read = _release_names(tuple(
        (full_tests.get(cells.grade_id(cell), cell.source) if cells.is_test(cell) else cell.source,
         "test" if cells.is_test(cell) else "answer" if cells.is_answer(cell)
         else "helper" if cells.grade_id(cell) else "other") for cell in released.cells if cell.cell_type == "code"))
    changed = [cell.source for cell in nb.cells
               if cell.cell_type == "code" and cell.source.strip() not in release_sources]
    trees = [_parse(source) for source in changed]
    modules = {**modules, **derived_aliases(trees, modules)}
    release_names = (tuple(sorted(protected.items())), tuple(sorted(modules.items())), checker_names,
                     class_members(trees), checks_read)
    findings, bound = [], frozenset()
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code" or cell.source.strip() in release_sources:
            continue
        where = cells.grade_id(cell) or f"cell {number}"
        found, bound = _review_cell(cell.source, *release_names, bound)
        trusted = [header for header in (TEST_CELL_HEADER, CHECKS_CELL_HEADER) if header in cell.source]
        found += tuple((1, f"holds {header!r}, the first line of the cells the grader trusts", "")
                       for header in trusted)
        findings += [Finding(where, line, rule, code.splitlines()[0][:80] if code else "")
                     for line, rule, code in found]
    return findings


@functools.lru_cache(maxsize=4096)
def _review_cell(source, protected, modules, checker_names, student_classes, checks_read, bound):
    """(check_code's findings, the module names bound after the cell) of a cell after cells that
    bound `bound`; `protected` and `modules` as sorted item tuples. Cached: the submissions of a
    class share most of their cells, and each is read after the same cells."""
    found = tuple(check_code(source, dict(modules), dict(protected), bound, checker_names,
                             student_classes=student_classes, checks_read=checks_read))
    python = as_python(source)
    if python is not None:
        bound = frozenset(_Scopes(bound).run(ast.parse(python)).bound)
    return found, bound
