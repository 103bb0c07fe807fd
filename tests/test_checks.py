"""The shared check helpers: they pass what is right and fail, in Korean, naming the value,
on what is wrong."""
import numpy as np
import pytest

from course.checks import (
    CheckFailed,
    check_array,
    check_between,
    check_equal,
    check_model,
    check_model_outputs,
    layer_outputs,
    layer_summary,
    model_outputs,
)

# Importing TensorFlow takes 6 s, a tenth of the fast tests' budget: these run with the slow ones.
imports_tensorflow = pytest.mark.slow


def test_check_equal_accepts_numpy_integers_and_rejects_floats_and_bools():
    check_equal("n", np.int64(21), 21)
    with pytest.raises(CheckFailed, match="정수"):
        check_equal("n", 21.0, 21)
    with pytest.raises(CheckFailed, match="정수"):
        check_equal("n", True, 1)


class _Tensor:
    """What check_equal sees of a scalar tf.Tensor: a .numpy() that gives a 0-d array."""

    def __init__(self, value):
        self.value = value

    def numpy(self):
        return np.asarray(self.value)


def test_check_equal_takes_a_0d_integer_array_or_tensor_as_its_integer():
    """np.where(x1 != x2, 1, 0) and np.vectorize give a gate's output as a 0-d array."""
    check_equal("XOR(0, 1)", np.where(0 != 1, 1, 0), 1)
    check_equal("XOR(0, 1)", np.vectorize(lambda a, b: int(a != b))(0, 1), 1)
    check_equal("XOR(0, 1)", _Tensor(np.int32(1)), 1)
    for wrong in (np.where(True, 0, 1), np.array(1.0), np.array(True), np.array([1]), _Tensor(1.0)):
        with pytest.raises(CheckFailed):
            check_equal("XOR(0, 1)", wrong, 1)


def test_check_equal_names_the_value_and_gives_the_hint():
    with pytest.raises(CheckFailed) as failure:
        check_equal("dense_params(1, 4)", 4, 8, hint="편향")
    message = str(failure.value)
    assert "dense_params(1, 4)" in message and "기대한 값은 8, 실제 값은 4" in message
    assert "힌트: 편향" in message


def test_check_array_shape_value_nan_and_none():
    check_array("x", [1.0, 2.0], np.array([1.0, 2.0 + 1e-9]))
    with pytest.raises(CheckFailed, match="모양"):
        check_array("x", np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(CheckFailed, match=r"위치 \(1,\)"):
        check_array("x", [1.0, 2.5], [1.0, 2.0])
    with pytest.raises(CheckFailed, match="nan"):
        check_array("x", [np.nan, 1.0], [0.0, 1.0])
    with pytest.raises(CheckFailed, match="None"):
        check_array("x", None, [1.0])
    # an expected nan (an answer that wrote nan into the test cell's input) matches nothing
    with pytest.raises(CheckFailed, match="값이 다릅니다"):
        check_array("x", [np.nan, 1.0], [np.nan, 1.0])


@imports_tensorflow
def test_check_array_accepts_tensors():
    tf = pytest.importorskip("tensorflow")
    check_array("t", tf.constant([1.0, 2.0]), [1.0, 2.0])


def test_check_between():
    check_between("w", np.array([[1.8]]), 1.75, 1.85)
    with pytest.raises(CheckFailed, match="범위"):
        check_between("b", 29.0, 31.0, 33.0)


def _model():
    import keras
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(2, activation="relu"), keras.layers.Dense(1)])
    model.set_weights([np.full(v.shape, 0.5) for v in model.get_weights()])
    return model


@imports_tensorflow
def test_layer_summary_and_check_model():
    model = _model()
    assert layer_summary(model) == [("Dense", (4,), 8), ("Dense", (2,), 10), ("Dense", (1,), 3)]
    check_model("m", model, [((4,), 8), ((2,), 10), ((1,), 3)])
    with pytest.raises(CheckFailed, match="파라미터 수"):
        check_model("m", model, [((4,), 8), ((2,), 8), ((1,), 3)])
    with pytest.raises(CheckFailed, match="층\\(layer\\) 수"):
        check_model("m", model, [((4,), 8)])
    with pytest.raises(CheckFailed, match="Keras 모델이 아닙니다"):
        check_model("m", None, [])


