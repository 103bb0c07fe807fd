"""Test cells run in the grader, not in the student's kernel (course/answer_client.py): the kernel
only answers with values. So nothing a cell does in its own process (rebinding the helpers,
patching numpy, IPython's hooks, rewriting the helpers' bytecode in memory) changes a check, and
no line of a test cell is ever sent to the kernel. A plain Python kernel (no sandbox, no
TensorFlow): what is tested here is where the checks run."""
import json
import queue
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from jupyter_client.client import KernelClient
from jupyter_client.manager import KernelManager
from tiny_lesson import answer_cell, graded_cell, locked_cell

from course import answer_session
from course.answer_client import answer_names
from course.answer_session import AnswersUnreadable, Remote, Session
from course.answer_wire import WireError, array_from_wire, array_to_wire
from course.nbgrader_plugins import ResilientExecute

HIDDEN_MARK = "HIDDEN-MARK-7f3a"
TEST_DOUBLE = ("check_equal('double(2)', double(2), 4)\n"
               "### BEGIN HIDDEN TESTS\n"
               f"check_equal('double(21)', double(21), 42)  # {HIDDEN_MARK}\n"
               f"check_array('double(배열)', double(np.arange(3.0)), np.array([0.0, 2.0, 4.0]))  # {HIDDEN_MARK}\n"
               "### END HIDDEN TESTS\n")
# Round 13: an object whose __array_interface__ points anywhere lets numpy read and write the
# kernel's memory; the cell rewrites the check helper _fail's bytecode so that it returns
MEMORY_FORGERY = Path(__file__).with_name("attack_cells").joinpath("rewrite_fail_in_memory.py")
FORGERIES = [
    "def check_equal(*args, **kwargs):\n    pass\ndef check_array(*args, **kwargs):\n    pass",
    "import numpy\nnumpy.allclose = lambda *a, **k: True\nnumpy.array_equal = lambda *a, **k: True",
    "get_ipython().input_transformers_post.append(lambda lines: [])",
    "get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)",
    "import sys\nclass Expected:\n    def __eq__(self, other):\n        return True\n"
    "    def __int__(self):\n        return int(sys._getframe(1).f_locals.get('expected', 0))",
    MEMORY_FORGERY.read_text(encoding="utf-8"),
]


def _notebook(answer, *extra):
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [locked_cell("checks", "import numpy as np\nfrom course.checks import *"),
                answer_cell("double", answer), *extra, graded_cell("test_double", TEST_DOUBLE, points=2)]
    return nb


def _run(nb, **settings):
    executor = ResilientExecute(timeout=settings.pop("timeout", 60), **settings)
    executor.preprocess(nb, {"metadata": {"path": "."}})
    return nb


def _errors(nb, grade_id):
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return [output for output in cell.outputs if output.output_type == "error"]


@pytest.fixture
def sent(monkeypatch):
    """Everything the grader sent the kernel: the code of each execute request, and each line
    typed in answer to the kernel's input requests (the checks' messages)."""
    log = []
    execute, send_input = KernelClient.execute, KernelClient.input

    def recording_execute(self, code, *args, **kwargs):
        log.append(code)
        return execute(self, code, *args, **kwargs)

    def recording_input(self, string):
        log.append(string)
        return send_input(self, string)

    monkeypatch.setattr(KernelClient, "execute", recording_execute)
    monkeypatch.setattr(KernelClient, "input", recording_input)
    return log


def test_a_right_answer_passes_and_no_line_of_a_test_cell_reaches_the_kernel(sent):
    nb = _run(_notebook("def double(x):\n    return x * 2"))
    assert _errors(nb, "test_double") == []
    assert sent, "the grader spoke to the kernel"
    assert not [text for text in sent if HIDDEN_MARK in text or "check_equal('double" in text]


def test_a_wrong_answer_fails_with_the_helpers_message():
    nb = _run(_notebook("def double(x):\n    return x + 2"))
    [error] = _errors(nb, "test_double")
    assert error.ename == "CheckFailed" and "`double(21)`" in error.evalue
    assert error.traceback[-1] == "(이 셀의 3번째 줄)"


@pytest.mark.parametrize("forgery", FORGERIES, ids=["helpers rebound", "numpy patched", "input transformer",
                                                    "exception handler", "frame reader", "memory rewrite"])
def test_nothing_a_cell_does_in_the_kernel_forges_a_check(forgery):
    """The answer is wrong: the test cell fails, by the check's own message or because a kernel
    that empties every cell it runs sends no answer at all."""
    nb = _run(_notebook("def double(x):\n    return x + 2", answer_cell("forgery", forgery)))
    assert [error.ename for error in _errors(nb, "test_double")] in (["CheckFailed"], ["AnswersUnreadable"])


