"""course.training_record: every fit recorded, and replay_training() replaying them from Keras' default
initial weights learns what an honestly trained model learned, and nothing where the weights
were put in by hand (round 7's forgeries: a fit on zeros or at learning rate 0, then set_weights)."""
import re

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from course.training_record import (  # noqa: E402 (after keras)
    _fingerprint,
    _moved,
    record_fits,
    recorded_fits,
    replay_training,
    replay_until,
)

pytestmark = pytest.mark.slow  # imports TensorFlow

CELSIUS = np.array([-40, -10, 0, 8, 15, 22, 38], dtype=float)
FAHRENHEIT = 1.8 * CELSIUS + 32


def _line_model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])


def _weights(model):
    return [round(float(np.ravel(w)[0]), 2) for w in model.get_weights()]


def _replayed_b_or_refused(model, seed=0):
    """The bias the replay learned, or None where the replay is refused (ValueError): a model whose
    fits changed nothing, or that a callback changed, is refused before any replay."""
    try:
        return _weights(replay_training(model, seed=seed))[1]
    except ValueError:
        return None


def _good_line(copy):
    w, b = _weights(copy)
    return abs(w - 1.8) < 0.05 and abs(b - 32) < 1


def _assert_refused_or_not_learned(model, refusal):
    """replay_until(model) is refused with a message matching `refusal`, or its copy did not learn
    the line."""
    try:
        copy = replay_until(model, _good_line, seeds=range(3))
    except ValueError as error:
        assert re.search(refusal, str(error)), error
    else:
        assert not _good_line(copy), _weights(copy)


def test_a_model_fine_tuned_by_compiling_again_is_retrained_with_both_optimizers():
    """Round 6's honest answer: RMSprop, then a second compile with a small Adam step. Adam's
    60 epochs alone, from Keras' defaults, do not reach b = 32; both phases do."""
    model = _line_model()
    model.compile(loss="mse", optimizer=keras.optimizers.RMSprop(learning_rate=1.0))
    model.fit(CELSIUS, FAHRENHEIT, epochs=60, batch_size=1, verbose=0)
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=0.05))
    model.fit(CELSIUS, FAHRENHEIT, epochs=60, batch_size=1, verbose=0)
    w, b = _weights(replay_training(model, seed=0))
    assert abs(w - 1.8) < 0.05 and abs(b - 32) < 1, (w, b)
    last_only = _line_model(1)
    last_only.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=0.05))
    last_only.fit(CELSIUS, FAHRENHEIT, epochs=60, batch_size=1, verbose=0)
    assert abs(_weights(replay_training(last_only, seed=0))[1] - 32) > 5


def test_each_fit_is_replayed_with_its_own_batch_size_and_epochs():
    """Round 7's honest answer lost 2 points: two fits without a second compile, the second with
    batch_size=1, were retrained as one fit with the last fit's steps."""
    model = _line_model()
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=0.5))
    model.fit(CELSIUS, FAHRENHEIT, epochs=100, verbose=0)
    model.fit(CELSIUS, FAHRENHEIT, epochs=20, batch_size=1, verbose=0)
    fits = recorded_fits(model)
    assert [(fit.get("batch_size"), fit["epochs"]) for fit in fits] == [(None, 100), (1, 20)]
    assert fits[0]["optimizer"] is fits[1]["optimizer"]
    w, b = _weights(replay_training(model, seed=0))
    assert abs(w - 1.8) < 0.15 and abs(b - 32) < 1, (w, b)


@pytest.mark.parametrize("forgery", ["learning_rate_0", "fit_on_zeros", "rate_raised_after_fit", "callback"])
def test_weights_put_in_by_hand_are_not_learned_again(forgery):
    """Each model holds w = 1.8, b = 32 put in by hand around a fit that learned nothing; the
    replay of that fit from Keras' defaults learns nothing either."""
    hand = [np.array([[1.8]]), np.array([32.0])]

    class SetByHand(keras.callbacks.Callback):  # on whichever model fit trains: a replay's too
        def on_train_end(self, logs=None):
            self.model.set_weights(hand)

    model = _line_model()
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0 if forgery == "fit_on_zeros" else 0.0))
    x, y = (np.zeros(7), np.zeros(7)) if forgery == "fit_on_zeros" else (CELSIUS, FAHRENHEIT)
    model.fit(x, y, epochs=20, batch_size=1, verbose=0, callbacks=[SetByHand()] if forgery == "callback" else None)
    model.set_weights(hand)
    if forgery == "rate_raised_after_fit":
        model.optimizer.learning_rate = 1.0  # the settings read after the fit would learn
    if forgery == "callback":  # put in by the fit's own callback while it ran: refused
        with pytest.raises(ValueError, match="callback"):
            replay_training(model, seed=0)
    else:  # put in after the last fit: not what a fit left (round 18), refused before replaying
        with pytest.raises(ValueError, match="after its last fit"):
            replay_training(model, seed=0)


