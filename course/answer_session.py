"""The grader's side of a test cell's conversation with the student's kernel (course/answer_client.py
runs the test cell): a Session asks the kernel (course/answer_server.py, over its stdin channel)
for the answers and decodes what comes back as data (course/answer_wire.py): numbers, text, lists
and tables, or a Remote for anything else (a model, a function), which the checks read and call
one request at a time. The checks' own values go the other way: data, callbacks, Keras
configurations.
"""
import builtins
import json
import queue
import secrets
import time
from pathlib import Path

import numpy as np
import zmq

from course.answer_wire import (
    TAG,
    WireError,
    array_from_wire,
    array_to_wire,
    container_from_wire,
    plain_to_wire,
    table_to_wire,
)

MAX_PROMPT_CHARS = 96 * 2 ** 20  # one message of the kernel's (the grader's sockets drop one over 64 MiB first)
MAX_TEXT = 2_000
FIRST_MESSAGE_SECONDS = 5.0  # after which the kernel's first message is taken to be lost
# The numbers an array an answer hands to a function of the checks' may hold (they are called with
# the test's data, a few hundred numbers): the checks' maths runs in the grader, whose memory an
# array of the answer's size would fill (review round 14: two arrays broadcast to 4.6 GB)
CALLBACK_MAX_ELEMENTS = 1024


def serve_code():
    """The code the grader runs in the kernel for a test cell: course/answer_wire.py's code and
    course/answer_server.py's (the kernel cannot import the course package), run in a namespace of
    their own (none of the notebook's names is bound), then serve()."""
    here = Path(__file__).parent
    wire = (here / "answer_wire.py").read_text(encoding="utf-8")
    server = (here / "answer_server.py").read_text(encoding="utf-8").replace(
        "from course.answer_wire import", "# (its code is above) from course.answer_wire import")
    source = f"{wire}\n\n{server}\n\nserve()\n"
    return f"exec(compile({source!r}, '<course answers>', 'exec'), {{'__name__': '__course_answers__'}})"


SERVE_CODE = serve_code()
# Helpers of the checks cell that read the training record, which lives in the kernel: the checks
# ask the kernel's own (course/training_record.py) about an answer's model
KERNEL_HELPERS = ("updates_of", "replay_until", "recorded_fits", "seed_training")


def _sizes(values, depth=0):
    """How many numbers each part of `values` (a list of decoded values) holds: an array's or a
    table's size, a list's, tuple's or dict's length (and its items' sizes), 1 for anything else
    (an object that stays in the kernel, such as the model a replay hands to the test's `good`:
    what the checks read of it is bounded as anything they read; round 15: a plain list of 60,000
    numbers was not counted)."""
    for value in values:
        if isinstance(value, (np.ndarray, np.generic)) or type(value).__module__.split(".")[0] == "pandas":
            yield int(np.size(value))
        elif isinstance(value, (list, tuple, dict)) and depth < 40:
            items = list(value.values()) if isinstance(value, dict) else list(value)
            yield len(items)
            yield from _sizes(items, depth + 1)
        else:
            yield 1


class _Silent(Exception):
    """No message from the kernel within the time asked."""


class AnswersUnreadable(Exception):
    """The kernel did not answer as course/answer_server.py does (it ended the conversation, sent
    something that is not a message, or broke off): the test cell cannot be checked."""


class KernelGone(Exception):
    """The kernel died while the checks talked to it."""


class AnswerTimeout(Exception):
    """The kernel did not answer before the cell's time was up."""


class AnswerError(Exception):
    """An error the answer raised that is not one of Python's built-in ones ("Type: message")."""