def test_a_blank_answer_says_in_korean_what_to_answer():
    nb = _run(_notebook("def double(x):\n    raise NotImplementedError()"))
    [error] = _errors(nb, "test_double")
    assert error.ename == "NotImplementedError" and "`double` 함수에 아직 답을 쓰지 않았습니다" in error.evalue


def test_an_answer_that_never_returns_costs_its_cell_and_the_kernel_goes_on():
    nb = _notebook("def double(x):\n    while True:\n        pass",
                   answer_cell("later", "def triple(x):\n    return 3 * x"),
                   graded_cell("test_triple", "check_equal('triple(2)', triple(2), 6)"))
    nb = _run(nb, timeout=5)
    assert [error.ename for error in _errors(nb, "test_double")] == ["CellTimeoutError"]
    assert _errors(nb, "test_triple") == [] and _errors(nb, "later") == []


def test_a_test_cell_named_in_test_cell_seconds_gets_its_own_time():
    """test_cell_seconds gives the test cells that train a model again more time than any other
    cell: an answer that takes 5 s passes there and times out in a cell with the 3 s timeout."""
    nb = _notebook("import time\ndef double(x):\n    time.sleep(5)\n    return x * 2")
    nb.cells.append(graded_cell("test_double_again", "check_equal('double(3)', double(3), 6)"))
    nb = _run(nb, timeout=3, test_cell_seconds={"test_double": 60.0})
    assert _errors(nb, "test_double") == []
    assert [error.ename for error in _errors(nb, "test_double_again")] == ["CellTimeoutError"]


def test_a_function_of_the_checks_is_called_back_and_a_model_of_the_answer_is_read_through():
    test = ("check_array('apply', apply(lambda z: z * 10, np.arange(3)), np.array([0, 10, 20]))\n"
            "counter = make_counter()\n"
            "check_equal('counter.step()', counter.step(), 1)\n"
            "check_equal('counter.step()', counter.step(), 2)\n"
            "check_equal('len(counter)', len(counter), 2)\n")
    answer = ("def apply(f, x):\n    return f(x)\n"
              "class Counter:\n    n = 0\n    def step(self):\n        self.n += 1\n        return self.n\n"
              "    def __len__(self):\n        return self.n\n"
              "def make_counter():\n    return Counter()")
    nb = _notebook("def double(x):\n    return 2 * x", answer_cell("more", answer), graded_cell("test_more", test))
    nb = _run(nb)
    assert _errors(nb, "test_more") == []


# ---- the wire: what the grader takes from the kernel -----------------------------------------

def test_only_arrays_of_numbers_cross_the_wire():
    for array in (np.arange(6).reshape(2, 3), np.arange(6).reshape(2, 3).T, np.array(2.5), np.zeros((0, 3))):
        assert np.array_equal(array_from_wire(array_to_wire(array)), array)
        assert array_from_wire(array_to_wire(array)).shape == array.shape
    scalar = array_from_wire(array_to_wire(np.float32(1.5), scalar=True))
    assert type(scalar) is np.float32 and scalar == 1.5
    good = array_to_wire(np.zeros(4))
    for bad in ({**good, "dtype": "|O"}, {**good, "dtype": "|V8"}, {**good, "shape": [5]},
                {**good, "shape": [-4]}, {**good, "data": "!!"}):
        with pytest.raises(WireError):
            array_from_wire(bad)


class _Recorder:
    """A Session that records what would be asked of the kernel and answers with `value`."""

    def __init__(self, value):
        self.value, self.asked = value, []

    def request(self, message):
        self.asked.append(message["op"])
        return self.value


def test_a_remote_object_never_answers_a_special_name():
    """numpy reads __array_interface__ (an address to read) from an object: a Remote never asks."""
    recorder = _Recorder({"data": (0, False), "shape": (8,), "typestr": "|u1", "version": 3})
    remote = Remote(recorder, {"~": "ref", "id": 1, "type": "m:C"})
    for name in ("__array_interface__", "__array_struct__", "__array_priority__", "__class_getitem__"):
        with pytest.raises(AttributeError):
            getattr(remote, name)
    with pytest.raises(TypeError):
        np.asarray(remote)  # its "array" answer is a dict, not numbers
    assert recorder.asked == ["array"]