@pytest.mark.parametrize("kind", ["honest", "train_step_sets_weights", "train_step_learns_nothing"])
def test_a_model_of_its_own_class_is_replayed_as_keras_layers(kind):
    """The replay builds its copy of Keras' classes, not of the answer's: a subclass of keras.Model
    whose train_step put in w = 1.8, b = 32 (and counted an update) learned them again in the
    copy when the copy was of its own class; round 19's train_step applied no update to weights
    set before the fit, and the copy, with Keras' train_step, learned. A class that defines its
    own training is not replayed; an honest subclass (__init__ and call) still learns its line."""
    class CelsiusNet(keras.Model):
        def __init__(self):
            super().__init__()
            self.line = keras.layers.Dense(1)

        def call(self, inputs):
            return self.line(inputs)

    class OwnStep(CelsiusNet):
        def train_step(self, data):
            self.optimizer.apply([keras.ops.zeros_like(v) for v in self.trainable_variables], self.trainable_variables)
            if kind == "train_step_sets_weights":
                self.line.kernel.assign([[1.8]])
                self.line.bias.assign([32.0])
            return {"loss": keras.ops.zeros(())}

    keras.utils.set_random_seed(0)
    model = CelsiusNet() if kind == "honest" else OwnStep()
    model(np.zeros((1, 1)))
    if kind == "train_step_learns_nothing":
        model.set_weights([np.array([[1.8]]), np.array([32.0])])
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
    model.fit(CELSIUS.reshape(-1, 1), FAHRENHEIT, epochs=1 if kind != "honest" else 150, batch_size=7, verbose=0)
    assert _weights(model) == [1.8, 32.0] if kind != "honest" else abs(_weights(model)[1] - 32) < 1
    if kind != "honest":
        with pytest.raises(ValueError, match="train_step"):
            replay_training(model, seed=0)
        return
    copy = replay_training(model, seed=0)
    assert type(copy) is keras.Sequential
    w, b = _weights(copy)
    assert abs(w - 1.8) < 0.05 and abs(b - 32) < 1, (w, b)


@pytest.mark.parametrize("forgery", ["loss_read_a_flag", "activation_named_like_keras"])
def test_a_replay_trains_with_the_answers_own_loss_and_activations_as_they_were(forgery):
    """Round 17: a loss that read a number set to 0 for the fit and to 1 after, and an activation
    function of the student's named `linear` that passed no gradient, learned nothing in the fit,
    but the replay (a new trace of the loss; Keras' own `linear` by its name) learned the line."""
    scale = [0.0]

    def squared_error(y_true, y_pred):
        return scale[0] * keras.ops.mean(keras.ops.square(y_true - y_pred[:, 0]))

    def linear(t):  # named like Keras' own
        return keras.ops.stop_gradient(t) + 0.0 * t

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(1,)),
                              keras.layers.Dense(1, activation=linear if forgery != "loss_read_a_flag" else None)])
    model.compile(loss=squared_error if forgery == "loss_read_a_flag" else "mse",
                  optimizer=keras.optimizers.Adam(learning_rate=1.0))
    model.fit(CELSIUS.reshape(-1, 1), FAHRENHEIT, epochs=150, batch_size=7, verbose=0)
    scale[0] = 1.0
    b = _replayed_b_or_refused(model)  # (the fit learned nothing: refused as a fit that changed nothing)
    assert b is None or abs(b - 32) > 5, b


def test_a_dataset_is_replayed_as_the_batches_the_fit_read():
    """Round 17: a tf.data pipeline read a list the cell changed after the fit (zeros for the fit,
    the real targets after), so the replay learned the line the fit was never shown."""
    import tensorflow as tf

    source = [np.zeros(len(FAHRENHEIT))]

    def pairs():
        for c, f in zip(CELSIUS, source[0]):
            yield np.float32([c]), np.float32([f])

    spec = (tf.TensorSpec((1,), tf.float32), tf.TensorSpec((1,), tf.float32))
    model = _line_model()
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
    model.fit(tf.data.Dataset.from_generator(pairs, output_signature=spec).batch(1), epochs=40, verbose=0)
    source[0] = FAHRENHEIT
    assert abs(_weights(replay_training(model, seed=0))[1] - 32) > 5


def test_the_record_keeps_the_data_as_fit_read_it():
    x, y = CELSIUS.copy(), FAHRENHEIT.copy()
    model = _line_model()
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=0.5))
    model.fit(x, y, epochs=150, verbose=0)
    x[:], y[:] = 0.0, 0.0  # changed after the fit: the replay still learns from what fit read
    assert np.allclose(_weights(replay_training(model, seed=0)), [1.8, 32.0], atol=[0.05, 1.0])


def test_a_normalization_layer_keeps_what_adapt_computed():
    """The lesson 06 answer that standardizes inside the model: the Normalization layer's mean
    and variance come from adapt(), not from training, and the copy computes with them."""
    x = np.random.default_rng(0).normal(size=(40, 3)) * [1.0, 10.0, 100.0] + [5.0, -3.0, 50.0]
    y = x @ [2.0, -0.5, 0.01] + 7.0
    normalize = keras.layers.Normalization()
    normalize.adapt(x)
    model = keras.Sequential([keras.Input(shape=(3,)), normalize, keras.layers.Dense(1)])
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(learning_rate=0.3, momentum=0.5))
    model.fit(x, y, batch_size=len(x), epochs=60, verbose=0)
    by_model, by_copy = np.asarray(model(x)), np.asarray(replay_training(model, seed=0)(x))
    assert np.max(np.abs(by_copy - by_model)) < 0.01 * np.ptp(by_model)


def test_a_model_never_fitted_comes_back_untrained_and_a_foreign_optimizer_is_refused():
    model = _line_model()
    model.set_weights([np.array([[1.8]]), np.array([32.0])])
    assert recorded_fits(model) == [] and _weights(replay_training(model, seed=0))[1] == 0.0
    assert recorded_fits("not a model") == []

    class Mine(keras.optimizers.SGD):
        pass

    model.compile(loss="mse", optimizer=Mine(learning_rate=0.01))
    model.fit(CELSIUS, FAHRENHEIT, epochs=1, verbose=0)
    assert recorded_fits(model)[0]["settings"] is None
    with pytest.raises(ValueError, match="not Keras' own"):
        replay_training(model, seed=0)


