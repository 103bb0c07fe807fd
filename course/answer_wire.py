"""Answers as data: how values cross between the student's kernel (course/answer_server.py) and
the checks, which run outside it (course/answer_client.py). A message is JSON text; a value in
it is JSON's null, true/false, a number or a string, or an object tagged by its "~" key:

- "nd": a numpy array or scalar of numbers or booleans: dtype, shape and its bytes in base64;
- "list", "tuple", "dict" (items as [key, value] pairs), "complex", "fraction";
- "series", "frame": a pandas Series or DataFrame, as its values, index and names;
- "keras": a Keras model of the checks' own (its JSON configuration and weights), which the
  kernel builds again: a model the checks made and hand to an answer; "keras_object": another
  Keras object of theirs (an optimizer, a loss), as keras.saving serializes it;
- "ref": an object that stays in the kernel (a model, a function), by number: the checks read it
  only by asking the kernel (answer_session.Remote);
- "callback": a function of the checks' own, by number, that an answer calls back.

The checks' side decodes only these tags, into new numpy arrays, Python numbers and strings, and
pandas objects made from them: nothing the kernel sends is unpickled or runs code.
"""
import base64
import math
from fractions import Fraction

import numpy as np

TAG = "~"
# The dtypes an array may have on the wire (numbers and booleans, either byte order)
WIRE_DTYPES = frozenset(np.dtype(name).newbyteorder(order).str
                        for name in ("?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8",
                                     "f2", "f4", "f8", "c8", "c16") for order in "<>")
MAX_DEPTH = 32  # containers inside containers
MAX_ITEMS = 100_000  # items of one list, tuple or dict
MAX_ARRAY_BYTES = 64 * 2 ** 20


class WireError(ValueError):
    """A message that is not what the wire format says (WireError's text says what)."""


def array_to_wire(array, scalar=False):
    """A numpy array (or scalar, `scalar=True`) of numbers or booleans as an "nd" object."""
    array = np.asarray(array)
    array = array if array.flags.c_contiguous else array.copy(order="C")  # (0-d stays 0-d)
    return {TAG: "nd", "dtype": array.dtype.str, "shape": list(array.shape), "scalar": scalar,
            "data": base64.b64encode(array.tobytes()).decode("ascii")}


def array_from_wire(wire):
    """The new, writable numpy array (or numpy scalar) an "nd" object holds. Raises WireError for a
    dtype outside WIRE_DTYPES, a bad shape, or bytes that do not fill it."""
    dtype, shape, data = wire.get("dtype"), wire.get("shape"), wire.get("data")
    if dtype not in WIRE_DTYPES or not isinstance(shape, list) or len(shape) > 32 \
            or not all(type(n) is int and 0 <= n for n in shape) or not isinstance(data, str):
        raise WireError(f"not an array: dtype {str(dtype)[:20]!r}, shape {str(shape)[:40]}")
    dtype = np.dtype(dtype)
    if len(data) > MAX_ARRAY_BYTES * 4 // 3 + 4 or math.prod(shape) * dtype.itemsize > MAX_ARRAY_BYTES:
        raise WireError("an array larger than the wire takes")
    try:
        array = np.frombuffer(base64.b64decode(data, validate=True), dtype=dtype).reshape(shape).copy()
    except ValueError as error:
        raise WireError(f"an array whose bytes do not fill its shape: {error}") from None
    return array[()] if wire.get("scalar") is True and array.shape == () else array


def check_key(key):
    if type(key) not in (str, int, float, bool) and key is not None:
        raise WireError(f"a dict key that is not a string or a number: {type(key).__name__}")
    return key


def container_from_wire(wire, decode, depth):
    """A "list", "tuple", "dict", "complex" or "fraction" object, its items decoded with
    decode(item, depth)."""
    kind = wire[TAG]
    if kind in ("list", "tuple", "dict"):
        items = wire.get("items")
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise WireError(f"a {kind} without its items")
        if kind == "dict":
            if not all(isinstance(pair, list) and len(pair) == 2 for pair in items):
                raise WireError("a dict whose items are not pairs")
            return {check_key(decode(key, depth + 1)): decode(value, depth + 1) for key, value in items}
        values = [decode(item, depth + 1) for item in items]
        return values if kind == "list" else tuple(values)
    if kind == "complex":
        return complex(float(wire.get("re")), float(wire.get("im")))
    if kind == "fraction":
        numerator, denominator = wire.get("n"), wire.get("d")
        if not (isinstance(numerator, str) and isinstance(denominator, str)
                and len(numerator) < 400 and len(denominator) < 400):
            raise WireError("a fraction without its numbers")
        return Fraction(int(numerator), int(denominator))
    raise WireError(f"an unknown kind of value: {str(kind)[:20]!r}")


def table_to_wire(table, encode, depth):
    """A pandas Series or DataFrame in the wire form both sides send: "series" (its values, index
    and name) or "frame" (its columns, the values column by column, a column of objects as a
    list, and its index), each part through encode(part, depth + 1). Raises TypeError for a
    Series whose values are not numbers."""
    index = encode(table.index.tolist(), depth + 1)
    if type(table).__name__ == "Series":
        values = plain_to_wire(table.to_numpy(), encode, depth)
        if values is NotImplemented:
            raise TypeError("a Series whose values are not numbers")
        return {TAG: "series", "values": values, "index": index, "name": encode(table.name, depth + 1)}
    columns = [encode(table[column].to_numpy() if table[column].dtype != object else table[column].tolist(),
                      depth + 1) for column in table.columns]
    return {TAG: "frame", "columns": encode(list(table.columns), depth + 1), "values": columns, "index": index}


def plain_to_wire(value, encode, depth):
    """The wire form of a value both sides send the same way (None, bool, int, float, str,
    complex, Fraction, numpy arrays and scalars of numbers, list, tuple, dict, encoding items
    with encode(item, depth)), or NotImplemented."""
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind is complex:
        return {TAG: "complex", "re": value.real, "im": value.imag}
    if kind is Fraction:
        return {TAG: "fraction", "n": str(value.numerator), "d": str(value.denominator)}
    if isinstance(value, (np.ndarray, np.generic)) and np.asarray(value).dtype.str in WIRE_DTYPES:
        return array_to_wire(value, scalar=isinstance(value, np.generic))
    if isinstance(value, (list, tuple)) and depth < MAX_DEPTH and len(value) <= MAX_ITEMS:
        return {TAG: "tuple" if isinstance(value, tuple) else "list",
                "items": [encode(item, depth + 1) for item in value]}
    if isinstance(value, dict) and depth < MAX_DEPTH and len(value) <= MAX_ITEMS:
        return {TAG: "dict", "items": [[encode(key, depth + 1), encode(item, depth + 1)]
                                       for key, item in value.items()]}
    return NotImplemented