def test_a_message_that_is_not_the_wire_format_is_refused():
    session = Session(client=None, deadline=0, is_alive=lambda: True)
    for wire in ([1, 2], {"~": "pickle", "data": "x"}, {"~": "nd", "dtype": "|O", "shape": [], "data": ""},
                 {"~": "ref", "id": "1", "type": "x"}, {"~": "frame", "columns": [1], "values": [], "index": []},
                 json.loads("[" * 50 + "]" * 50)):
        with pytest.raises(AnswersUnreadable):
            session.decode(wire)


def test_an_answer_cannot_answer_for_the_checks_on_their_channel():
    """Round 14: the answer's own input() wrote the kernel's side of the conversation (the checks'
    requests came back to it as input()'s value): a forged replay passed. While the checks run,
    input() raises."""
    answer = ("def double(x):\n    try:\n        input('{}')\n    except RuntimeError:\n"
              "        return x + 2\n    return x * 2")
    nb = _run(_notebook(answer))
    assert [error.ename for error in _errors(nb, "test_double")] == ["CheckFailed"]


def test_what_a_test_cell_bound_is_the_notebooks_again_after_a_restart():
    """A later cell of the student's may use a test's data (as when the student runs the notebook);
    after the kernel restarts, the replay hands it again (round 14: a NameError)."""
    nb = _notebook("def double(x):\n    return 2 * x",
                   graded_cell("test_rows", "shared_rows = [[1, 2], [3, 4]]\ncheck_equal('double(1)', double(1), 2)"),
                   answer_cell("crash", "import os\nos._exit(1)"),
                   answer_cell("later", "total = sum(sum(row) for row in shared_rows)\n"
                                        "def triple(x):\n    return 3 * x"),
                   graded_cell("test_triple", "check_equal('triple(2)', triple(2), 6)"))
    nb = _run(nb)
    assert _errors(nb, "crash") and _errors(nb, "later") == [] and _errors(nb, "test_triple") == []


def test_a_test_cells_own_names_are_never_asked_of_the_kernel():
    """Round 14: the hidden tests' names (X_h, w_h) were asked of the kernel, which saw them."""
    source = "x = 1\n### BEGIN HIDDEN TESTS\nX_h, w_h = 2, 3\ncheck_equal('f', f(X_h, w_h), x)\n"
    assert answer_names(source, {"check_equal": None}) == ["f"]


def test_a_table_is_one_value_a_row():
    """Round 14: a frame of 1,500 single numbers over 100,000 rows took 1.2 MB to send and 5.6 GB
    for pandas to spread."""
    session = Session(client=None, deadline=0, is_alive=lambda: True)
    index = {"~": "list", "items": list(range(1000))}
    single = array_to_wire(np.array(1.0 + 0j))
    with pytest.raises(AnswersUnreadable):
        session.decode({"~": "frame", "columns": {"~": "list", "items": ["a"]}, "values": [single], "index": index})
    with pytest.raises(AnswersUnreadable):
        session.decode({"~": "series", "values": single, "index": index, "name": None})
    table = session.decode({"~": "frame", "columns": {"~": "list", "items": ["a"]},
                            "values": [array_to_wire(np.arange(1000.0))], "index": index})
    assert table.shape == (1000, 1)


def test_a_function_of_the_checks_takes_only_arrays_of_the_tests_size():
    """Round 14: an answer called the checks' loss with (250000, 1) and (2000,) arrays, which the
    grader broadcast to 4.6 GB."""
    session = Session(client=None, deadline=0, is_alive=lambda: True)
    session.callbacks[0] = lambda a, b: np.sum(a * b)
    big = {"~": "list", "items": [array_to_wire(np.ones((250_000, 1))), array_to_wire(np.ones(2_000))]}
    reply = session._run_callback({"op": "call", "callback": 0, "args": big, "kwargs": {"~": "dict", "items": []}})
    assert reply["op"] == "error" and "1024" in reply["message"]
    for args in ([array_to_wire(np.ones((1024, 1))), {"~": "list", "items": [1.0] * 60_000}],  # round 15
                 [{"~": "list", "items": [{"~": "list", "items": [1.0] * 900}] * 900}]):
        reply = session._run_callback({"op": "call", "callback": 0, "args": {"~": "list", "items": args},
                                       "kwargs": {"~": "dict", "items": []}})
        assert reply["op"] == "error", args
    small = {"~": "list", "items": [array_to_wire(np.ones(3)), array_to_wire(np.ones(3))]}
    reply = session._run_callback({"op": "call", "callback": 0, "args": small, "kwargs": {"~": "dict", "items": []}})
    assert reply == {"op": "result", "value": array_to_wire(np.float64(3.0), scalar=True)}