def test_recording_twice_wraps_fit_once():
    fit = keras.Model.fit
    record_fits()
    assert keras.Model.fit is fit and fit.records_fits and fit.__wrapped__.__name__ == "fit"


def test_training_that_depends_on_its_start_counts_if_it_learns_from_one_of_the_starts():
    """Round 7's honest lesson 04 answer: SGD at learning rate 10, then batch_size=1, learns AND
    from 8 of 12 of Keras' default starts (not from seed 4's); replay_until tries the next."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    y = np.array([[0], [0], [0], [1]], dtype="float32")

    def all_right(copy):
        return bool(np.all(np.round(np.asarray(copy(x))) == y))

    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=10.0, momentum=0.8), loss="mse")
    model.fit(x, y, epochs=10, verbose=0)
    model.fit(x, y, epochs=10, batch_size=1, verbose=0)
    assert all_right(model) and not all(all_right(replay_training(model, seed)) for seed in range(4, 9))
    assert all_right(replay_until(model, all_right, seeds=range(4, 9)))
    by_hand = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, activation="sigmoid")])
    by_hand.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    by_hand.set_weights([np.array([[5.0], [5.0]]), np.array([-7.5])])
    by_hand.fit(x, y, epochs=10, verbose=0)
    assert all_right(by_hand)
    with pytest.raises(ValueError, match="fit이 가중치를 바꾸지"):
        replay_until(by_hand, all_right, seeds=range(4, 9))


def test_the_recording_fit_needs_no_name_of_the_notebooks():
    """Colab's test ran the six lessons in one kernel, each after `%reset -f`: lesson 01's
    recording fit stayed on keras.Model.fit and looked up its helpers among the notebook's
    names, which the reset had removed (NameError in every later fit)."""
    from pathlib import Path

    import course.training_record as module
    installed = keras.Model.fit
    keras.Model.fit = installed.__wrapped__
    try:
        namespace = {}
        exec(Path(module.__file__).read_text(encoding="utf-8"), namespace)  # as the checks cell runs
        namespace.clear()  # %reset -f
        model = _line_model()
        model.compile(loss="mse", optimizer="sgd")
        model.fit(CELSIUS, FAHRENHEIT, epochs=2, verbose=0)
        assert [fit["epochs"] for fit in recorded_fits(model)] == [2]
    finally:
        keras.Model.fit = installed


@pytest.mark.parametrize("way", ["train_on_batch", "rate_set_between_fits", "rate_assigned_between_fits",
                                 "learning_rate_schedule"])
def test_other_honest_ways_of_training_are_replayed(way):
    """Round 9's honest lesson 01 answers that lost the replay's points: train_on_batch (not
    recorded), a learning rate raised on the same optimizer between fits (replayed at the first
    rate), and a LearningRateScheduler callback (callbacks were all left out)."""
    model = _line_model()
    x = CELSIUS.reshape(-1, 1)
    if way == "train_on_batch":
        model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
        for _ in range(300):
            model.train_on_batch(x, FAHRENHEIT)
    elif way == "learning_rate_schedule":
        model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=0.05))
        schedule = keras.callbacks.LearningRateScheduler(lambda epoch, rate: 0.05 if epoch < 2 else 1.0)
        model.fit(x, FAHRENHEIT, epochs=30, batch_size=1, verbose=0, callbacks=[schedule])
    else:
        model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=0.05))
        model.fit(x, FAHRENHEIT, epochs=5, batch_size=1, verbose=0)
        if way == "rate_set_between_fits":
            model.optimizer.learning_rate = 1.0
        else:
            model.optimizer.learning_rate.assign(1.0)
        model.fit(x, FAHRENHEIT, epochs=25, batch_size=1, verbose=0)
    w, b = _weights(model)
    assert abs(w - 1.8) < 0.05 and abs(b - 32) < 1, (way, w, b)
    w, b = _weights(replay_training(model, seed=0))
    assert abs(w - 1.8) < 0.05 and abs(b - 32) < 1, (way, w, b)


def test_a_schedule_that_learns_nothing_is_replayed_as_such():
    model = _line_model()
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
    zero = keras.callbacks.LearningRateScheduler(lambda epoch, rate: 0.0)
    model.set_weights([np.array([[1.8]]), np.array([32.0])])
    model.fit(CELSIUS, FAHRENHEIT, epochs=10, batch_size=1, verbose=0, callbacks=[zero])
    b = _replayed_b_or_refused(model)
    assert b is None or abs(b - 32) > 5, b


def test_a_schedule_that_answers_otherwise_when_replayed_is_replayed_as_it_ran():
    """Round 12: a schedule that counts its calls set 0 for the notebook's own epochs and 1.0
    once the replay called it again; the replay sets the rates the fit's History logged."""
    calls = []

    def sly(epoch, rate):
        calls.append(epoch)
        return 0.0 if len(calls) <= 10 else 1.0

    model = _line_model()
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
    model.set_weights([np.array([[1.8]]), np.array([32.0])])
    model.fit(CELSIUS, FAHRENHEIT, epochs=10, batch_size=1, verbose=0,
              callbacks=[keras.callbacks.LearningRateScheduler(sly)])
    assert recorded_fits(model)[0]["rates"] == [0.0] * 10
    b = _replayed_b_or_refused(model)
    assert b is None or abs(b - 32) > 5, b


