"""The warm-kernel server, run inside a bubblewrap sandbox as `python -c SOURCE
SOCKET MODULE...` imports the modules (TensorFlow's import is most of a cold kernel's start),
then forks one student kernel per request, so no kernel pays for the imports again.

Each forked kernel is as separate from the server and from the kernels before it as a kernel in
a sandbox of its own: it gets new user, mount, PID, IPC, network and UTS namespaces, a fresh size-limited
tmpfs as working directory and as /tmp (the server's are hidden under them), sees of the
grader's socket directories only its own, runs as the init of its own PID namespace's tree
(so it sees no other process and ends with everything it started), with every capability
dropped, its own session keyring, its own resource limits and the grader's system-call filter
(course/syscall_filter.py). The server itself is not dumpable: a kernel cannot read or
write its memory through /proc. Where the imports bring patsy (statsmodels' formulas), its kernels
run only plain formula terms (guard_formulas); no kernel keeps a hidden test's lines in linecache
(guard_hidden_tests); every cell starts with the libraries as imported (guard_libraries); no
student cell's code takes a frame or a code object (guard_frames).

A kernel started cold gets the same guards (guarded_kernel, `python -c SOURCE --cold-kernel`).

A request is one line of JSON on the server's Unix socket: {"connection_file", "runtime_dir",
"workdir", "workdir_bytes", "tmp_bytes", "limits": {"AS": bytes, "CPU": seconds, ...},
"seccomp": the filter's BPF program in base64, or null, "python_dirs": this Python's folders,
bound back read-only where a fresh tmpfs would hide them}. The
forked process connects to `runtime_dir`/fork.sock, where the grader learns its PID, and goes on
when the grader answers.
"""
import ast
import base64
import ctypes
import errno
import functools
import gc
import importlib
import json
import os
import platform
import resource
import select
import signal
import socket
import sys

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x20000, 0x4000000, 0x8000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x1, 0x20, 0x1000, 0x4000, 0x40000
SYS_KEYCTL = {"x86_64": 250, "aarch64": 219}
KEYCTL_JOIN_SESSION_KEYRING = 1
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446  # every architecture
LANDLOCK_ACCESS_FS_WRITE_FILE, LANDLOCK_ACCESS_FS_READ_FILE, LANDLOCK_RULE_PATH_BENEATH = 1 << 1, 1 << 2, 1
# What a kernel may open under /proc besides its own /proc/<pid>: what libraries read of the machine
PROC_OPENED = ("cpuinfo", "meminfo", "stat", "loadavg", "uptime", "version", "filesystems", "sys")
FORK_SOCKET = "fork.sock"

libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _mount(source, target, fstype, flags, data=None):
    _check(libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                      ctypes.c_ulong(flags), data and data.encode()), f"mount {target}")


def _drop_capabilities():
    """No capability now, none after an execve, none ever again (no new privileges)."""
    for capability in range(64):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    _check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient caps")
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: twice, all zero
    _check(libc.capset(header, data), "capset")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no new privileges")


def _enter_namespaces(request):
    """Own user, mount, PID, IPC, network and UTS namespaces; fresh tmpfs for the working
    directory, /tmp and /dev/shm; of the socket directories, only this kernel's; / and /dev
    read-only; a new session keyring."""
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET
                        | CLONE_NEWUTS), "unshare")
    # The same uid inside (not root): an execve gains nothing. The capabilities the new
    # namespace gives its creator serve for the mounts below only; the kernel drops them all.
    libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # else /proc/self/uid_map is not this process's
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)
    # This process keeps capabilities over the kernel's namespaces: nothing of the kernel's
    # (same uid) may open its memory.
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    job = os.open(request["runtime_dir"], os.O_PATH | os.O_DIRECTORY)  # bound back below
    fresh = (request["workdir"], "/tmp", "/dev/shm")
    # Python itself where a fresh tmpfs would hide it (a checkout under /tmp): bound back below
    python = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in request["python_dirs"]
              if any(path.startswith(folder + "/") for folder in fresh)}
    for target, size in ((request["workdir"], request["workdir_bytes"]), ("/tmp", request["tmp_bytes"])):
        _mount("tmpfs", target, "tmpfs", 0, f"size={size},mode=1777")
    sockets_root = os.path.dirname(request["runtime_dir"])
    if os.path.isdir(sockets_root):  # else it was under /tmp, now a new one
        _mount("tmpfs", sockets_root, "tmpfs", 0, "size=1m,mode=0755")
    os.makedirs(request["runtime_dir"])
    _mount(f"/proc/self/fd/{job}", request["runtime_dir"], None, MS_BIND)
    os.close(job)
    if os.path.isdir("/dev/shm"):  # the server's otherwise, shared by every kernel after it
        _mount("tmpfs", "/dev/shm", "tmpfs", 0, f"size={request['tmp_bytes']},mode=1777")
    for path, folder in python.items():
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{folder}", path, None, MS_BIND | MS_REC)
        _read_only(path)
        os.close(folder)
    for path in ("/dev", "/"):  # writable to the grader's own user when it is not root
        _read_only(path)
    # a session keyring of its own, not the grader's (a service's or a login's)
    if libc.syscall(SYS_KEYCTL[platform.machine()], KEYCTL_JOIN_SESSION_KEYRING, None) < 0:
        _check(-1, "a session keyring of its own")