class Remote:
    """An object that stays in the student's kernel: its attributes, calls, items, length, items,
    truth, numbers and text are each asked of the kernel. Special (dunder) names are never asked:
    what numpy or Python look up on an object (__array_interface__, ...) would otherwise let the
    kernel's answer decide how this process reads memory."""

    __slots__ = ("_session", "_wire")

    def __init__(self, session, wire):
        self._session, self._wire = session, wire

    @property
    def kernel_class(self):
        """"module:QualifiedName" of the object's class in the kernel."""
        return self._wire["type"]

    def _ask(self, op, **fields):
        return self._session.request({"op": op, "target": self._wire, **fields})

    def __getattr__(self, name):
        if name.startswith("__") or name.startswith("_repr_") or name.startswith("_ipython"):
            raise AttributeError(name)
        return self._ask("getattr", name=name)

    def __call__(self, *args, **kwargs):
        return self._ask("call", args=self._session.encode(list(args)), kwargs=self._session.encode(dict(kwargs)))

    def __getitem__(self, key):
        return self._ask("getitem", key=self._session.encode(key))

    def __len__(self):
        return _exact(self._ask("len"), int, "len")

    def __iter__(self):
        return iter(_exact(self._ask("iter"), list, "iter"))

    def __bool__(self):
        return _exact(self._ask("bool"), bool, "bool")

    def __float__(self):
        return float(_exact(self._ask("float"), float, "float"))

    def __int__(self):
        return _exact(self._ask("int"), int, "int")

    def __index__(self):
        return _exact(self._ask("index"), int, "index")

    def __array__(self, dtype=None, copy=None):
        array = self._ask("array")
        if not isinstance(array, (np.ndarray, np.generic)):
            raise TypeError(f"not an array of numbers: {type(array).__name__}")
        return np.asarray(array, dtype=dtype)

    def __repr__(self):
        return _exact(self._ask("repr"), str, "repr")

    def __str__(self):
        return _exact(self._ask("str"), str, "str")

    def __format__(self, spec):
        return format(str(self), spec)


def _exact(value, kind, op):
    if type(value) is not kind and not (kind is float and type(value) is int):
        raise AnswerError(f"the answer's {op} gave {type(value).__name__}, not {kind.__name__}")
    return value


def answers_client_context(max_message_bytes):
    """A ZeroMQ context for a client the checks talk to a kernel with: its sockets drop a message
    part over `max_message_bytes` (which also drops the connection), keep 4 of the kernel's
    outputs unread (the rest are dropped: round 14 piled up 7 GB), give up a send after 10 s and
    keep nothing unsent when closed, so that a kernel that is gone cannot hold the grader."""
    context = zmq.Context()
    context.setsockopt(zmq.MAXMSGSIZE, max_message_bytes)
    context.setsockopt(zmq.RCVHWM, 4)
    context.setsockopt(zmq.SNDTIMEO, 10_000)
    context.setsockopt(zmq.LINGER, 0)
    return context