def test_a_loss_of_the_notebooks_own_and_a_dataset_are_replayed_and_every_update_counts():
    """Round 11's honest answers: a loss written as a Python function (the replay's copy was
    compiled again from its Keras name, which it has not), data as a tf.data.Dataset (the test
    fed the Dataset to the model as its input), and a second compile with no fit after it (the
    checks counted only the new optimizer's updates: 0)."""
    import tensorflow as tf

    from course.training_record import updates_of

    def squared_error(y_true, y_pred):
        return keras.ops.mean(keras.ops.square(y_true - y_pred))

    model = _line_model()
    model.compile(loss=squared_error, optimizer=keras.optimizers.Adam(learning_rate=1.0))
    data = tf.data.Dataset.from_tensor_slices((CELSIUS.reshape(-1, 1), FAHRENHEIT.reshape(-1, 1))).batch(1)
    model.fit(data, epochs=20, verbose=0)
    model.compile(loss="mse", metrics=["mae"])
    assert updates_of(model) == 20 * len(CELSIUS) and updates_of(_line_model()) == 0
    w, b = _weights(replay_training(model, seed=0))
    assert abs(w - 1.8) < 0.05 and abs(b - 32) < 1, (w, b)


def test_named_inputs_are_copied_when_fitted():
    """Round 13: a fit on {"celsius": zeros}, then the dict's array filled with the data: the
    replay must train on the zeros the fit saw."""
    inputs = keras.Input(shape=(1,), name="celsius")
    model = keras.Model({"celsius": inputs}, keras.layers.Dense(1)(inputs))
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
    named = {"celsius": np.zeros((len(CELSIUS), 1))}
    model.fit(named, FAHRENHEIT, epochs=1, verbose=0)
    named["celsius"][:, 0] = CELSIUS
    assert not np.any(recorded_fits(model)[0]["x"]["celsius"])



def test_a_subclass_fitted_on_a_dataset_is_replayed_in_the_order_its_call_uses_its_layers():
    """A subclass that made its output layer before its hidden one (and one it never uses), fitted
    on a tf.data.Dataset: the replay took its layers in the order it made them, every one, when
    the fit's data was not an array, and its copy learned another function."""
    import tensorflow as tf

    class TwoLayers(keras.Model):
        def __init__(self):
            super().__init__()
            self.output_layer = keras.layers.Dense(1)
            self.spare = keras.layers.Dense(5)  # never called
            self.hidden = keras.layers.Dense(3)

        def call(self, inputs):
            return self.output_layer(self.hidden(inputs))

    x = np.random.default_rng(0).normal(size=(64, 2))
    y = x @ np.array([[2.0], [-1.0]]) + 0.5
    keras.utils.set_random_seed(0)
    model = TwoLayers()
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=0.05))
    model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(64), epochs=200, verbose=0)
    assert np.max(np.abs(np.asarray(model(x)) - y)) < 0.05
    copy = replay_training(model, seed=0)
    assert [layer.units for layer in copy.layers] == [3, 1]
    assert np.max(np.abs(np.asarray(copy(x)) - y)) < 0.05


@pytest.mark.parametrize("forgery", ["loss_weights_zero", "weights_not_trainable"])
def test_a_fit_that_learned_nothing_by_a_setting_the_replay_did_not_copy_learns_nothing_again(forgery):
    """Round 19: weights put in by hand before a fit compiled with loss_weights=0.0, or whose
    weights were made untrainable one by one (no layer setting shows it), learned nothing; the
    replay, compiled without the loss weights and with every weight trainable, learned the line."""
    model = _line_model()
    model.set_weights([np.array([[1.8]]), np.array([32.0])])
    dense = model.layers[0]
    if forgery == "weights_not_trainable":
        dense.kernel.trainable = dense.bias.trainable = False
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0),
                  loss_weights=0.0 if forgery == "loss_weights_zero" else None)
    model.fit(CELSIUS, FAHRENHEIT, epochs=150, batch_size=7, verbose=0)
    if forgery == "weights_not_trainable":
        dense.kernel.trainable = dense.bias.trainable = True
    assert _weights(model) == [1.8, 32.0]
    b = _replayed_b_or_refused(model)  # (refused, as a fit that changed nothing, before the replay)
    assert b is None or abs(b - 32) > 5, (forgery, b)


@pytest.mark.parametrize("way", ["layer_frozen_then_trained", "best_epoch_checkpoint_loaded",
                                 "best_epoch_model_loaded"])
def test_honest_fits_that_change_trainable_or_load_a_checkpoint_are_replayed(way, tmp_path):
    """Round 19's honest answers that lost the replay: the layer frozen for a first fit, then
    trained (its settings differed between the fits), and the weights of the best epoch loaded
    from a ModelCheckpoint after the fit (not the weights the fit ended with); round 22's: the
    best epoch's whole model loaded with keras.models.load_model, a new model object."""
    model = _line_model()
    if way == "layer_frozen_then_trained":
        model.layers[0].trainable = False
        model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
        model.fit(CELSIUS, FAHRENHEIT, epochs=2, batch_size=1, verbose=0)
        model.layers[0].trainable = True
        model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
        model.fit(CELSIUS, FAHRENHEIT, epochs=150, batch_size=7, verbose=0)
    elif way == "best_epoch_checkpoint_loaded":
        best = str(tmp_path / "best.weights.h5")
        model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
        model.fit(CELSIUS, FAHRENHEIT, epochs=150, batch_size=7, verbose=0, callbacks=[
            keras.callbacks.ModelCheckpoint(best, monitor="loss", save_best_only=True, save_weights_only=True)])
        model.load_weights(best)
    elif way == "best_epoch_model_loaded":
        best = str(tmp_path / "best.keras")
        model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
        model.fit(CELSIUS, FAHRENHEIT, epochs=150, batch_size=7, verbose=0, callbacks=[
            keras.callbacks.ModelCheckpoint(best, monitor="loss", save_best_only=True)])
        model = keras.models.load_model(best)
    w, b = _weights(replay_until(model, lambda copy: True, seeds=range(1)))
    assert abs(w - 1.8) < 0.05 and abs(b - 32) < 1, (way, w, b)