def _read_only(path):
    """Remount the mount at `path` read-only, keeping the flags it has (a mount the namespace's
    creator made is locked: its nosuid, nodev... cannot be dropped)."""
    kept = os.statvfs(path).f_flag
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY
    for statvfs_flag, mount_flag in ((os.ST_NOSUID, 0x2), (os.ST_NODEV, 0x4), (os.ST_NOEXEC, 0x8),
                                     (os.ST_NOATIME, 0x400), (os.ST_NODIRATIME, 0x800),
                                     (os.ST_RELATIME, 0x200000)):
        if kept & statvfs_flag:
            flags |= mount_flag
    _mount(None, path, None, flags)


def _set_limits(limits):
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (value, value))


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def _load_syscall_filter(program):
    """Install the seccomp filter `program` (a BPF program: 8 bytes an instruction) on this
    process, for good and for everything it starts; needs no_new_privs."""
    fprog = _SockFprog(len(program) // 8, program)
    _check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp filter")


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _confine_proc():
    """From now on this process, and all it starts, opens no file under /proc but its own
    directory (whose memory file and threads _hide_own_memory or bwrap hid) and PROC_OPENED:
    the memory of each of its threads is also at /proc/<thread id>/mem, under a number that
    does not exist yet when the kernel starts (round 12 read and wrote it). Landlock (Linux 5.13
    and later) restricts opening files for reading and writing, by where they are; everything
    else under / stays as it was. Where the kernel has no Landlock, nothing changes."""
    me = os.readlink("/proc/self")
    access = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE
    handled = ctypes.c_uint64(access)
    ruleset = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(handled), ctypes.sizeof(handled), 0)
    if ruleset < 0:
        error = ctypes.get_errno()
        if error in (errno.ENOSYS, errno.EOPNOTSUPP):
            return
        raise OSError(error, f"landlock: {os.strerror(error)}")
    try:
        for path in [*(os.path.join("/", name) for name in os.listdir("/") if name != "proc"),
                     f"/proc/{me}", *(f"/proc/{name}" for name in PROC_OPENED)]:
            try:
                where = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # a dangling link, a file this /proc does not have
            try:
                rule = _PathBeneath(access, where)
                _check(libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH,
                                    ctypes.byref(rule), 0), f"landlock rule for {path}")
            finally:
                os.close(where)
        _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no new privileges")
        _check(libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock")
    finally:
        os.close(ruleset)


def _hide_own_memory():
    """This process's /proc/self/mem reads as /dev/null (writes go nowhere), and its threads'
    (/proc/self/task/*/mem) are not there: through them a cell's code could rewrite the bytecode of
    the checks and of numpy in place (no object changes, so nothing is put back) or read the
    hidden tests left in freed memory (round 9). Other processes cannot open it: the kernel's own
    children see these mounts too. Needs CAP_SYS_ADMIN over the mount namespace."""
    me = os.readlink("/proc/self")  # the PID in the namespace /proc was mounted for
    _mount("/dev/null", f"/proc/{me}/mem", None, MS_BIND)
    _mount("tmpfs", f"/proc/{me}/task", "tmpfs", MS_RDONLY, "size=4k,mode=0555")


def _kernel(request):
    """The student's kernel: a new session, its own memory hidden, no capability, its limits,
    the system-call filter, then ipykernel."""
    os.setsid()
    _hide_own_memory()
    _confine_proc()
    libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # as any process of its own: /proc/self is its own
    os.chdir(request["workdir"])
    _drop_capabilities()
    _set_limits(request["limits"])
    if request.get("seccomp"):
        _load_syscall_filter(base64.b64decode(request["seccomp"]))
    for number in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)
    sys.argv = ["ipykernel_launcher", "-f", request["connection_file"]]
    # No debugger in a graded kernel: ipykernel imports it for every kernel, and debugpy's
    # import walks every module loaded (0.7 s after TensorFlow's thousands); nobody attaches one.
    sys.modules["debugpy"] = None
    from ipykernel import kernelapp
    kernelapp.launch_new_instance()