class Session:
    """One test cell's conversation with the student's kernel (course/answer_server.py): `client`
    is a blocking jupyter_client to it, `deadline` the time.monotonic() by which it must be over,
    `is_alive()` whether the kernel still runs."""

    def __init__(self, client, deadline, is_alive):
        self.client, self.deadline, self.is_alive = client, deadline, is_alive
        self.callbacks, self.reply, self.open, self.secret = {}, None, False, None
        self.handed = []  # what the cell handed the kernel as data (run_test_cell), for a restart

    # ---- the conversation
    def start(self):
        self.msg_id = self.client.execute(SERVE_CODE, silent=True, store_history=False, allow_stdin=True,
                                          stop_on_error=False)
        self.open = True
        try:
            first = self._next(wait=FIRST_MESSAGE_SECONDS)
        except _Silent:
            # The kernel's first message can be lost: the kernel sends it to this client's stdin
            # socket, which a socket that has not finished connecting does not receive (ZeroMQ
            # drops it; it happened under load in CI). The kernel then waits for an answer: ask
            # again. Its "ready", if it was only slow, is taken as well.
            self.secret = secrets.token_hex(16)
            self._say({"op": "hello", "secret": self.secret})
            first = self._next(accept=(self.secret, None))
        if first.get("op") not in ("ready", "result"):
            raise AnswersUnreadable("the kernel did not start answering")

    def finish(self, seconds=10.0):
        """Say "done" and wait (up to `seconds`, within the deadline) for the kernel to end the
        conversation; whether it did."""
        if self.open:
            self.open = False
            try:
                self._say({"op": "done"})
            except AnswersUnreadable:
                return False
        end = min(self.deadline, time.monotonic() + seconds)
        while self.reply is None and time.monotonic() < end:
            self._read_reply(min(0.2, max(end - time.monotonic(), 0.01)))
        return self.reply is not None

    def request(self, message):
        """Ask the kernel (message: a dict); the value it answers, decoded, or its error raised."""
        if not self.open:
            raise AnswersUnreadable("the answers of a cell that has ended")
        reply = self._send(message)
        while reply.get("op") == "call":  # the answer calls a function of the checks'
            reply = self._send(self._run_callback(reply))
        if reply.get("op") == "result":
            return self.decode(reply.get("value"))
        if reply.get("op") == "error":
            raise self._error(reply)
        raise AnswersUnreadable(f"a message the checks did not ask for: {str(reply.get('op'))[:20]!r}")

    def _send(self, message):
        # a new secret with each message, which the kernel's side must send back with its answer:
        # code of the student's that writes to the channel itself (a route around input(), which
        # raises while the checks run) does not know it, having read no message (round 14)
        self.secret = secrets.token_hex(16)
        self._say({**message, "secret": self.secret})
        return self._next()

    def _say(self, message):
        """Send `message` to the kernel; AnswersUnreadable where it cannot be sent (the client's
        sockets give up after a while, answers_client_context: a message over the sockets' limit
        drops the connection, and a send to a kernel no longer there waited forever, round 19)."""
        try:
            self.client.input(json.dumps(message, allow_nan=True))
        except zmq.ZMQError as error:
            self.open = False
            raise AnswersUnreadable(f"the checks could not send to the kernel: {error}") from None

    def _next(self, wait=None, accept=None):
        """The kernel's next message (a dict) that answers the checks' last one (carries back its
        secret, or one of `accept`). Raises _Silent after `wait` seconds without one."""
        until = self.deadline if wait is None else min(self.deadline, time.monotonic() + wait)
        while True:
            left = until - time.monotonic()
            if left <= 0:
                if until < self.deadline:
                    raise _Silent()
                raise AnswerTimeout()
            try:
                msg = self.client.get_stdin_msg(timeout=min(left, 0.5))
            except queue.Empty:
                if self.reply is None:
                    self._read_reply(0.0)
                if self.reply is not None:
                    self.open = False
                    content = self.reply.get("content", {})
                    raise AnswersUnreadable(f"the kernel ended the conversation: {str(content.get('ename'))[:100]}: "
                                            f"{str(content.get('evalue'))[:300]}") from None
                if not self.is_alive():
                    self.open = False
                    raise KernelGone() from None
                continue
            if msg.get("parent_header", {}).get("msg_id") != self.msg_id or msg.get("msg_type") != "input_request":
                continue
            prompt = msg.get("content", {}).get("prompt")
            if not isinstance(prompt, str) or len(prompt) > MAX_PROMPT_CHARS:
                raise AnswersUnreadable("a message that is not text, or too long")
            try:
                message = json.loads(prompt)
            except (ValueError, RecursionError):
                raise AnswersUnreadable("a message that is not JSON") from None
            if not isinstance(message, dict):
                raise AnswersUnreadable("a message that is not a JSON object")
            if message.get("secret") not in (accept or (self.secret,)):
                raise AnswersUnreadable("a message that does not answer the checks' last one")
            return message

    def _read_reply(self, timeout):
        try:
            msg = self.client.get_shell_msg(timeout=timeout)
        except queue.Empty:
            return
        if msg.get("parent_header", {}).get("msg_id") == self.msg_id:
            self.reply = msg

    def _run_callback(self, message):
        callback = self.callbacks.get(message.get("callback"))
        try:
            if callback is None:
                raise AnswerError("no such function of the checks'")
            args, kwargs = self.decode(message.get("args")), self.decode(message.get("kwargs"))
            if type(args) is not list or type(kwargs) is not dict or not all(type(k) is str for k in kwargs):
                raise AnswerError("a call without its arguments")
            sizes = list(_sizes(args + list(kwargs.values())))
            if any(size > CALLBACK_MAX_ELEMENTS for size in sizes) or sum(sizes) > 4 * CALLBACK_MAX_ELEMENTS:
                raise AnswerError(f"values larger than the checks' functions take ({CALLBACK_MAX_ELEMENTS} "
                                  "numbers each): they are called with the test's own data")
            return {"op": "result", "value": self.encode(callback(*args, **kwargs))}
        except (AnswerTimeout, KernelGone, AnswersUnreadable):
            raise
        except Exception as error:  # noqa: BLE001 (said to the answer that called it)
            return {"op": "error", "message": f"{type(error).__name__}: {error}"[:MAX_TEXT]}

    def _error(self, reply):
        name, message = str(reply.get("type"))[:100], str(reply.get("message"))[:MAX_TEXT]
        kind = getattr(builtins, name, None)
        error = None
        if isinstance(kind, type) and issubclass(kind, Exception) and kind is not StopIteration \
                and not issubclass(kind, (StopAsyncIteration, UnicodeError, OSError)):
            try:
                error = kind(message)
            except Exception:  # noqa: BLE001 (one that takes other arguments)
                error = None
        if error is None:
            error = AnswerError(f"{name}: {message}")
        if isinstance(error, NameError) and isinstance(reply.get("name"), str):
            error.name = reply["name"]
        error.kernel_type = name
        error.blank_function = reply.get("blank") if isinstance(reply.get("blank"), str) else None
        return error

    # ---- values
    def encode(self, value, depth=0):
        plain = plain_to_wire(value, self.encode, depth)
        if plain is not NotImplemented:
            return plain
        if type(value) in (range, set, frozenset):
            return self.encode(list(value), depth)
        if isinstance(value, Remote):
            if value._session is not self:
                raise AnswersUnreadable("an answer from another cell")
            return value._wire
        module = type(value).__module__.split(".")[0]
        if module == "pandas" and type(value).__name__ in ("Series", "DataFrame"):
            return table_to_wire(value, self.encode, depth)
        if module in ("keras", "tensorflow") and hasattr(value, "get_weights") and hasattr(value, "to_json"):
            return {TAG: "keras", "config": value.to_json(),
                    "weights": [array_to_wire(np.asarray(w)) for w in value.get_weights()]}
        if module == "keras" and hasattr(value, "get_config"):  # an optimizer, a loss, a layer
            import keras

            return {TAG: "keras_object", "config": json.dumps(keras.saving.serialize_keras_object(value))}
        if module in ("keras", "tensorflow") and hasattr(value, "numpy"):
            return array_to_wire(np.asarray(value))
        if callable(value):
            number = len(self.callbacks)
            self.callbacks[number] = value
            return {TAG: "callback", "id": number, "name": str(getattr(value, "__name__", "callback"))}
        raise TypeError(f"the checks cannot hand a {type(value).__name__} to an answer")

    def decode(self, wire, depth=0):
        """A value the kernel sent, as new numbers, text, containers, pandas objects or Remotes.
        Raises AnswersUnreadable for anything the wire format does not allow."""
        try:
            return self._decode(wire, depth)
        except (WireError, TypeError, ValueError, KeyError, OverflowError, ZeroDivisionError) as error:
            raise AnswersUnreadable(f"a value that is not data: {str(error)[:200]}") from None

    def _decode(self, wire, depth):
        if depth > 40:
            raise WireError("values nested too deep")
        if wire is None or type(wire) in (bool, int, float, str):
            return wire
        if type(wire) is not dict:
            raise WireError(f"a bare {type(wire).__name__}")
        kind = wire.get(TAG)
        if kind == "nd":
            return array_from_wire(wire)
        if kind == "ref":
            if type(wire.get("id")) is not int or type(wire.get("type")) is not str or len(wire["type"]) > 300:
                raise WireError("a reference without its number")
            return Remote(self, {TAG: "ref", "id": wire["id"], "type": wire["type"]})
        if kind in ("series", "frame"):
            import pandas as pd

            index = self._decode(wire.get("index"), depth + 1)
            if type(index) is not list:
                raise WireError("a table without its index")
            if kind == "series":
                values = self._decode(wire.get("values"), depth + 1)
                if not isinstance(values, np.ndarray) or values.shape != (len(index),):
                    raise WireError("a series without a number for each row")
                name = self._decode(wire.get("name"), depth + 1)
                return pd.Series(values, index=index, name=name if type(name) in (str, int, float) else None)
            columns, values = self._decode(wire.get("columns"), depth + 1), wire.get("values")
            if type(columns) is not list or type(values) is not list or len(columns) != len(values):
                raise WireError("a table without its columns")
            data = {}
            for column, cells in zip(columns, values):
                cells = self._decode(cells, depth + 1)  # a value a row: pandas spreads no single value
                if not ((isinstance(cells, np.ndarray) and cells.shape == (len(index),)) or (type(cells) is list
                        and len(cells) == len(index) and all(c is None or type(c) in (bool, int, float, str)
                                                             for c in cells))):
                    raise WireError("a column without a number or a text for each row")
                data[checks_key(column)] = cells
            return pd.DataFrame(data, index=index)
        return container_from_wire(wire, self._decode, depth)


def checks_key(key):
    if type(key) not in (str, int, float):
        raise WireError("a column name that is not text or a number")
    return key