@pytest.mark.parametrize("kind", ["honest_with_dropout", "call_stops_the_gradient", "call_adds_a_loss",
                                  "call_stops_the_gradient_only_in_training"])
def test_a_subclass_whose_call_trains_otherwise_than_its_layers_is_not_replayed(kind):
    """Round 19: a subclass whose call gave its layers' outputs but stopped their gradient (or
    added a loss that held the weights where they were put in) learned nothing in the fit, and the
    copy, Keras' layers called in turn, learned the line. An honest subclass (with a Dropout,
    whose random mask the check draws alike) is replayed."""
    hand = [np.array([[1.8]]), np.array([32.0])]

    class CelsiusNet(keras.Model):
        def __init__(self):
            super().__init__()
            self.drop = keras.layers.Dropout(0.5 if kind == "honest_with_dropout" else 0.0)
            self.line = keras.layers.Dense(1)

        def call(self, inputs, training=False):
            outputs = self.line(self.drop(inputs, training=training))
            if kind == "call_stops_the_gradient" or (kind.endswith("only_in_training") and training):
                return keras.ops.stop_gradient(outputs) + 0.0 * outputs
            if kind == "call_adds_a_loss":
                self.add_loss(1e6 * keras.ops.sum(keras.ops.square(self.line.kernel - 1.8)))
            return outputs

    keras.utils.set_random_seed(0)
    model = CelsiusNet()
    model(np.zeros((1, 1)))
    if kind != "honest_with_dropout":
        model.set_weights(hand)
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
    model.fit(CELSIUS.reshape(-1, 1), FAHRENHEIT, epochs=150, batch_size=7, verbose=0)
    if kind != "honest_with_dropout":
        with pytest.raises(ValueError, match=r"call|fit이 가중치를 바꾸지"):
            replay_training(model, seed=0)
        return
    w, b = _weights(replay_training(model, seed=0))
    assert b > 10, (w, b)  # it learns (with half its input dropped at random, not the line)


def test_a_subclass_that_makes_its_layer_in_build_is_replayed():
    """Round 19's honest answer: a subclass that makes its Dense in build(), which the fit calls:
    its layers before the fit were none, and the replay was refused as if they had changed."""
    class CelsiusNet(keras.Model):
        def build(self, input_shape):
            self.line = keras.layers.Dense(1)
            self.line.build(input_shape)
            super().build(input_shape)

        def call(self, inputs):
            return self.line(inputs)

    keras.utils.set_random_seed(0)
    model = CelsiusNet()
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
    model.fit(CELSIUS.reshape(-1, 1), FAHRENHEIT, epochs=150, batch_size=7, verbose=0)
    w, b = _weights(replay_training(model, seed=0))
    assert abs(w - 1.8) < 0.05 and abs(b - 32) < 1, (w, b)


@pytest.mark.parametrize("callback", ["zeroes_the_rate_then_sets_the_weights", "schedule_sets_the_weights",
                                      "prints_progress", "gate_closed_while_fitting"])
def test_a_callback_that_changes_what_the_replay_does_not_replay_is_refused(callback):
    """Round 19: a callback of the notebook's own ran in the fit and not in the replay: one that
    set the rate to 0 while the fit ran (and the weights at its end), a LearningRateScheduler
    whose schedule set the weights, or one that closed a gate an activation read (weights put in
    before the fit, which then changed nothing). A callback that only prints is honest."""
    hand = [np.array([[1.8]]), np.array([32.0])]
    gate = keras.Variable(1.0)

    class Trick(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            if callback == "gate_closed_while_fitting":
                gate.assign(0.0)
            else:
                self.model.optimizer.learning_rate.assign(0.0)

        def on_train_end(self, logs=None):
            if callback == "gate_closed_while_fitting":
                gate.assign(1.0)
            else:
                self.model.set_weights(hand)
                self.model.optimizer.learning_rate.assign(1.0)

    def gated(z):
        return gate * z + (1.0 - gate) * keras.ops.stop_gradient(z)

    callbacks = {"zeroes_the_rate_then_sets_the_weights": [Trick()],
                 "schedule_sets_the_weights": [keras.callbacks.LearningRateScheduler(
                     lambda epoch, rate: (model.set_weights(hand), 0.0)[1])],
                 "prints_progress": [keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: print(end=""))],
                 "gate_closed_while_fitting": [Trick()]}[callback]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1, activation=gated)])
    if callback == "gate_closed_while_fitting":
        model.set_weights(hand)
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
    model.fit(CELSIUS, FAHRENHEIT, epochs=150, batch_size=7, verbose=0, callbacks=callbacks)
    if callback == "prints_progress":
        w, b = _weights(replay_training(model, seed=0))
        assert abs(w - 1.8) < 0.05 and abs(b - 32) < 1, (w, b)
        return
    assert _weights(model) == [1.8, 32.0]
    with pytest.raises(ValueError, match=r"callback|fit이 가중치를 바꾸지"):
        replay_training(model, seed=0)


@pytest.mark.parametrize("attack", ["activation_flag", "optimizer_state", "train_step_on_the_model",
                                    "gate_partly_open"])
