"""A hostile student against warm kernels (course/kernel_zygote.py): each test runs notebook code
in kernels forked one after another from one warm-kernel server, in a process of its own (a
grading worker), and fails where the attack works.

Most run as the grader usually does (root). Two run the whole grader as an unprivileged user,
the mode the README documents for SLURM ("the sandbox then runs kernels as your own user"):
there bubblewrap's root directory and /dev belong to that user, and every kernel forked from the
server shares them. As root these tests take an unprivileged uid in a mount namespace of their
own where this Python (which may live under /root, 0700) is reachable.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import needs_bubblewrap

pytestmark = [needs_bubblewrap, pytest.mark.slow, pytest.mark.xdist_group("warm_attacks")]

REPOSITORY = Path(__file__).resolve().parents[1]
UNPRIVILEGED_UID = 4242

# Runs {"preload", "cells", "session_keyring", "start_seconds", "limits", "python_dir"}: each cell in a new
# kernel forked from one server, one after another (a cell that is a list: its parts in one kernel);
# prints a JSON list of {status, out, seconds}.
SCENARIO = r'''
import asyncio, ctypes, json, sys, time
from traitlets.config import Config
from course import warm_kernels
from course.sandbox import SandboxedKernelManager
spec = json.loads(sys.argv[1])
if spec.get("session_keyring"):  # as a systemd service or a pam_keyinit login has one
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.syscall(250, 1, None) > 0  # KEYCTL_JOIN_SESSION_KEYRING: a new anonymous one
    assert libc.syscall(248, b"user", b"grader-secret", b"db password", 11, -3) > 0  # add_key
if spec.get("start_seconds"):
    warm_kernels.START_SECONDS = spec["start_seconds"]
if spec.get("python_dir"):  # one more folder of this Python, as a checkout under /tmp has its venv
    from course import sandbox
    found = sandbox.python_dirs()
    sandbox.python_dirs = lambda: sorted([*found, spec["python_dir"]])

async def run(code):
    config = Config()
    config.SandboxedKernelManager.preload = spec["preload"]
    for name, value in spec.get("limits", {}).items():
        config.SandboxedKernelManager[name] = value
    manager = SandboxedKernelManager(config=config, kernel_name="python3")
    start = time.monotonic()
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    out = []
    try:
        await client.wait_for_ready(timeout=300)
        for part in code if isinstance(code, list) else [code]:  # a list: cells run in one kernel
            reply = await client.execute_interactive(
                part, timeout=120, output_hook=lambda m: out.append(m["content"].get("text", "")))
        status = reply["content"]["status"]
    except Exception as error:
        status = f"{type(error).__name__}: {error}"
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)
    return {"status": status, "out": "".join(out), "seconds": time.monotonic() - start}

async def main():
    return [await run(code) for code in spec["cells"]]

results = asyncio.run(main())
warm_kernels.stop_all()
print(json.dumps(results))
'''

# As root, in a new mount namespace: make the given paths reachable by `uid` (a tmpfs over the
# first ancestor the others cannot enter, the paths bound back into it), then become `uid`.
UNPRIVILEGED = r'''
import json, os, subprocess, sys, tempfile
paths, uid = json.loads(sys.argv[1]), int(sys.argv[2])
def mount(*args):
    subprocess.run(["mount", *args], check=True)
mount("--make-rprivate", "/")
hidden = {}
for path in paths:
    ancestor = "/"
    for part in path.strip("/").split("/"):
        ancestor = os.path.join(ancestor, part)
        if not os.stat(ancestor).st_mode & 0o001:
            hidden.setdefault(ancestor, []).append(path)
            break
keep = sys.argv[6]
for top, inside in hidden.items():
    saved = []
    for path in inside:
        copy = tempfile.mkdtemp(dir=keep)
        mount("--bind", path, copy)
        saved.append((path, copy))
    mount("-t", "tmpfs", "-o", "mode=0755", "tmpfs", top)
    for path, copy in saved:
        os.makedirs(path, exist_ok=True)
        mount("--bind", copy, path)
os.setgroups([])
os.setgid(uid)
os.setuid(uid)
os.chdir("/tmp")
os.execve(sys.executable, [sys.executable, "-c", sys.argv[3], sys.argv[4]],
          {"HOME": "/tmp", "PATH": "/usr/bin:/bin", "PYTHONPATH": sys.argv[5]})
'''


def scenario(cells, *, preload=("numpy",), unprivileged=False, scratch=None, timeout=900, **spec):
    spec = {"preload": list(preload), "cells": list(cells), **spec}
    if not unprivileged:
        command = [sys.executable, "-c", SCENARIO, json.dumps(spec)]
    elif os.geteuid() == 0:
        paths = sorted({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                                     sys.base_exec_prefix, REPOSITORY)})
        command = ["unshare", "--mount", sys.executable, "-c", UNPRIVILEGED, json.dumps(paths),
                   str(UNPRIVILEGED_UID), SCENARIO, json.dumps(spec), str(REPOSITORY), str(scratch)]
    else:
        command = [sys.executable, "-c", SCENARIO, json.dumps(spec)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, "PYTHONPATH": str(REPOSITORY)})
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(run.stdout.strip().splitlines()[-1])
    for result in results:
        assert result["status"] == "ok", result
    return results


def last_json(result):
    return json.loads(result["out"].strip().splitlines()[-1])


# -- what works ---------------------------------------------------------------------------------

KEYRING = """
import ctypes, json
libc = ctypes.CDLL(None, use_errno=True)
def read(name):
    key = libc.syscall(250, 10, -3, b"user", name, 0)  # KEYCTL_SEARCH in the session keyring
    if key < 0:
        return None
    buffer = ctypes.create_string_buffer(256)
    size = libc.syscall(250, 11, key, buffer, 256)  # KEYCTL_READ
    return buffer.raw[:size].decode() if size >= 0 else "exists"