def _init(parent_alive):
    """PID 1 of the kernel's namespace: starts the kernel, reaps whatever is orphaned, and ends
    (taking every process of the namespace with it) when the kernel ends or its parent dies.
    `parent_alive`: the read end of a pipe whose write end only the parent holds."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if select.select([parent_alive], [], [], 0)[0]:  # end of file: the parent died already
        os._exit(1)
    os.close(parent_alive)
    kernel = os.fork()
    if kernel:
        _drop_capabilities()  # the kernel drops its own once it has hidden its memory
    return kernel


def _forked(request):
    """The process the grader holds as the kernel's: tells the grader its PID, sets up the
    namespaces, and waits for the namespace's init."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as grader:
        grader.connect(os.path.join(request["runtime_dir"], FORK_SOCKET))
        grader.recv(1)  # the grader holds a pidfd of this process now
    _enter_namespaces(request)
    parent_alive, alive = os.pipe()
    init = os.fork()
    if init == 0:
        os.close(alive)
        kernel = _init(parent_alive)
        if kernel == 0:
            try:
                _kernel(request)
            except BaseException as error:  # noqa: BLE001 (the kernel's stderr: the server's log)
                print(f"course.kernel_zygote: kernel: {type(error).__name__}: {error}", file=sys.stderr)
                os._exit(70)
            os._exit(0)
        while True:
            pid, status = os.wait()
            if pid == kernel:
                os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    os.close(parent_alive)
    _, status = os.waitpid(init, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


# A formula term (statsmodels' formulas, through patsy) is Python that patsy runs in the student's
# namespace: text the grader's review of the student's cells (course/integrity.py) cannot read.
# A warm kernel runs only terms built from names, numbers, text, operators, calls and these
# attributes (`np.log(x)`, `I(x ** 2)`, `C(group)`, patsy's own `center(x)`).
FORMULA_NODES = ("Expression", "Name", "Load", "Constant", "Attribute", "Call", "keyword", "BinOp",
                 "UnaryOp", "Compare", "BoolOp", "Subscript", "Slice", "Tuple", "List", "IfExp",
                 "Add", "Sub", "Mult", "Div", "FloorDiv", "Mod", "Pow", "MatMult", "USub", "UAdd",
                 "Not", "Invert", "BitAnd", "BitOr", "BitXor", "LShift", "RShift", "And", "Or",
                 "Eq", "NotEq", "Lt", "LtE", "Gt", "GtE", "In", "NotIn", "Is", "IsNot")
FORMULA_ATTRIBUTES = {"log", "log2", "log10", "log1p", "exp", "expm1", "sqrt", "square", "abs",
                      "power", "sign", "sin", "cos", "tan", "floor", "ceil", "round", "clip",
                      "maximum", "minimum", "mean", "std", "astype", "values", "shift", "diff",
                      "cumsum", "rank", "transform", "memorize_chunk", "memorize_finish"}
FORMULA_REFUSED_NAMES = {"exec", "eval", "compile", "getattr", "setattr", "delattr", "open",
                         "globals", "locals", "vars", "breakpoint", "input", "memoryview", "type",
                         "object", "super", "help", "exit", "quit", "dir", "id", "classmethod",
                         "staticmethod", "property"}


def formula_term_problem(code):
    """Why a graded kernel does not run the formula term `code` (a Python expression patsy would
    evaluate), or None. Names starting with _ are refused but patsy's own (_patsy_stobj...)."""
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError:
        return None  # patsy reports it
    for node in ast.walk(tree):
        if type(node).__name__ not in FORMULA_NODES:
            return f"{type(node).__name__} in a formula"
        if isinstance(node, ast.Attribute) and node.attr not in FORMULA_ATTRIBUTES:
            return f".{node.attr} in a formula"
        if isinstance(node, ast.Name) and (node.id in FORMULA_REFUSED_NAMES or (
                node.id.startswith("_") and not node.id.startswith("_patsy_stobj"))):
            return f"{node.id} in a formula"
    return None


def guard_formulas():
    """Make patsy (already imported) refuse formula terms formula_term_problem refuses."""
    from patsy import PatsyError
    from patsy.eval import EvalEnvironment
    evaluate = EvalEnvironment.eval

    def guarded(self, expr, source_name="<string>", inner_namespace={}):  # noqa: B006 (patsy's own)
        problem = formula_term_problem(expr)
        if problem:
            raise PatsyError(f"the grader does not run this formula term ({problem}): {expr}")
        return evaluate(self, expr, source_name, inner_namespace)

    EvalEnvironment.eval = guarded


HIDDEN_TESTS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")  # nbgrader's delimiters


def without_hidden_tests(lines):
    """`lines` (a cell's source lines) with every line of its hidden tests blank, markers
    included, so that line numbers stay right."""
    kept, inside = [], False
    for line in lines:
        begins, ends = HIDDEN_TESTS[0] in line, HIDDEN_TESTS[1] in line
        kept.append("\n" if inside or begins or ends else line)
        inside = (inside or begins) and not ends
    return kept


def guard_hidden_tests():
    """Keep no hidden test in the kernel while and after its cell runs: ipykernel keeps the
    request being run (get_parent(): its code), IPython caches each cell's source in linecache
    for its tracebacks (where code that formats a frame or a warning, warnings.formatwarning,
    reads it) and in its input history (In, _ih, _i): a test cell's hidden lines are kept blank
    in all three. The cell runs as written."""
    import linecache

    from ipykernel.ipkernel import IPythonKernel
    from IPython.core.compilerop import CachingCompiler
    from IPython.core.history import HistoryManager
    cache, store_inputs, do_execute = CachingCompiler.cache, HistoryManager.store_inputs, IPythonKernel.do_execute

    async def do_execute_without_hidden_tests(self, code, *args, **kwargs):
        content = (self.get_parent("shell") or {}).get("content", {})
        if HIDDEN_TESTS[0] in content.get("code", ""):
            content["code"] = blank(content["code"])
        return await do_execute(self, code, *args, **kwargs)

    def blank(source):
        return "".join(without_hidden_tests(source.splitlines(keepends=True))) if source else source

    def store_inputs_without_hidden_tests(self, line_num, source, source_raw=None):
        return store_inputs(self, line_num, blank(source), blank(source_raw))

    def cache_without_hidden_tests(self, transformed_code, number=0, raw_code=None):
        name = cache(self, transformed_code, number, raw_code)
        if HIDDEN_TESTS[0] in transformed_code and name in linecache.cache:
            size, mtime, lines, filename = linecache.cache[name]
            linecache.cache[name] = (size, mtime, without_hidden_tests(lines), filename)
        return name

    CachingCompiler.cache = cache_without_hidden_tests
    HistoryManager.store_inputs = store_inputs_without_hidden_tests
    IPythonKernel.do_execute = do_execute_without_hidden_tests


# What the check helpers and the test cells use of the libraries: each cell starts with these
# modules, their classes (and the classes' bases) and those classes' functions as imported.
# keras.src.backend.config holds Keras' global settings (epsilon, floatx), which the reference losses
# and layers of the test cells compute with (epsilon 0.5 clips every cross-entropy to log 2).
GUARDED_MODULES = ("builtins", "math", "numpy", "numpy.linalg", "keras", "keras.layers", "keras.ops",
                   "keras.models", "keras.utils", "keras.optimizers", "keras.activations",
                   "keras.src.backend.config")
# Keras' global state kept outside a module's namespace (keras.config.set_dtype_policy)
KERAS_GLOBAL_ATTRIBUTES = ("dtype_policy",)
_MISSING = object()


def _library_state():
    """(modules' namespaces, classes' namespaces, functions' code and defaults) of the guarded
    modules now: {module: dict}, {class: dict}, {function: (code, defaults, kwdefaults)}."""
    import types
    modules = [sys.modules[name] for name in GUARDED_MODULES if name in sys.modules]
    classes = {}
    for module in modules:
        for value in list(vars(module).values()):
            if isinstance(value, type) and value.__module__.split(".")[0] in ("keras", "numpy"):
                for cls in value.__mro__:
                    if cls is not object and not cls.__flags__ & (1 << 8):  # Py_TPFLAGS_IMMUTABLETYPE
                        classes.setdefault(cls, dict(vars(cls)))
    functions = {}
    for namespace in [vars(module) for module in modules] + list(classes.values()):
        for value in namespace.values():
            function = getattr(value, "_implementation", value)  # numpy's dispatchers
            function = getattr(function, "__func__", function)  # static and class methods
            if isinstance(function, types.FunctionType):
                functions[function] = (function.__code__, function.__defaults__, function.__kwdefaults__)
    return {module: dict(vars(module)) for module in modules}, classes, functions, _keras_global_attributes()


def _keras_global_attributes():
    """{name: value} of KERAS_GLOBAL_ATTRIBUTES now ({} where Keras is not imported)."""
    if "keras.src.backend.common.global_state" not in sys.modules:
        return {}
    global_state = sys.modules["keras.src.backend.common.global_state"]
    return {name: global_state.get_global_attribute(name) for name in KERAS_GLOBAL_ATTRIBUTES}


def _same_setting(before, now):
    """Whether a Keras global attribute is as it was: a dtype policy by its name (Keras sets the
    default policy, unset at first, the first time a layer asks for it: that is no change)."""
    name = getattr(before, "name", None) or "float32"
    return now is before or (getattr(now, "name", None) or "float32") == name


def _restore(state):
    """Put back what changed in the guarded libraries since `state` (_library_state()); returns
    the names of what was put back."""
    modules, classes, functions, keras_attributes = state
    restored = []
    if keras_attributes:
        global_state = sys.modules["keras.src.backend.common.global_state"]
        for name, value in keras_attributes.items():
            if not _same_setting(value, global_state.get_global_attribute(name)):
                global_state.set_global_attribute(name, value)
                restored.append(f"keras {name}")
    for module, names in modules.items():
        current = vars(module)
        for name, value in names.items():
            if current.get(name, _MISSING) is not value:
                setattr(module, name, value)
                restored.append(f"{module.__name__}.{name}")
    for cls, names in classes.items():
        current = cls.__dict__
        for name, value in names.items():
            if current.get(name, _MISSING) is not value:
                setattr(cls, name, value)
                restored.append(f"{cls.__name__}.{name}")
        for name in set(current) - set(names):  # an inherited name overridden on the class
            if not name.startswith("_") and any(name in vars(base) for base in cls.__mro__[1:]):
                delattr(cls, name)
                restored.append(f"{cls.__name__}.{name}")
    for function, (code, defaults, kwdefaults) in functions.items():
        if function.__code__ is not code or function.__defaults__ is not defaults \
                or function.__kwdefaults__ is not kwdefaults:  # by identity: defaults may hold arrays
            function.__code__, function.__defaults__, function.__kwdefaults__ = code, defaults, kwdefaults
            restored.append(function.__qualname__)
    return restored


# The execute reply's field that names what was put back in the libraries, before the cell or
# after it (what student code changed): the grader flags the submission with it
# (nbgrader_plugins.ResilientExecute). Sent in the reply, which no cell's output can crowd out.
LIBRARIES_CHANGED = "course_libraries_changed"


def guard_libraries():
    """Every cell of a kernel starts with numpy, math, the built-ins and Keras as imported: what
    an earlier cell rebound in their modules or classes, or changed in their functions (code,
    defaults), is put back and said on stderr. A check then runs on the libraries it was written
    for, however the student's code reached them (a patch made while a test cell runs, by a
    function it calls, lasts until that cell ends; then it is put back too, and named in the
    cell's execute reply, LIBRARIES_CHANGED, which flags the submission). What the checks cell
    changes (the training record's keras.Model.fit, course/training_record.py) is kept as the
    libraries' state."""
    from ipykernel.ipkernel import IPythonKernel
    state, do_execute = _library_state(), IPythonKernel.do_execute

    async def do_execute_on_the_libraries(self, code, *args, **kwargs):
        nonlocal state
        restored = _restore(state)
        if restored:
            print(f"course: 이 셀 전에 라이브러리를 원래대로 되돌렸습니다 (put back before this cell): "
                  f"{', '.join(sorted(set(restored))[:10])}", file=sys.stderr)
        reply = await do_execute(self, code, *args, **kwargs)
        if code.lstrip().startswith(CHECKS_CELL_HEADER):
            state = _library_state()
            return reply
        changed = _restore(state)
        if changed:
            print(f"course: 이 셀이 라이브러리를 바꿔 원래대로 되돌렸습니다 (changed while this cell ran, put "
                  f"back): {', '.join(sorted(set(changed))[:10])}", file=sys.stderr)
        if (restored or changed) and isinstance(reply, dict):
            reply = {**reply, LIBRARIES_CHANGED: sorted(set(restored + changed))[:20]}
        return reply

    IPythonKernel.do_execute = do_execute_on_the_libraries


# Whose hooks a kernel may gain while a lesson runs (`%matplotlib inline` registers one)
HOOK_MODULES = ("IPython", "ipykernel", "matplotlib", "matplotlib_inline", "ipywidgets", "comm")
# The first line of the release's checks cell (course/checks.py), which sets IPython's custom
# exception handler for blank answers: after that cell, its handler is the one kept
CHECKS_CELL_HEADER = "# 채점 도우미(check helpers)"
# Objects the shell holds that run or show every cell (replaced, they decide what a cell does)
SHELL_PARTS = ("compile", "displayhook", "display_pub", "display_trap", "builtin_trap",
               "input_transformer_manager", "events", "history_manager")


def _hook_lists(shell):
    """{name: the list} of what IPython runs on every cell: its input and AST transformers and
    the event callbacks."""
    manager = shell.input_transformer_manager
    lists = {"input_transformers_post": shell.input_transformers_post,
             "cleanup_transforms": manager.cleanup_transforms, "line_transforms": manager.line_transforms,
             "token_transformers": manager.token_transformers, "ast_transformers": shell.ast_transformers}
    lists.update({f"events.{event}": hooks for event, hooks in shell.events.callbacks.items()})
    return lists


def _library_hook(hook):
    module = getattr(hook, "__module__", None)
    return isinstance(module, str) and module.split(".")[0] in HOOK_MODULES


def _shell_state(shell):
    return ({name: list(hooks) for name, hooks in _hook_lists(shell).items()},
            {name: getattr(shell, name, _MISSING) for name in SHELL_PARTS},
            (shell.custom_exceptions, shell.CustomTB), set(vars(shell)))


def _restore_shell(shell, state):
    """Put IPython's hooks back as `state` (_shell_state()) had them: transformers exactly,
    event callbacks with those IPython's own libraries added since; the shell's parts, its
    custom exception handler, and no method of its own shadowed. Returns what was put back."""
    lists, parts, custom, names = state
    restored = []
    for name, value in parts.items():  # first: the lists below are read off two of them
        if value is not _MISSING and getattr(shell, name, _MISSING) is not value:
            setattr(shell, name, value)
            restored.append(name)
    for name, hooks in _hook_lists(shell).items():
        saved = lists.get(name, [])
        kept = saved + [h for h in hooks if name.startswith("events.") and _library_hook(h)
                        and not any(h is s for s in saved)]
        if len(kept) != len(hooks) or any(a is not b for a, b in zip(kept, hooks)):
            hooks[:] = kept
            restored.append(name)
    if (shell.custom_exceptions, shell.CustomTB) != custom:
        shell.custom_exceptions, shell.CustomTB = custom
        restored.append("custom_exceptions")
    for name in set(vars(shell)) - names:
        if callable(vars(shell)[name]) and hasattr(type(shell), name):
            delattr(shell, name)
            restored.append(name)
    return restored


def _helpers_bound(namespace, before):
    """{name: (value, its code, defaults, keyword defaults)} of the functions, classes and modules
    a cell bound in `namespace` (compared with `before`, the namespace before the cell)."""
    import types
    return {name: (value, getattr(value, "__code__", None), getattr(value, "__defaults__", None),
                   getattr(value, "__kwdefaults__", None))
            for name, value in namespace.items() if before.get(name, _MISSING) is not value
            and isinstance(value, (types.FunctionType, type, types.ModuleType))}


def _with_own_globals(namespace, helpers):
    """Bind again in `namespace` each function of `helpers` (_helpers_bound()) that looks up its
    names there, as the same function looking them up in a copy of `namespace` as it is now: the
    check helpers then call each other, numpy and the built-ins as the checks cell left them,
    whatever a later cell binds (`from numpy import *` puts numpy's `bool`, `all` and `sum` where
    the helpers looked for Python's)."""
    import types
    own = dict(namespace)
    for name, (value, *_) in helpers.items():
        if isinstance(value, types.FunctionType) and value.__globals__ is namespace:
            rebuilt = types.FunctionType(value.__code__, own, value.__name__, value.__defaults__, value.__closure__)
            rebuilt.__kwdefaults__, rebuilt.__qualname__ = value.__kwdefaults__, value.__qualname__
            rebuilt.__dict__.update(vars(value))
            own[name] = namespace[name] = rebuilt


def _restore_helpers(namespace, helpers):
    """Bind again what `helpers` (_helpers_bound()) holds, with its functions' code and defaults;
    returns the names put back."""
    restored = []
    for name, (value, code, defaults, kwdefaults) in helpers.items():
        if namespace.get(name, _MISSING) is not value:
            namespace[name] = value
            restored.append(name)
        if code is not None and (value.__code__ is not code or value.__defaults__ is not defaults
                                 or value.__kwdefaults__ is not kwdefaults):
            value.__code__, value.__defaults__, value.__kwdefaults__ = code, defaults, kwdefaults
            restored.append(name)
    return restored


def guard_magics():
    """A magic's or a shell command's arguments are passed as written: IPython would first run
    every `{expression}` in them as Python and put in every `$name` (`%pwd {exec(...)}`), code
    that no reading of the cells sees as code."""
    from IPython.core.interactiveshell import InteractiveShell

    def var_expand(self, cmd, depth=0, formatter=None):
        return cmd

    InteractiveShell.var_expand = var_expand


def guard_shell():
    """Every cell of a kernel runs through IPython as the kernel started: input and AST
    transformers, event callbacks (pre_run_cell, post_run_cell...), custom exception handlers and
    the shell's own methods that an earlier cell added, removed or replaced are put back and said
    on stderr, so that no student code, read or not, decides how a test cell runs. So are the
    check helpers: what the checks cell binds (functions, classes, modules) and its functions'
    code and defaults. The checks cell is the cell that starts as course/checks.py does (the
    release's own, which nbgrader restores, or a student's copy of its first line, which the
    reading of the cells sees); the custom exception handler kept is the one it sets."""
    from ipykernel.ipkernel import IPythonKernel
    do_execute, states = IPythonKernel.do_execute, {}

    async def do_execute_through_the_shell(self, code, *args, **kwargs):
        shell = self.shell
        state = states.setdefault(id(shell), {"shell": _shell_state(shell), "helpers": {}})
        restored = _restore_shell(shell, state["shell"]) + _restore_helpers(shell.user_ns, state["helpers"])
        if restored:
            print(f"course: 이 셀 전에 IPython 설정과 채점 도우미를 원래대로 되돌렸습니다 (put back before "
                  f"this cell): {', '.join(sorted(set(restored))[:10])}", file=sys.stderr)
        checks_cell = code.lstrip().startswith(CHECKS_CELL_HEADER)
        before = dict(shell.user_ns) if checks_cell else None
        reply = await do_execute(self, code, *args, **kwargs)
        if checks_cell:
            lists, parts, _, names = state["shell"]
            state["shell"] = (lists, parts, (shell.custom_exceptions, shell.CustomTB), names)
            _with_own_globals(shell.user_ns, _helpers_bound(shell.user_ns, before))
            state["helpers"] = _helpers_bound(shell.user_ns, before)
        return reply

    IPythonKernel.do_execute = do_execute_through_the_shell


# Frames are how code reads the locals of the code that called it: a test cell's expected values,
# while the test calls the student's function. A cell's own code that takes a frame or a code
# object (by any route CPython audits: getattr, a format string's fields, a traceback's,
# generator's or coroutine's frame, sys._getframe, gc's object lists, tracing, or inspect's and
# traceback's functions that return frames, called directly) gets an error. The test cells
# (course/test_scope.py's first line) and the checks cell keep them; so does library code
# (IPython's tracebacks, logging, Keras).
FRAME_ATTRIBUTES = {"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_code", "gi_code", "cr_code",
                    "ag_code", "__code__"}
FRAME_EVENTS = {"sys._getframe", "sys._current_frames", "sys.settrace", "sys.setprofile",
                "gc.get_objects", "gc.get_referrers", "gc.get_referents"}
# Library functions that hand the frames they take to whoever calls them (traceback.format_exc
# does not); for sys._getframe, which only the current stack's frames come from, any function of
# FRAME_MODULES (traceback.extract_stack, inspect.stack, ...) counts.
FRAME_HELPERS = {("inspect", name) for name in ("currentframe", "stack", "trace", "getouterframes",
                                                  "getinnerframes")} | {
    ("traceback", "walk_stack"), ("traceback", "walk_tb"), ("asyncio.base_tasks", "_task_get_stack")}
FRAME_MODULES = {"inspect", "traceback"}
TEST_CELL_HEADER = "@lambda test_cell: test_cell()"  # the first line of a test cell as graded
FRAMES_REFUSED = ("채점할 때는 셀의 코드가 프레임(frame)이나 코드 객체를 꺼낼 수 없습니다 "
                  "(a cell's code may not take frames or code objects while it is graded)")


def _a_librarys(frame):
    """True if `frame` runs this module's code, or the code of a module installed with Python (its
    standard library, site-packages) in that module's own namespace: not the notebook's, nor a
    namespace made for exec, nor a file a cell wrote (the code's own file name must be installed)."""
    namespace = frame.f_globals
    if namespace is globals():
        return True
    name = namespace.get("__name__")
    module = sys.modules.get(name) if isinstance(name, str) else None
    if module is None or getattr(module, "__dict__", None) is not namespace:
        return False
    file = frame.f_code.co_filename
    if file.startswith("<frozen "):  # importlib's own, frozen into the interpreter
        return name.partition(".")[0] in sys.stdlib_module_names
    return installed(file)


@functools.lru_cache(maxsize=4096)
def installed(path):
    """True if `path` (a file or folder) is where Python and its packages are installed."""
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    real = os.path.realpath(path)
    return any(real == root or real.startswith(root + os.sep) for root in roots)


def guard_imports():
    """A cell imports only what is installed: the working folder (where a cell may write a file
    named like a module, `statistics.py`) and anything else outside Python's installation is
    taken off sys.path before every cell (IPython puts '' there as it starts)."""
    from ipykernel.ipkernel import IPythonKernel
    do_execute = IPythonKernel.do_execute

    async def do_execute_with_installed_modules(self, code, *args, **kwargs):
        sys.path[:] = [path for path in sys.path if path and installed(path)]
        return await do_execute(self, code, *args, **kwargs)

    IPythonKernel.do_execute = do_execute_with_installed_modules


def guard_frames():
    """Refuse frames and code objects to the code of the student's cells (FRAME_ATTRIBUTES,
    FRAME_EVENTS): an audit hook (sys.addaudithook, which nothing removes) raises unless the code
    that asked (looking past FRAME_HELPERS to who called them) is a library's (_a_librarys) or
    a test cell's or the checks cell's: the student's cells, and whatever they run with exec
    or a magic, are neither."""
    import threading

    from ipykernel.ipkernel import IPythonKernel
    from IPython.core.compilerop import CachingCompiler
    cache, do_execute = CachingCompiler.cache, IPythonKernel.do_execute
    trusted, local = set(), threading.local()
    cells_started = threading.Event()  # before the first cell, only the kernel's own start-up runs

    def cache_trusting_the_graders_cells(self, transformed_code, number=0, raw_code=None):
        name = cache(self, transformed_code, number, raw_code)
        if transformed_code.lstrip().startswith((TEST_CELL_HEADER, CHECKS_CELL_HEADER)):
            trusted.add(name)
        return name

    async def do_execute_marking_cells_started(self, code, *args, **kwargs):
        cells_started.set()
        return await do_execute(self, code, *args, **kwargs)

    def a_cells(frame):
        return frame is not None and not (frame.f_code.co_filename in trusted or _a_librarys(frame))

    def signal_refused_to_cells(signalnum, handler, _install=signal.signal):
        """signal.signal, except that a cell's code may not set a function as a handler: it would
        be called with the frame it interrupted, a route to the test cell's names that no audit
        event sees (SIG_IGN and SIG_DFL pass)."""
        if callable(handler) and a_cells(sys._getframe(1)):
            raise ValueError(FRAMES_REFUSED)
        return _install(signalnum, handler)

    def refuse_frames_to_cells(event, args):
        if event == "object.__getattr__":
            if args[1] not in FRAME_ATTRIBUTES:
                return
        elif event not in FRAME_EVENTS:
            return
        if not cells_started.is_set() or getattr(local, "busy", False):
            return
        local.busy = True  # what this hook does raises the same events
        try:
            frame = sys._getframe(1)
            while frame is not None and (
                    (frame.f_globals.get("__name__"), frame.f_code.co_name) in FRAME_HELPERS
                    or (event == "sys._getframe" and frame.f_globals.get("__name__") in FRAME_MODULES)):
                frame = frame.f_back
            # sys._getframe also refuses a cell's frame to a library function that would hand
            # it on (logging.currentframe); collections.namedtuple and enum then do without it
            refused = a_cells(frame) or (event == "sys._getframe" and a_cells(args[0]))
        finally:
            local.busy = False
        if refused:
            raise {"sys._getframe": ValueError, "object.__getattr__": AttributeError}.get(
                event, RuntimeError)(FRAMES_REFUSED)

    CachingCompiler.cache = cache_trusting_the_graders_cells
    IPythonKernel.do_execute = do_execute_marking_cells_started
    signal.signal = signal_refused_to_cells
    sys.addaudithook(refuse_frames_to_cells)


PICKLES_REFUSED = ("채점할 때는 pickle을 읽을 수 없습니다: pickle은 읽는 순간 코드를 실행합니다 "
                   "(no pickle is loaded while a notebook is graded)")


def guard_pickles():
    """Refuse to load any pickle: an audit hook (sys.addaudithook, which nothing removes) raises on
    pickle.find_class, which every unpickler raises for each class or function a pickle names
    (pickle.load, np.load or numpy.lib.format.read_array with allow_pickle however it is passed,
    pandas.read_pickle, joblib), before it can call it. A beginner's data is numbers and text.
    Except where multiprocessing's own code unpickles what its processes send each other (a Pool,
    a Pipe): the reading of the cells flags a cell that starts processes."""
    def refuse_pickles(event, args):
        if event == "pickle.find_class":
            try:
                caller = sys._getframe(1)  # what called the unpickler (C code, no frame of its own)
            except ValueError:  # guard_frames refuses a cell's frame: a cell called it
                raise RuntimeError(PICKLES_REFUSED) from None
            while caller is not None and caller.f_globals.get("__name__") in ("pickle", "copyreg"):
                caller = caller.f_back
            if caller is None or caller.f_globals.get("__name__", "").partition(".")[0] != "multiprocessing" \
                    or not _a_librarys(caller):
                raise RuntimeError(PICKLES_REFUSED)

    sys.addaudithook(refuse_pickles)


def import_and_guard(modules):
    """Import `modules` (what every cell starts with), then put every guard of this module in
    place: a warm-kernel server does it once for all its kernels, a cold kernel for itself."""
    for module in modules:
        importlib.import_module(module)
    if "patsy.eval" in sys.modules:
        guard_formulas()
    from ipykernel import kernelapp  # noqa: F401 (imported once here, not in every forked kernel)
    guard_hidden_tests()
    guard_libraries()
    guard_magics()
    guard_shell()
    guard_frames()
    guard_pickles()
    guard_imports()


def serve(socket_path, modules):
    """Import `modules`, then fork a kernel for every request on `socket_path` until killed."""
    import_and_guard(modules)
    # What the imports made is never garbage: the kernels' collections leave it alone. Otherwise
    # a kernel's first full collection walks TensorFlow's millions of objects and writes to each
    # (0.5 s, and copying every page shared with this server), and every later one walks them.
    gc.freeze()
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path + ".new")
    server.listen(8)
    os.rename(socket_path + ".new", socket_path)  # the grader waits for this name
    while True:
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        if not select.select([server], [], [], 1.0)[0]:
            continue
        connection, _ = server.accept()
        with connection, connection.makefile() as lines:
            request = json.loads(lines.readline())
        if os.fork() == 0:
            server.close()
            try:
                _forked(request)
            except BaseException as error:  # noqa: BLE001 (reported to the grader's log)
                print(f"course.kernel_zygote: {type(error).__name__}: {error}", file=sys.stderr)
            os._exit(70)