@imports_tensorflow
def test_layer_outputs_are_each_layers_output():
    x = np.array([[1.0], [2.0]])
    outputs = layer_outputs(_model(), x)
    assert [o.shape for o in outputs] == [(2, 4), (2, 2), (2, 1)]
    hidden = np.maximum(0, x @ np.full((1, 4), 0.5) + 0.5)
    np.testing.assert_allclose(outputs[0], hidden, rtol=1e-6)
    np.testing.assert_allclose(outputs[1], np.maximum(0, hidden @ np.full((4, 2), 0.5) + 0.5),
                               rtol=1e-6)


@imports_tensorflow
def test_check_model_outputs_tests_what_the_model_computes_however_it_is_written():
    import keras
    weights = [np.array([[1.5], [-2.0]]), np.array([0.25])]
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [2.0, -1.0]])
    expected = 1 / (1 + np.exp(-(x @ weights[0] + weights[1])))
    inputs = keras.Input(shape=(2,))
    for model in [
        keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, activation="sigmoid")]),
        keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1), keras.layers.Activation("sigmoid")]),
        keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs)),
    ]:
        check_model_outputs("m", model, weights, x, expected)
    linear = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    with pytest.raises(CheckFailed, match="출력"):
        check_model_outputs("m", linear, weights, x, expected)
    hidden = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(2), keras.layers.Dense(1)])
    with pytest.raises(CheckFailed, match="가중치의 모양"):
        check_model_outputs("m", hidden, weights, x, expected)
    with pytest.raises(CheckFailed, match="Keras 모델이 아닙니다"):
        check_model_outputs("m", None, weights, x, expected)


@imports_tensorflow
def test_model_outputs_are_its_layers_outputs_whatever_the_models_own_code_does():
    """Round 16: a subclass of keras.Model whose call ignored its weights (the OLS predictions,
    an unused Dense(1) for the parameter count) passed lesson 06's training check; round 17: an
    activation function of the student's named `linear` that gave 0. The outputs are computed by
    a copy of Keras' own layers, and must be the model's own: honest models (a subclass that made
    its layers in another order than call uses them, a lambda activation) give them."""
    import keras
    import tensorflow as tf

    x = np.random.default_rng(0).normal(size=(9, 3)).astype("float32")

    class OutOfOrder(keras.Model):
        def __init__(self):
            super().__init__()
            self.out, self.hidden = keras.layers.Dense(1), keras.layers.Dense(4, activation=tf.nn.relu)

        def call(self, inputs):
            return self.out(self.hidden(inputs))

    class FakeCall(keras.Model):
        def __init__(self):
            super().__init__()
            self.unused = keras.layers.Dense(1)

        def call(self, inputs):
            self.unused(inputs)
            return keras.ops.sum(inputs, axis=1, keepdims=True) * 0 + 5.0

    def linear(t):  # named like Keras' own
        return t * 0.0

    normalization = keras.layers.Normalization()
    normalization.adapt(x)
    inputs = keras.Input(shape=(3,))
    honest = [keras.Sequential([keras.Input(shape=(3,)), normalization, keras.layers.Dense(2, activation="sigmoid"),
                                keras.layers.Dense(1)]),
              keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Dense(2, activation="tanh")(inputs))),
              keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1, activation=lambda z: tf.math.sigmoid(z))]),
              OutOfOrder()]
    for model in honest:
        model(x)
        np.testing.assert_allclose(model_outputs("m", model, x), model(x), rtol=1e-5, atol=1e-6)
    for fake in [FakeCall(), keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1, activation=linear)])]:
        fake(x)
        with pytest.raises(CheckFailed, match="층과 가중치로 계산한 값과 다릅니다"):
            model_outputs("m", fake, x)