print(json.dumps({"grader": read(b"grader-secret"), "earlier student": read(b"left-by-a-student")}))
"""
LEAVE_KEY = 'libc.syscall(248, b"user", b"left-by-a-student", b"answers: 42", 11, -3)  # add_key'



def test_the_session_keyring_is_not_shared_with_the_grader_or_the_next_kernel():
    """A grading process started by systemd (KeyringMode=private: every service) or from a
    pam_keyinit login has a session keyring; the server and every kernel forked from it inherit
    it by reference (fork does not copy it), with the possessor's rights. (Cold kernels share it
    too: bwrap does not give a new one.)"""
    first, second = scenario([KEYRING + LEAVE_KEY, KEYRING], session_keyring=True)
    seen = {"the grader's key, read by a kernel": last_json(first)["grader"],
            "a key left by the first kernel, read by the next": last_json(second)["earlier student"]}
    assert seen == dict.fromkeys(seen), seen


LEAVE_FILES = """
import json, os
left = {}
for path in ('/dev/shm/left', '/left', '/dev/left'):
    try:
        with open(path, 'w') as handle:
            handle.write('answers of an earlier student')
        left[path] = 'written'
    except OSError as error:
        left[path] = error.strerror
try:  # beyond workdir_bytes and tmp_bytes (32 MiB here)
    with open('/dev/shm/big', 'wb') as handle:
        for _ in range(100):
            handle.write(b'x' * 2**20)
    left['/dev/shm/big'] = os.path.getsize('/dev/shm/big') >> 20
except OSError as error:
    left['/dev/shm/big'] = error.strerror
print(json.dumps(left))
"""

FIND_FILES = """
import json, os
print(json.dumps({p: open(p).read() for p in ('/dev/shm/left', '/left', '/dev/left', '/dev/shm/big')
                  if os.path.exists(p) and os.path.getsize(p) < 2**20}
                 | ({'/dev/shm/big': os.path.getsize('/dev/shm/big') >> 20} if os.path.exists('/dev/shm/big') else {})))