COLD_KERNEL = "--cold-kernel"  # python -c SOURCE --cold-kernel ALIVE_R,ALIVE_W MODULE... -- KERNEL_ARGS


def _end_when_closed(alive):
    """Read the descriptor `alive` to its end, then end this process (in a thread of its own)."""
    try:
        while os.read(alive, 4096):
            pass
    finally:
        os._exit(1)


def guarded_kernel(alive, modules, argv):
    """A kernel started cold (course.sandbox: `warm` off, or where no kernel could be forked)
    with a warm kernel's guards: `modules` imported first, as a warm-kernel server imports them
    (what every cell starts with), then ipykernel with `argv` (["-f", connection file]). It is
    PID 1 of its sandbox, so nothing kills it when bwrap dies (bwrap, root, may not signal it):
    it ends itself when the pipe `alive` (read, write descriptors) reads end of file: bwrap
    writes its status there and holds the only write end (the sandbox has none) until it ends."""
    import threading

    _confine_proc()  # before any thread: Landlock binds the thread that asks, and those it starts
    try:
        os.close(alive[1])
    except OSError:
        pass  # bwrap closed it for its command
    threading.Thread(target=_end_when_closed, args=(alive[0],), name="sandbox-alive", daemon=True).start()
    import_and_guard(modules)
    sys.argv = ["ipykernel_launcher", *argv]
    sys.modules["debugpy"] = None
    from ipykernel import kernelapp
    kernelapp.launch_new_instance()


if __name__ == "__main__":
    if sys.argv[1:2] == [COLD_KERNEL]:
        end = sys.argv.index("--")
        guarded_kernel([int(number) for number in sys.argv[2].split(",")], sys.argv[3:end], sys.argv[end + 1:])
    else:
        serve(sys.argv[1], sys.argv[2:])