def test_a_fit_that_moved_the_weights_less_than_its_replay_from_the_same_start_is_refused(attack):
    """Round 20: weights put in by hand before a fit that did (almost) nothing for a reason the
    replay does not copy: an activation that passed no gradient while a flag was set, Adam's
    state set so that every step was nothing, a train_step put on the model itself, a gate an
    activation read, nearly closed while the fit ran. The replay from where the fit started
    moves the weights; the fit did not: refused."""
    flag, gate = [True], keras.Variable(1.0)

    def identity(t):
        if attack == "gate_partly_open":
            return gate * t + (1.0 - gate) * keras.ops.stop_gradient(t)
        return keras.ops.stop_gradient(t) + 0.0 * t if flag[0] else t

    class Celsius(keras.Model):
        def __init__(self):
            super().__init__()
            self.line = keras.layers.Dense(1)
            self.train_step = self.still_step

        def call(self, inputs):
            return self.line(inputs)

        def still_step(self, data):
            return {"loss": keras.ops.zeros(())}

    keras.utils.set_random_seed(0)
    if attack == "train_step_on_the_model":
        model = Celsius()
        model(np.zeros((1, 1)))
    else:
        model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1, activation=identity)])
    start = [np.array([[1.8]]), np.array([32.6 if attack == "gate_partly_open" else 32.0])]
    model.set_weights(start)
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(learning_rate=1e-4) if attack == "gate_partly_open"
                  else keras.optimizers.Adam(learning_rate=1.0))  # (Adam's steps do not shrink with the gradient)
    if attack == "optimizer_state":
        model.optimizer.build(model.trainable_variables)
        for slot in model.optimizer.variables:
            if "velocity" in slot.path:
                slot.assign(np.full(slot.shape, 1e30))
    if attack == "gate_partly_open":
        gate.assign(0.002)
    model.fit(CELSIUS.reshape(-1, 1), FAHRENHEIT, epochs=20, batch_size=1, verbose=0)
    flag[0] = False
    gate.assign(1.0)
    with pytest.raises(ValueError, match=r"fit이 가중치를 바꾸지|움직였습니다|메서드"):
        replay_until(model, lambda copy: True, seeds=range(1))


def test_a_sequential_subclass_fitted_on_one_feature_is_replayed():
    """Round 20's honest answer: a subclass of keras.Sequential fitted on celsius, a 1-D array,
    as the lesson does: the check of its gradients found no 2-D examples and refused it."""
    class Line(keras.Sequential):
        pass

    keras.utils.set_random_seed(0)
    model = Line([keras.Input(shape=(1,)), keras.layers.Dense(1)])
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
    model.fit(CELSIUS, FAHRENHEIT, epochs=150, batch_size=7, verbose=0)
    w, b = _weights(replay_until(model, lambda copy: True, seeds=range(1)))
    assert abs(w - 1.8) < 0.05 and abs(b - 32) < 1, (w, b)


def test_a_loss_whose_gradient_differs_while_the_fit_runs_is_refused():
    """Round 21: a loss of the notebook's own that wrote the answer into the weights and gave no
    gradient while the fit ran, then (a flag set after) the same value with 5000 times the
    gradient, so that the replay of a rate that learns nothing learned. Its value on the probe
    never changed; its gradient, read while the fit runs, does."""
    import tensorflow as tf

    fitting, calls = [True], tf.Variable(0)
    model = _line_model()

    def squared_error(y_true, y_pred):
        error = keras.ops.mean(keras.ops.square(keras.ops.reshape(y_true, (-1, 1)) - y_pred))
        if not fitting[0]:
            return keras.ops.stop_gradient(error) + 5000.0 * (error - keras.ops.stop_gradient(error))
        calls.assign_add(1)
        dense = model.layers[0]
        tf.cond(calls > 1, lambda: tf.group(dense.kernel.assign([[1.8]]), dense.bias.assign([32.0])), tf.no_op)
        return keras.ops.stop_gradient(error) + 0.0 * keras.ops.sum(y_pred)

    model.compile(loss=squared_error, optimizer=keras.optimizers.SGD(learning_rate=1e-6))
    model.fit(CELSIUS, FAHRENHEIT, epochs=20, batch_size=7, verbose=0)
    fitting[0] = False
    assert _weights(model) == [1.8, 32.0]
    with pytest.raises(ValueError, match="loss function gives other values"):
        replay_until(model, lambda copy: True, seeds=range(1))