"""


def test_without_root_files_left_outside_the_kernels_tmpfs_do_not_reach_the_next(tmp_path):
    """Without root, bubblewrap's root directory and /dev (with /dev/shm) are tmpfs of the
    grader's user, without a size limit, and each forked kernel keeps the server's: what one
    student writes there every later kernel of the worker reads, and it holds the host's memory
    until the grading process ends. A cold sandbox gets its own root and /dev."""
    limits = {"workdir_bytes": 32 * 2**20, "tmp_bytes": 32 * 2**20}
    first, second = scenario([LEAVE_FILES, FIND_FILES], unprivileged=True, scratch=tmp_path,
                             limits=limits)
    assert last_json(second) == {}, (last_json(first), last_json(second))


CHMOD_ROOT = """
import os
try:
    os.chmod('/', 0)
except OSError as error:
    print(error)
"""

WARM = "import json, sys; print(json.dumps('numpy' in sys.modules))"


def test_without_root_a_kernel_cannot_make_the_server_unusable(tmp_path):
    """The server's root directory is the user's: one kernel takes its permissions away, the
    server's next forks cannot reach their socket directory, and every later kernel of the worker
    waits START_SECONDS (180 s; 20 here) before it starts cold."""
    _, after, again = scenario([CHMOD_ROOT, WARM, WARM], unprivileged=True, scratch=tmp_path,
                                  start_seconds=20)
    assert last_json(after) is True and last_json(again) is True, "later kernels started cold"
    assert after["seconds"] < 15 and again["seconds"] < 15, (after["seconds"], again["seconds"])


AS_ROOT_LEAVE = """
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
done = {}
for path in ('/dev/shm/left', '/left', '/dev/left'):
    try:
        open(path, 'w').write('x')
        done[path] = 'written'
    except OSError:
        pass
try:
    os.chmod('/', 0)
    done['chmod /'] = 'done'
except OSError:
    pass
done['sysv'] = libc.shmget(0x5eed, 4096, 0o1666 | 0o1000)
print(json.dumps(done))
"""

AS_ROOT_FIND = """
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
course = [n for n in os.listdir(REPOSITORY) if n in ('source', 'submitted', 'autograded', 'gradebook.db', 'course')] if os.path.isdir(REPOSITORY) else []
print(json.dumps({'files': [p for p in ('/dev/shm/left', '/left', '/dev/left') if os.path.exists(p)], 'course': course,
                  'sysv': libc.shmget(0x5eed, 0, 0) >= 0, 'warm': 'numpy' in sys.modules}))
"""


def test_as_root_nothing_outside_the_kernels_tmpfs_is_writable():
    """/dev/shm is a tmpfs of the kernel's own (written, and gone for the next kernel); / and
    /dev are not writable."""
    find = f"REPOSITORY = {str(REPOSITORY)!r}\n" + AS_ROOT_FIND
    first, second = scenario([AS_ROOT_LEAVE, find])
    assert set(last_json(first)) == {"sysv", "/dev/shm/left"}, last_json(first)
    assert last_json(second) == {"files": [], "course": [], "sysv": False, "warm": True}


PYTHON_UNDER_TMP = """
import json, os
folder = {folder!r}
try:
    with open(os.path.join(folder, "marker.py")) as handle:
        seen = handle.read()
except OSError as error:
    seen = str(error)
try:
    open(os.path.join(folder, "written"), "w").close()
    writable = True
except OSError:
    writable = False
print(json.dumps({{"seen": seen, "writable": writable}}))
"""


def test_a_python_under_tmp_is_still_there_for_every_kernel(tmp_path):
    """A checkout under /tmp (a CI clone) has its venv there, where each warm kernel gets a fresh
    tmpfs: the kernel still sees the Python's folders, read-only."""
    folder = tmp_path / "venv"  # pytest's tmp_path is under /tmp
    assert str(folder).startswith("/tmp/")
    folder.mkdir()
    (folder / "marker.py").write_text("WHERE = 'venv'\n")
    folder.chmod(0o755)
    for parent in folder.parents:
        if str(parent) == "/tmp":
            break
        parent.chmod(parent.stat().st_mode | 0o005)  # as a venv's folders are, for the kernel's uid
    results = scenario([PYTHON_UNDER_TMP.format(folder=str(folder))] * 2, python_dir=str(folder))
    assert [last_json(r) for r in results] == [{"seen": "WHERE = 'venv'\n", "writable": False}] * 2