@imports_tensorflow
@pytest.mark.parametrize("layer", ["lambda_layer", "own_layer_class", "merging_layer", "huge_units"])
def test_model_outputs_refuse_layers_with_code_of_their_own_or_unbounded_sizes(layer):
    """Round 17 doubled a model's size 30 times with Concatenate([t, t]) in the grader's copy."""
    import keras

    class Doubling(keras.layers.Layer):
        def call(self, inputs):
            return inputs * 2

    inputs = keras.Input(shape=(2,))
    models = {
        "lambda_layer": lambda: keras.Sequential([keras.Input(shape=(2,)), keras.layers.Lambda(lambda t: t * 2),
                                                  keras.layers.Dense(1)]),
        "own_layer_class": lambda: keras.Sequential([keras.Input(shape=(2,)), Doubling(), keras.layers.Dense(1)]),
        "merging_layer": lambda: keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Concatenate()([inputs, inputs]))),
        "huge_units": lambda: keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)]),
    }
    model = models[layer]()
    if layer == "huge_units":  # a layer whose settings ask for 10^9 units, where its weights have 1
        dense = model.layers[0]
        settings = dense.get_config()
        dense.get_config = lambda: {**settings, "units": 10 ** 9}
    with pytest.raises(CheckFailed, match=r"Keras가 제공하는 층|설정을 읽을 수 없습니다"):
        model_outputs("m", model, np.zeros((3, 2)))


class _Flipping:
    """A one-element sequence that gives its true value when first read and 1.0 after (what a
    forged accuracy did: the first check compares it with the model's, the second asks for 1.0)."""
    __module__ = "__main__"  # as a class a notebook cell defines

    def __init__(self, value):
        self.value, self.reads = value, 0

    def __len__(self):
        return 1

    def __getitem__(self, i):
        if i >= 1:
            raise IndexError(i)
        self.reads += 1
        return self.value if self.reads == 1 else 1.0


def test_an_object_of_the_notebooks_classes_is_read_once():
    accuracy = _Flipping(0.5)
    check_between("accuracy", accuracy, 0.5, 0.5)
    with pytest.raises(CheckFailed):
        check_between("accuracy", accuracy, 1.0, 1.0)
    in_a_list = [_Flipping(0.5)]
    check_array("accuracy", in_a_list, [[0.5]])
    with pytest.raises(CheckFailed):
        check_array("accuracy", in_a_list, [[1.0]])


def test_a_plain_list_is_read_as_it_is_now():
    """A student's function may hand back the same list again, grown: each check reads it anew."""
    trace = [1.0]
    check_array("trace", trace, [1.0])
    trace.append(2.0)
    check_array("trace", trace, [1.0, 2.0])


def test_an_object_read_as_a_number_is_read_once():
    """A Fraction whose numerator changes between reads (review): numpy keeps it as an object and
    float() asked it again at every check."""
    from fractions import Fraction

    reads = [3, 4]

    class Accuracy(Fraction):
        __module__ = "__main__"

        @property
        def _numerator(self):
            return reads.pop(0) if len(reads) > 1 else reads[0]

        @_numerator.setter
        def _numerator(self, value):
            pass

        @property
        def _denominator(self):
            return 4

        @_denominator.setter
        def _denominator(self, value):
            pass

    accuracy = Accuracy(3, 4)
    check_between("accuracy", accuracy, 0.75, 0.75)
    with pytest.raises(CheckFailed):
        check_between("accuracy", accuracy, 1.0, 1.0)


def test_an_object_with_a_numpy_method_is_read_once():
    import types

    values = iter([0.5, 1.0, 1.0])
    accuracy = types.SimpleNamespace(numpy=lambda: next(values))
    check_between("accuracy", accuracy, 0.5, 0.5)
    with pytest.raises(CheckFailed):
        check_between("accuracy", accuracy, 1.0, 1.0)