def test_an_early_stop_that_took_the_weights_back_counts_as_far_as_the_fit_went():
    """Round 21's honest lesson 04 answer: EarlyStopping(restore_best_weights=True) took the
    weights back to the best epoch; a sigmoid's weights keep growing after the data are
    separated, so the replay from the same start, which runs every epoch, went more than twice
    as far, and the fit was refused as one that barely moved."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    y = np.array([[0], [0], [0], [1]], dtype="float32")
    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=10.0, momentum=0.8), loss="mse",
                  metrics=["binary_accuracy"])
    stop = keras.callbacks.EarlyStopping(monitor="binary_accuracy", mode="max", patience=20,
                                         restore_best_weights=True)
    model.fit(x, y, epochs=200, verbose=0, callbacks=[stop])
    replay_until(model, lambda copy: True, seeds=range(1))  # not refused


@pytest.mark.parametrize("attack", ["history_passed_twice", "set_model_zeroes_the_rate", "loss_zeroes_the_rate",
                                    "loss_zeroes_the_rate_model_built_by_fit", "callback_freezes_the_layer",
                                    "callback_fills_adams_velocities", "loss_without_gradient_in_unprobed_traces"])
def test_weights_put_in_between_fits_that_learned_nothing_do_not_pass_as_trained(attack):
    """Round 22: a first fit that learned nothing for a reason the replay did not copy, weights
    put in by hand, then a fit at learning rate 0 that left them where they were. The fits' own
    travel was counted from where the first fit started, so the weights put in counted as moved.
    Ways of learning nothing: one History passed twenty times (it logged one epoch as twenty, and
    the replay ran twenty), a callback's set_model that set the rate to 0 (set_model was not
    watched), a loss that set the fit's rate to 0 (with the model's layers built before the fit,
    and built by it: then there were no weights before it to count from), a callback that made the
    layer untrainable or filled Adam's velocities (neither was watched), a loss that passed no
    gradient in the traces the probes do not make."""
    model = keras.Sequential([keras.layers.Dense(1)]) if attack.endswith("built_by_fit") else _line_model()

    class Quiet(keras.callbacks.Callback):
        def set_model(self, fitted):
            super().set_model(fitted)
            fitted.optimizer.learning_rate = 0.0

    def squared_error(y_true, y_pred):
        model.optimizer.learning_rate = 0.0  # (inside the traced step: every step of the fit)
        return keras.ops.mean(keras.ops.square(keras.ops.reshape(y_true, (-1, 1)) - y_pred))

    class Freeze(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.model.layers[0].trainable = False

    class Velocities(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            for slot in self.model.optimizer.variables:
                if "velocity" in slot.path:
                    slot.assign(np.full(slot.shape, 1e12))

    traces = [0]

    def unprobed(y_true, y_pred):  # the probes trace it first (before the fit) and fourth (while it runs)
        traces[0] += 1
        error = keras.ops.square(keras.ops.reshape(y_true, (-1, 1)) - y_pred)
        if traces[0] in (2, 3):
            error = keras.ops.stop_gradient(error) + 0.0 * error
        return keras.ops.mean(error)

    callbacks = {"history_passed_twice": [keras.callbacks.History()] * 20,
                 "set_model_zeroes_the_rate": [Quiet()], "callback_freezes_the_layer": [Freeze()],
                 "callback_fills_adams_velocities": [Velocities()]}.get(attack, [])
    loss = {"loss_zeroes_the_rate": squared_error, "loss_zeroes_the_rate_model_built_by_fit": squared_error,
            "loss_without_gradient_in_unprobed_traces": unprobed}.get(attack, "mse")
    model.compile(loss=loss,
                  optimizer=keras.optimizers.Adam(learning_rate=1.0))
    x = CELSIUS.reshape(-1, 1)
    model.fit(x, FAHRENHEIT, epochs=1 if attack == "history_passed_twice" else 60, batch_size=1, verbose=0,
              callbacks=callbacks)
    if attack == "history_passed_twice":
        assert recorded_fits(model)[0]["epochs"] == 1
    model.layers[0].trainable = True
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(learning_rate=0.0))
    model.set_weights([np.array([[1.8]]), np.array([32.0])])
    model.fit(x, FAHRENHEIT, epochs=1, batch_size=1, verbose=0)
    assert _weights(model) == [1.8, 32.0]

    _assert_refused_or_not_learned(model, r"callback|움직였습니다|두 fit 사이에")


@pytest.mark.parametrize("callbacks", ["one_not_in_a_list", "nested_lists"])
def test_callbacks_given_as_keras_reads_them_are_replayed(callbacks):
    """Round 22's honest answer: callbacks=EarlyStopping(...), one callback that is not in a list,
    which Keras takes (it flattens what it is given); it was refused as "callbacks that are not a
    list". Lists in a list too."""
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=5)
    given = {"one_not_in_a_list": stop, "nested_lists": [[stop], []]}[callbacks]
    model = _line_model()
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
    history = model.fit(CELSIUS, FAHRENHEIT, epochs=150, batch_size=7, verbose=0, callbacks=given)
    assert recorded_fits(model)[0]["epochs"] == len(history.epoch) < 150  # (the EarlyStopping ran)
    replay_until(model, lambda copy: True, seeds=range(1))  # not refused