FORMULA_CELLS = [  # a formula term is Python patsy runs: the review of the cells never sees it
    "import numpy as np, pandas as pd, statsmodels.formula.api as smf\n"
    "data = pd.DataFrame({'y': [1.0, 2, 3, 5], 'x': [1.0, 2, 4, 4], 'g': list('abab')})\n"
    "honest = smf.ols('y ~ np.log(x) + I(x ** 2) + C(g) + center(x)', data=data).fit()\n"
    "print('honest', len(honest.params))\n"
    "for term in ['I(exec(\"import numpy; numpy.hacked = 1\") or 0)', 'I(np.ma.core.builtins)',\n"
    "             'I((lambda: 1)())', 'I(x.__class__)']:\n"
    "    try:\n"
    "        smf.ols('y ~ x + ' + term, data=data).fit()\n"
    "        print('RAN', term)\n"
    "    except Exception as error:\n"
    "        print('refused', type(error).__name__)\n"
    "import numpy\n"
    "print('hacked', getattr(numpy, 'hacked', None))",
]


def test_a_formula_runs_only_plain_terms_in_a_warm_kernel():
    """statsmodels' formulas run each term as Python (patsy): a warm kernel refuses terms with
    dynamic code, lambdas or attributes beyond the maths a formula uses, and runs honest ones."""
    out = scenario(FORMULA_CELLS, preload=("numpy", "pandas", "statsmodels.formula.api"))[0]["out"]
    assert "honest 5" in out, out
    assert out.count("refused PatsyError") == 4 and "RAN" not in out, out
    assert "hacked None" in out, out


HIDDEN_IN_LINECACHE = (  # a test cell's hidden lines, then what a later read of linecache finds
    "x = 1\n### BEGIN HIDDEN TESTS\ny = 2  # the hidden line\n### END HIDDEN TESTS\nz = 3\n"
    "import linecache\n"
    "cached = [e[2] for e in list(linecache.cache.values()) if len(e) > 2 and 'z = 3' in ''.join(e[2])]\n"
    "print('hidden' + ' line' in ''.join(cached[0]), cached[0][:5])\n"
    "print('hidden' + ' line' in In[-1] + _ih[-1] + _i, In[-1].splitlines()[:5])\n"
    "request = get_ipython().kernel.get_parent()['content']['code']\n"
    "print('hidden' + ' line' in request, request.splitlines()[:5])")


def test_a_warm_kernel_keeps_no_hidden_test_line_in_linecache_the_history_or_the_request():
    """IPython keeps each cell's source in linecache for tracebacks, where a warning's source
    line (warnings.formatwarning) reads it, and in its input history, and ipykernel keeps the
    request being run: a warm kernel keeps a hidden test's lines blank in all three."""
    out = scenario([HIDDEN_IN_LINECACHE])[0]["out"]
    assert out.splitlines() == ["False ['x = 1\\n', '\\n', '\\n', '\\n', 'z = 3\\n']",
                                "False ['x = 1', '', '', '', 'z = 3']",
                                "False ['x = 1', '', '', '', 'z = 3']"], out


PATCHING_CELLS = [  # what earlier cells did to the libraries, then what the next cell sees
    "import functools\nimport numpy as np\nimport keras\n"
    "for np.isclose in [lambda *a, **k: True]:\n    pass\n"
    "keras.layers.Dense.count_params = lambda self: 9\n"
    "class Box:\n    def put(self, value):\n        self.prod = value\n"
    "import math\nBox.put(math, len)\n"
    "functools.update_wrapper(keras.layers.Layer.get_weights, lambda self: [], assigned=('__code__',), updated=())\n"
    # Keras' global settings: epsilon 0.5 clips every reference cross-entropy to log 2
    "keras.config.set_epsilon(0.5)\nkeras.config.set_floatx('float16')\nkeras.config.set_dtype_policy('mixed_float16')",
    "layer = keras.layers.Dense(3)\nlayer.build((None, 4))\n"
    "print('isclose', bool(np.isclose(1, 2)), 'params', layer.count_params(), 'prod', math.prod([2, 3]),\n"
    "      'weights', len(layer.get_weights()), 'epsilon', keras.config.epsilon(), 'floatx', keras.config.floatx(),\n"
    "      'policy', keras.config.dtype_policy().name)",
]


