# 학습 기록(training record): 이 노트북의 model.fit이 무엇으로 학습했는지 적어 두었다가, 채점 셀이 같은
# 학습을 Keras의 기본 초기값에서 다시 해 보게 합니다 (손으로 넣은 가중치가 아니라 학습한 것인지 보려고).
# 원본은 저장소의 course/training_record.py이며, Keras를 쓰는 강의에서 `course release`가 위 셀에 이어 넣습니다.
import inspect
import weakref
from functools import update_wrapper

import keras
import numpy as np

# The arguments of fit that decide what it learns (not validation_data, callbacks or verbose)
LEARNING_ARGUMENTS = ("x", "y", "batch_size", "shuffle", "class_weight", "sample_weight",
                      "validation_split", "steps_per_epoch")


def record_fits():
    """From now on, every keras.Model.fit in this Python process records, for replay_training(),
    what it trained with: its data (arrays, tensors, tables and lists copied into new arrays; a
    tf.data.Dataset as it is), batch size, shuffling, sample and class weights, validation_split,
    steps per epoch, the number of epochs it ran, the model's loss and its optimizer (the object,
    and its settings as keras.optimizers.serialize gives them before the fit, or None for an
    optimizer that is not Keras' own). fit itself behaves as before. The records are kept on the
    recording fit itself (`keras.Model.fit.fits`, {model: [record, ...]}), and it uses no name of
    the notebook's: it keeps working after `%reset`, and calling this again does nothing."""
    fit = keras.Model.fit
    if getattr(fit, "records_fits", False):
        return
    signature, serialize, keras_optimizer = (inspect.signature(fit), keras.optimizers.serialize,
                                             keras.optimizers.Optimizer)
    learning_arguments, array, fits = LEARNING_ARGUMENTS, np.array, weakref.WeakKeyDictionary()

    def kept(value):
        return array(value) if isinstance(value, (list, tuple)) or hasattr(value, "__array__") else value

    def fit_and_record(self, *args, **kwargs):
        try:
            arguments = signature.bind(self, *args, **kwargs).arguments
        except TypeError:
            return fit(self, *args, **kwargs)  # Keras' own error says what is wrong
        optimizer = getattr(self, "optimizer", None)
        settings = (serialize(optimizer) if isinstance(optimizer, keras_optimizer)
                    and type(optimizer).__module__.split(".")[0] == "keras" else None)
        learning = {name: kept(arguments[name]) for name in learning_arguments if name in arguments}
        loss = getattr(self, "loss", None)
        history = fit(self, *args, **kwargs)
        fits.setdefault(self, []).append({"optimizer": optimizer, "settings": settings, "loss": loss,
                                          "epochs": len(getattr(history, "epoch", [])), **learning})
        return history

    update_wrapper(fit_and_record, fit)  # Keras' name, help and signature
    fit_and_record.records_fits, fit_and_record.fits = True, fits
    keras.Model.fit = fit_and_record


def recorded_fits(model):
    """The records of every fit `model` ran since record_fits(), oldest first ([] if none)."""
    try:
        return list(getattr(keras.Model.fit, "fits", {}).get(model, []))
    except TypeError:  # not something a weak dictionary can hold: never fitted here
        return []


def replay_training(model, seed):
    """A copy of Keras `model` trained again as this notebook trained it, from Keras' default
    initial weights instead of its own: kernels (2 or more axes) Glorot-uniform from `seed`, every
    other weight zero, except a Normalization layer's, which keep what adapt() computed from the
    data. Then every fit the notebook ran on `model` (recorded_fits), in order, with the same data,
    batch size, shuffling, weights, validation_split and number of epochs, compiled with the same loss
    and optimizer settings (a new optimizer where the notebook compiled a new one); callbacks are
    left out, since they could set weights. So the copy learns what `model` learned only if the
    answer's own training does: weights put in by hand, then a fit that learns nothing (learning
    rate 0), give a copy that has not learned. A model never fitted comes back untrained.
    Raises ValueError for a fit whose optimizer is not Keras' own."""
    fits = recorded_fits(model)
    if any(fit["settings"] is None for fit in fits):
        raise ValueError("replay_training: the model was fitted with an optimizer that is not Keras' own")
    keras.utils.set_random_seed(seed)
    copy = keras.models.clone_model(model)
    for number, (layer, own) in enumerate(zip(copy.layers, model.layers)):
        if isinstance(layer, keras.layers.Normalization):
            layer.set_weights(own.get_weights())
            layer.finalize_state()  # as Keras does after loading them: the layer computes with these
        else:
            layer.set_weights([np.asarray(keras.initializers.GlorotUniform(seed=seed + number)(np.shape(w)))
                               if np.ndim(w) > 1 else np.zeros(np.shape(w)) for w in layer.get_weights()])
    optimizer = loss = None
    for fit in fits:
        if fit["optimizer"] is not optimizer or fit["loss"] is not loss:
            optimizer, loss = fit["optimizer"], fit["loss"]
            copy.compile(loss=loss, optimizer=keras.optimizers.deserialize(fit["settings"]))
        copy.fit(**{name: fit[name] for name in LEARNING_ARGUMENTS if name in fit}, epochs=fit["epochs"],
                 verbose=0)
    return copy


def replay_until(model, good, seeds):
    """replay_training(model, seed) for each of `seeds` in turn: the first copy for which
    good(copy) is true, else the last copy. Honest training can depend on where it starts (SGD at
    learning rate 10 with batch_size=1 learns AND from 8 of 12 of Keras' default starts), so it
    counts if it learns from one of them; weights put in by hand learn from none."""
    for seed in seeds:
        copy = replay_training(model, seed)
        if good(copy):
            break
    return copy


record_fits()