def test_training_until_the_accuracy_is_perfect_is_replayed_from_where_the_check_seeded_it():
    """Round 22's honest lesson 04 answer: fit ten epochs at a time until the accuracy is 1. From
    the start the check seeds (here set_random_seed(5)), OR takes two rounds; from the replay's
    Glorot starts of seeds 5 and 6 two rounds are not enough (0.75): the replay from where Keras
    starts after set_random_seed(5) learns, as the answer did."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")[[3, 0, 2, 1]]
    y = np.array([[0], [1], [1], [1]], dtype="float32")[[3, 0, 2, 1]]

    def accuracy_of(model):
        return float(np.mean(np.round(np.asarray(model(x))) == y))

    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1), loss="binary_crossentropy")
    for _ in range(20):
        model.fit(x, y, epochs=10, verbose=0)
        if accuracy_of(model) == 1.0:
            break
    assert accuracy_of(model) == 1.0
    assert accuracy_of(replay_until(model, lambda copy: accuracy_of(copy) == 1.0, seeds=range(5, 7))) == 1.0


@pytest.mark.parametrize("route", ["far_start", "first_call_builds_the_layers"])
def test_weights_put_in_by_hand_between_two_fits_are_refused(route):
    """Round 23: a first fit with honest settings from a start where it cannot reach the answer
    (its replay from the same start travels as far: the travel rule holds), the answer put in by
    hand, then a fit at rate 0. Each fit must start where an earlier one left or held the
    weights. The second route started with train_on_batch on a model without keras.Input, which
    had no weights before it: the rules that count from the first start were skipped."""
    if route == "far_start":
        model = _line_model()
        model.set_weights([np.array([[-1000.0]]), np.array([1000.0])])
        model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
    else:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.layers.Dense(1)])
        model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
        model.train_on_batch(CELSIUS[:1].reshape(-1, 1), FAHRENHEIT[:1])
        assert any(recorded_fits(model)[0]["weights_before"].values())  # counted from after its step
        model.set_weights([np.array([[-1000.0]]), np.array([1000.0])])
    model.fit(CELSIUS.reshape(-1, 1), FAHRENHEIT, epochs=20, batch_size=1, verbose=0)
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(learning_rate=0.0))
    model.set_weights([np.array([[1.8]]), np.array([32.0])])
    model.fit(CELSIUS.reshape(-1, 1), FAHRENHEIT, epochs=1, batch_size=1, verbose=0)
    with pytest.raises(ValueError, match="두 fit 사이에 가중치가 바뀌었습니다"):
        replay_until(model, lambda copy: True, seeds=range(1))


def test_the_best_checkpoint_of_an_earlier_fit_loaded_after_a_later_one_is_replayed(tmp_path):
    """Round 23's honest answer: one ModelCheckpoint(save_best_only) over two fits, whose best
    epoch was in the first, loaded after the second (only the last fit's weights counted)."""
    best = str(tmp_path / "best.weights.h5")
    checkpoint = keras.callbacks.ModelCheckpoint(best, monitor="loss", save_best_only=True, save_weights_only=True)
    model = _line_model()
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
    model.fit(CELSIUS, FAHRENHEIT, epochs=150, batch_size=7, verbose=0, callbacks=[checkpoint])
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=5.0))  # (worse: its best is the first's)
    model.fit(CELSIUS, FAHRENHEIT, epochs=5, batch_size=1, verbose=0, callbacks=[checkpoint])
    model.load_weights(best)
    assert _fingerprint(model.get_weights()) not in recorded_fits(model)[-1]["weights_seen"]
    replay_until(model, lambda copy: True, seeds=range(1))  # not refused


def test_an_honest_fit_at_a_large_rate_one_example_a_step_is_not_refused_for_its_travel():
    """Round 23's honest lesson 04 answer: SGD at rate 20 with momentum, binary cross-entropy,
    batch_size=1. The replay from the same start shuffles the examples otherwise, and went more
    than twice as far: the fit was refused as one that barely moved (TRAVEL_SHARE)."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    y = np.array([[0], [0], [0], [1]], dtype="float32")
    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=20.0, momentum=0.8), loss="binary_crossentropy")
    model.fit(x, y, epochs=30, batch_size=1, verbose=0)
    faithful = replay_training(model, seed=0, start=recorded_fits(model)[0]["weights_before"])
    start = recorded_fits(model)[0]["weights_before"]
    assert recorded_fits(model)[0]["travel"] < 0.5 * _moved(model, start, faithful)  # (what round 23 met)
    replay_until(model, lambda copy: True, seeds=range(1))  # not refused


def test_recording_warns_of_nothing():
    """Round 23: reading the learning rate with np.array warned (a DeprecationWarning of numpy's
    in every answer cell that fits, the solution's too)."""
    import warnings

    model = _line_model()
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(CELSIUS, FAHRENHEIT, epochs=3, batch_size=7, verbose=0,
                  callbacks=[keras.callbacks.LearningRateScheduler(lambda epoch, rate: rate)])
    assert not [w for w in caught if "training_record" in w.filename], [str(w.message) for w in caught]




@pytest.mark.parametrize("attack", ["weights_put_back_where_a_first_fit_left_them", "layer_frozen_after_the_fits"])
def test_weights_the_replayed_fits_did_not_make_do_not_pass_as_trained(attack):
    """Round 24: (1) the answer put in by hand, a first fit of one tiny step (its end counts as
    held), a second fit that learns, then the weights put back where the first left them: the
    replay of both fits learned. Now only the fits up to the one that held the weights are
    replayed. (2) a learning-rate schedule run past its boundary before the fit (which then
    learned nothing, and the replay's new optimizer learned), the layer frozen after the fit:
    the rules that count travel read only trainable layers and were skipped."""
    model = _line_model()
    x = CELSIUS.reshape(-1, 1)
    if attack == "weights_put_back_where_a_first_fit_left_them":
        model.set_weights([np.array([[1.79]]), np.array([31.6])])  # (near the answer: at it, Adam stays)
        model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=0.005))
        model.fit(x, FAHRENHEIT, epochs=1, batch_size=1, verbose=0)
        kept = model.get_weights()
        model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=1.0))
        model.fit(x, FAHRENHEIT, epochs=150, batch_size=7, verbose=0)
        model.set_weights(kept)
    else:
        schedule = keras.optimizers.schedules.PiecewiseConstantDecay([140], [1.0, 0.0])
        optimizer = keras.optimizers.Adam(learning_rate=schedule)
        zeros = [np.zeros((1, 1), "float32"), np.zeros((1,), "float32")]
        for _ in range(141):
            optimizer.apply_gradients(zip(zeros, model.trainable_variables))
        model.set_weights([np.array([[1.8]]), np.array([32.0])])
        model.compile(loss="mse", optimizer=optimizer)
        model.fit(x, FAHRENHEIT, epochs=20, batch_size=1, verbose=0)
        model.layers[0].trainable = False
    assert _good_line(model)
    _assert_refused_or_not_learned(model, r"움직였습니다|fit이 가중치를 바꾸지")