def test_every_cell_of_a_warm_kernel_starts_with_the_libraries_as_imported():
    """Patches of numpy, math or Keras a cell made, by any route the reading of the cells may
    miss, are put back as soon as that cell ends (so before the next cell runs), and said on its
    stderr."""
    out = scenario([PATCHING_CELLS], preload=("numpy", "keras"))[0]["out"]
    assert ("isclose False params 15 prod 6 weights 2 epsilon 1e-07 floatx float32 policy float32"
            in out), out
    assert "changed while this cell ran, put back" in out and "numpy.isclose" in out, out


SHELL_HOOK_CELLS = [  # hooks an earlier cell gave IPython by routes the reading may miss, then a test-like cell
    "import builtins as _b\n"  # (frames are refused to a cell's code: guard_frames)
    "_shell = _b.globals()['get_' + 'ipython']()\n"
    "_b.getattr(_shell, 'input_transformers_' + 'post').append(lambda lines: [])\n"
    "_shell.ast_transformers.append(type('Empty', (), {'visit': lambda self, node: node})())\n"
    "_shell.events.register('pre_run_cell', lambda *a: print('SPIED'))\n"
    "_shell.set_custom_exc((Exception,), lambda *a, **k: None)\n"
    "_shell.run_cell = lambda *a, **k: None\n"
    "import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
    "import matplotlib_inline.backend_inline\n"
    "_shell.events.register('post_execute', matplotlib_inline.backend_inline.flush_figures)\n",
    "print('the test cell ran')",
]


def test_every_cell_of_a_warm_kernel_runs_through_ipython_as_the_kernel_started():
    """Input and AST transformers, event callbacks, custom exception handlers and shell methods
    an earlier cell added (here through the builtins module, which the reading of the cells
    flags too; an async generator's frame, the route of an earlier review, is now refused by
    guard_frames) are put back before the next cell: that cell runs as written. Callbacks of
    IPython's own libraries (matplotlib's inline figures) stay."""
    out = scenario([SHELL_HOOK_CELLS], preload=("numpy",))[0]["out"]
    assert "the test cell ran" in out and "SPIED" not in out, out
    assert "put back before this cell" in out and "input_transformers_post" in out, out
    for part in ("ast_transformers", "events.pre_run_cell", "custom_exceptions", "run_cell"):
        assert part in out, (part, out)
    assert "events.post_execute" not in out, out


HELPER_CELLS = [  # a checks cell, a cell that rebinds and rewrites its helpers unread, then a check
    "# 채점 도우미(check helpers): a stand-in for the release's checks cell\n"
    "def check_equal(name, actual, expected):\n"
    "    if actual != expected:\n"
    "        raise AssertionError(f'{name}: {actual} != {expected}')\n",
    "import builtins as _b\n"
    "def _never(name, actual, expected):\n    pass\n"
    "try:\n    _b.setattr(_b.globals()['check_' + 'equal'], '__co' + 'de__', _never.__code__)\n"
    "except AttributeError:\n    print('code objects refused')\n"
    "_b.globals()['check_' + 'equal'] = lambda *a, **k: None\n",
    "try:\n    check_equal('x', 1, 2)\n    print('FORGED')\nexcept AssertionError as error:\n    print('the check failed:', error)",
]


def test_every_cell_of_a_warm_kernel_starts_with_the_check_helpers_as_the_checks_cell_made_them():
    """What the checks cell binds is bound again before every later cell, its functions with
    their own code: a helper rebound by an unread route does not answer for the check."""
    out = scenario([HELPER_CELLS], preload=("numpy",))[0]["out"]
    assert "the check failed: x: 1 != 2" in out and "FORGED" not in out, out
    assert "put back before this cell" in out and "check_equal" in out, out