HIJACK = '''import json


def double(x):
    """Answer every request of the checks from here, through the kernel's own stdin channel."""
    kernel, secret = get_ipython().kernel, None
    answer = {"op": "result", "value": 2 * x}
    while True:
        message = json.loads(kernel.raw_input(json.dumps({**answer, "secret": secret})))
        secret = message.get("secret")
        if message.get("op") != "call":
            return 0
        answer = {"op": "result", "value": 2 * message["args"]["items"][0]}
'''


def test_an_answer_that_writes_the_channel_itself_does_not_know_the_checks_secret():
    """Round 14's takeover by another route than input() (here IPython's kernel, which the reading
    flags): every message of the checks carries a new secret that the kernel's side must send
    back, and code of the student's has read none before it writes."""
    test = "\n".join(f"check_equal('double({n})', double({n}), {2 * n})" for n in (2, 21, 5))
    nb = _notebook("def double(x):\n    return x + 2", answer_cell("hijack", HIJACK),
                   graded_cell("test_hijack", test))
    nb = _run(nb)
    assert [error.ename for error in _errors(nb, "test_hijack")] == ["AnswersUnreadable"]


def test_an_answer_that_kills_the_kernel_costs_its_own_cells_only():
    """Round 15: each test cell whose answer killed the kernel was run twice, two restarts of the
    notebook's four: two such cells skipped every cell after them."""
    crash = "def {name}(x):\n    import os\n    os._exit(1)"
    nb = _notebook("def double(x):\n    return 2 * x",
                   answer_cell("a", crash.format(name="a")), graded_cell("test_a", "check_equal('a(1)', a(1), 1)"),
                   answer_cell("b", crash.format(name="b")), graded_cell("test_b", "check_equal('b(1)', b(1), 1)"),
                   answer_cell("later", "def triple(x):\n    return 3 * x"),
                   graded_cell("test_triple", "check_equal('triple(2)', triple(2), 6)"))
    nb = _run(nb)
    assert [error.ename for error in _errors(nb, "test_a") + _errors(nb, "test_b")] == ["KernelDied"] * 2
    assert _errors(nb, "later") == [] and _errors(nb, "test_triple") == [] and _errors(nb, "test_double") == []


def test_a_first_message_lost_on_the_way_is_asked_again(monkeypatch):
    """CI: the kernel's first message reached a stdin socket that had not finished connecting, and
    ZeroMQ dropped it; the kernel waited for an answer and the test cell timed out (90 s)."""
    monkeypatch.setattr(answer_session, "FIRST_MESSAGE_SECONDS", 1.0)
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel()
    try:
        client = manager.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        client.execute_interactive("def double(x):\n    return 2 * x", timeout=30)
        receive, dropped = client.get_stdin_msg, []

        def losing_the_first(*args, **kwargs):
            message = receive(*args, **kwargs)
            if not dropped:
                dropped.append(message)
                raise queue.Empty
            return message

        client.get_stdin_msg = losing_the_first
        session = Session(client, time.monotonic() + 30, lambda: True)
        session.start()
        assert dropped and session.request({"op": "name", "name": "double"})(21) == 42
        assert session.finish()
    finally:
        manager.shutdown_kernel(now=True)


def test_a_kernel_gone_after_a_message_over_the_limit_does_not_hold_the_checks():
    """Round 19: an answer's message over the sockets' limit made ZeroMQ drop the connection; the
    job's time limit then killed the kernel, and the checks' "done" waited forever for a peer to
    send to (course grade never ended). Sends now give up (answers_client_context). Here the
    socket has no peer from the start (ZMQ_IMMEDIATE: what a dropped connection leaves)."""
    import threading

    import zmq
    from jupyter_client.blocking import BlockingKernelClient

    from course.answer_session import answers_client_context

    context = answers_client_context(64 * 2 ** 20)
    context.setsockopt(zmq.IMMEDIATE, 1)
    client = BlockingKernelClient(context=context)
    client.load_connection_info({"transport": "ipc", "ip": "/nonexistent/kernel", "key": "", "shell_port": 1,
                                 "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5})
    client.start_channels()
    try:
        session = Session(client, time.monotonic() + 5, lambda: False)
        session.open = True
        finished = []
        waiting = threading.Thread(target=lambda: finished.append(session.finish()), daemon=True)
        waiting.start()
        waiting.join(30)
        assert finished == [False], "the checks still wait to send to a kernel that is gone"
    finally:
        client.stop_channels()