OWN_MEMORY_CELL = (  # round 9: bytecode of numpy rewritten in place through /proc/self/mem (13/13 forged)
    "import os, re\n"
    "me = bytes([47, 112, 114, 111, 99, 47, 115, 101, 108, 102]).decode()  # /proc/self\n"
    "start = int(open(me + '/maps').readline().split('-')[0], 16)\n"
    "for path in [me + '/mem', me + '/task/' + str(os.getpid()) + '/mem', '/proc/thread-self/mem']:\n"
    "    for mode in ['rb', 'r+b']:\n"
    "        try:\n"
    "            with open(path, mode, buffering=0) as memory:\n"
    "                memory.seek(start)\n"
    "                print(path, mode, 'read', len(memory.read(8)), 'bytes')\n"
    "        except OSError as error:\n"
    "            print(path, mode, 'refused:', error.strerror)\n"
    "print('threads listed:', len(os.listdir(me + '/task')))\n"
    # round 12: each thread's memory is at /proc/<thread id>/mem too, under a number made later
    "import threading\n"
    "done = threading.Event()\n"
    "worker = threading.Thread(target=done.wait)\n"
    "worker.start()\n"
    "null, opened = os.stat('/dev/null').st_rdev, []\n"
    "for tid in {*range(1, 3000), worker.native_id, threading.get_native_id()}:\n"
    "    for flags in (os.O_RDONLY, os.O_RDWR):\n"
    "        try:\n"
    "            descriptor = os.open(me[:-4] + str(tid) + '/mem', flags)\n"
    "        except OSError:\n"
    "            continue\n"
    "        if os.fstat(descriptor).st_rdev != null:\n"
    "            opened.append(tid)\n"
    "        os.close(descriptor)\n"
    "done.set()\n"
    "print('thread memory opened:', opened)"
)


@pytest.mark.parametrize("how", ["warm", "cold"])
def test_a_kernel_cannot_open_its_own_memory(how):
    """/proc/self/mem reads nothing (it is /dev/null) and no thread's memory file is there, in a
    kernel forked warm (it hides them itself) and in one started cold (bwrap hides them: the
    kernel is PID 1 of its namespace). Round 11: a cold kernel could still read its memory."""
    out = scenario([OWN_MEMORY_CELL], preload=("numpy",), limits={"warm": how == "warm"})[0]["out"]
    assert "/proc/self/mem rb read 0 bytes" in out and "/proc/self/mem r+b read 0 bytes" in out, out
    assert "threads listed: 0" in out and out.count("refused: No such file or directory") == 4, out
    assert "thread memory opened: []" in out, out


def _recording_cells():
    from course.nbgrader_plugins import MORE_HELPERS, inline_checks_source
    return [  # the release's checks cell of a Keras lesson, a cell that turns the training record off, a fit
        inline_checks_source({}, list(MORE_HELPERS)),
        "import keras\nkeras.Model.fit = keras.Model.fit.__wrapped__\nprint('record off:', not hasattr(keras.Model.fit, 'records_fits'))",
        "import numpy as np\nmodel = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])\n"
        "model.compile(loss='mse', optimizer='sgd')\nmodel.fit(np.zeros((4, 1)), np.zeros(4), epochs=2, verbose=0)\n"
        "print('fits recorded:', len(recorded_fits(model)), recorded_fits(model)[0]['epochs'])",
    ]


def test_the_training_record_the_checks_cell_starts_stays_on():
    """The checks cell of a Keras lesson makes keras.Model.fit record what it trains with
    (course/training_record.py): that is how the libraries stay for every later cell. A cell
    that puts Keras' own fit back has it put back to the recording one when it ends."""
    out = scenario([_recording_cells()], preload=("numpy", "keras"))[0]["out"]
    assert "record off: True" in out and "fits recorded: 1 2" in out, out
    assert "changed while this cell ran, put back" in out and "Model.fit" in out, out


STAR_IMPORT_CELLS = [  # a checks cell that uses built-ins, an honest star import, then a check
    "# 채점 도우미(check helpers): a stand-in for the release's checks cell\n"
    "def check_flag(value):\n"
    "    if not isinstance(value, bool):\n"
    "        raise AssertionError(type(value).__name__)\n"
    "    print('checked', sum(v for v in (1, 2)))\n",
    "from numpy import *",
    "check_flag(True)\nprint('the notebook keeps', sum.__module__)",
]


def test_the_check_helpers_use_the_names_the_checks_cell_left_them():
    """Round 10: `from numpy import *` put numpy's bool, all and sum where the helpers looked for
    Python's. The helpers look their names up as the checks cell left them; the student keeps
    numpy's."""
    out = scenario([STAR_IMPORT_CELLS], preload=("numpy",))[0]["out"]
    assert "checked 3" in out and "the notebook keeps numpy" in out, out


def test_a_kernel_started_cold_has_the_same_guards():
    """`c.SandboxedKernelManager.warm = False` (and a kernel that could not be forked) starts the
    kernel cold, through course.kernel_zygote.guarded_kernel: hidden lines are kept blank, and
    the libraries, IPython and the check helpers are put back before every cell, as in a warm one."""
    patch_numpy = ["import numpy as np\nfor np.isclose in [lambda *a, **k: True]:\n    pass\n",
                   "print('isclose', bool(np.isclose(1, 2)))"]
    hidden, shell, helpers, numpy = (result["out"] for result in scenario(
        [HIDDEN_IN_LINECACHE, SHELL_HOOK_CELLS, HELPER_CELLS, patch_numpy],
        preload=("numpy",), limits={"warm": False}))
    assert hidden.splitlines()[0] == "False ['x = 1\\n', '\\n', '\\n', '\\n', 'z = 3\\n']", hidden
    assert "the test cell ran" in shell and "SPIED" not in shell, shell
    assert "the check failed: x: 1 != 2" in helpers and "FORGED" not in helpers, helpers
    assert "isclose False" in numpy and "numpy.isclose" in numpy, numpy


FRAME_STUDENT_CELL = '''
import collections, dataclasses, enum, logging, traceback
def leak_by_format():
    try:
        raise ValueError
    except ValueError as error:
        return "{0.__traceback__.tb_frame.f_back.f_locals[expected]}".format(error)
def leak_by_generator():
    box = []
    def reader():
        yield "{0[0].gi_frame.f_back.f_back.f_locals[expected]}".format(box)
    box.append(reader())
    return next(box[0])
def leak_by_getattr():
    try:
        raise ValueError
    except ValueError as error:
        return getattr(error.__traceback__, "tb_" + "frame").f_back.f_locals["expected"]
def leak_by_walk_tb():
    try:
        raise ValueError
    except ValueError as error:
        return list(traceback.walk_tb(error.__traceback__))[0][0].f_back.f_locals["expected"]
def leak_by_signal():
    import signal
    box = []
    signal.signal(signal.SIGUSR1, lambda number, frame: box.append(frame))
    signal.raise_signal(signal.SIGUSR1)
    return box[0].f_back.f_locals["expected"]
def leak_by_logging():
    return logging.currentframe().f_back.f_locals["expected"]
def leak_by_stack_summary():
    return str(traceback.StackSummary.extract(traceback.walk_stack(None), capture_locals=True))
def honest():
    Point = collections.namedtuple("Point", "x y")
    Color = enum.Enum("Color", "RED GREEN")
    Pair = dataclasses.make_dataclass("Pair", ["a", "b"])
    logging.getLogger("student").warning("a warning")
    try:
        1 / 0
    except ZeroDivisionError:
        text = traceback.format_exc()
    return Point(1, 2).y + Color.GREEN.value + Pair(1, 2).b + ("ZeroDivisionError" in text)
'''
FRAME_TEST_CELL = '''expected = 42
for leak in (leak_by_format, leak_by_generator, leak_by_getattr, leak_by_walk_tb, leak_by_logging,
             leak_by_stack_summary, leak_by_signal):
    try:
        print(leak.__name__, "LEAKED" if "42" in str(leak()) else "nothing")
    except (RuntimeError, ValueError, AttributeError) as error:
        print(leak.__name__, "refused")
print("honest", honest())
import sys
print("the test cell keeps its frames:", sys._getframe().f_locals["expected"])
'''


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_no_frame_reaches_a_students_function_while_a_test_cell_calls_it(warm):
    """A student's function that takes its caller's frame (a format string's fields, a generator's
    frame, getattr, traceback.walk_tb) to read the test cell's `expected` gets an error; honest
    code that makes library calls which read frames themselves runs, and the test cell keeps
    its own frames."""
    from course.kernel_zygote import TEST_CELL_HEADER
    from course.test_scope import HEADER, in_own_scope
    assert HEADER.startswith(TEST_CELL_HEADER)
    out = scenario([[FRAME_STUDENT_CELL, in_own_scope(FRAME_TEST_CELL)]], preload=("numpy",),
                   limits={"warm": warm})[0]["out"]
    assert "LEAKED" not in out, out
    for leak in ("leak_by_format", "leak_by_generator", "leak_by_getattr", "leak_by_walk_tb",
                 "leak_by_logging", "leak_by_stack_summary", "leak_by_signal"):
        assert f"{leak} refused" in out, out
    assert "honest 7" in out and "the test cell keeps its frames: 42" in out, out


MAGIC_EXPANSION_CELLS = [
    "payload = 'import sys\\nprint(\"RAN\", sys._getframe(0) is not None)'\n"
    "%pwd {exec(payload)}\n"
    "seen = 'x'\n"
    "%who_ls $seen\n",
    "exec(compile('import sys\\n"
    "def peek():\\n    return sys._getframe(1).f_locals[\"expected\"]\\n', 'x.py', 'exec'))\n",
]
MAGIC_TEST_CELL = "expected = 42\ntry:\n    print('peeked', peek())\nexcept ValueError:\n    print('refused')\n"


def test_a_magics_arguments_run_no_python_and_exec_gets_no_frames():
    """IPython would run `{...}` in a magic's arguments as Python, in a copy of the notebook's
    namespace; code made with exec is no library's: neither gets a frame."""
    from course.test_scope import in_own_scope
    out = scenario([[*MAGIC_EXPANSION_CELLS, in_own_scope(MAGIC_TEST_CELL)]], preload=("numpy",))[0]["out"]
    assert "RAN" not in out and "peeked" not in out and "refused" in out, out


IMPORT_FROM_THE_WORKING_FOLDER = [
    "open('statistics.py', 'w').write('import sys\\nFAKE = sys._getframe(0)\\n')\n"
    "import statistics\n"
    "print('imported', getattr(statistics, 'FAKE', 'the standard library'))\n",
]


def test_a_file_a_cell_writes_is_not_imported():
    """The working folder is not on sys.path: `statistics.py` written there does not stand in for
    the standard library's (its code would be no cell's, unread by the reading of the cells)."""
    out = scenario([IMPORT_FROM_THE_WORKING_FOLDER], preload=("numpy",))[0]["out"]
    assert "imported the standard library" in out, out


PICKLE_CELLS = [
    "import numpy as np, pickle, io\n"
    "class Payload:\n"
    "    def __reduce__(self):\n"
    "        return (print, ('RAN the pickle',))\n"
    "np.save('plain.npy', np.arange(3.0))\n"
    "print('honest', np.load('plain.npy').sum())\n"
    "np.save('payload.npy', np.array([Payload()], dtype=object), allow_pickle=True)\n"
    "for way, load in [('np.load by position', lambda: np.load('payload.npy', None, True)),\n"
    "                  ('read_array', lambda: np.lib.format.read_array(open('payload.npy', 'rb'), True)),\n"
    "                  ('pickle.loads', lambda: pickle.loads(pickle.dumps(Payload())))]:\n"
    "    try:\n"
    "        load()\n"
    "    except Exception as error:\n"
    "        print(way, 'refused', 'pickle' in str(error))\n",
]


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_no_pickle_is_loaded_however_it_is_asked_for(warm):
    """Round 16: a hand-made .npy pickle loaded with np.lib.format.read_array(f, True) ran its code
    unflagged (allow_pickle by position). Every unpickler asks pickle.find_class for what it
    calls, which the kernel refuses: no pickle loads by any route, and plain arrays still do."""
    out = scenario([PICKLE_CELLS], preload=("numpy",), limits={"warm": warm})[0]["out"]
    assert "RAN" not in out and "honest 3.0" in out, out
    assert out.count("refused True") == 3, out
