"""Correct answers written the ways students write them (loops, np.where, float32, the
functional Keras API, Model subclasses, helper functions and classes, records and enums of their
own, settings held in names, pandas, prints, warnings, extra cells, magics): the integrity review
must flag none of them (tests/test_integrity.py; only read here, not run). {lesson: [(cell,
code)]}: "cell" is the answer cell the code replaces, "extra:<cell>" a cell of the student's own
added after that one. Written by a reviewer acting as many honest students: 41 of their 170 were
flagged before the review told a student's records, settings and enums from a fake model.
Left out, and still flagged: rebinding a name the locked cells define (W0, crime, sum),
getattr with a computed name, vars(), %load_ext, IPython.display.HTML."""

HONEST_ANSWERS = {'01_parameters': [('dense_params',
                    'def dense_params(inputs: int, units: int) -> int:\n'
                    '    """Dense 층의 파라미터 수: 가중치 inputs*units 개 + 편향 units 개."""\n'
                    '    assert inputs >= 0 and units >= 0, "음수는 안 됨"\n'
                    '    return inputs * units + units'),
                   ('dense_params',
                    'def dense_params(inputs, units):\n'
                    '    n = (inputs + 1) * units\n'
                    '    return n\n'
                    '\n'
                    '\n'
                    'print(f"{dense_params(1, 4)=}, {dense_params(4, 2)=}")'),
                   ('dense_params',
                    'import warnings\n'
                    '\n'
                    '\n'
                    'def dense_params(inputs, units):\n'
                    '    if units == 0:\n'
                    '        warnings.warn("units가 0이면 층이 없는 것과 같습니다", stacklevel=2)\n'
                    '    return (inputs + 1) * units'),
                   ('dense_params',
                    'class ParamCounter:\n'
                    '    @staticmethod\n'
                    '    def dense(inputs, units):\n'
                    '        return (inputs + 1) * units\n'
                    '\n'
                    '\n'
                    'def dense_params(inputs, units):\n'
                    '    return ParamCounter.dense(inputs, units)'),
                   ('dense_params',
                    'count = lambda n_in, n_out: n_in * n_out + n_out\n'
                    '\n'
                    '\n'
                    'def dense_params(inputs, units):\n'
                    '    return count(inputs, units)'),
                   ('stack_params',
                    'import functools\n'
                    '\n'
                    '\n'
                    'def stack_params(inputs, units_list):\n'
                    '    def step(acc, units):\n'
                    '        total, n_in = acc\n'
                    '        return total + dense_params(n_in, units), units\n'
                    '    return functools.reduce(step, units_list, (0, inputs))[0]'),
                   ('stack_params',
                    'from itertools import pairwise\n'
                    '\n'
                    '\n'
                    'def stack_params(inputs, units_list):\n'
                    '    sizes = [inputs, *units_list]\n'
                    '    return sum(dense_params(a, b) for a, b in pairwise(sizes))'),
                   ('stack_params',
                    'import operator\n'
                    'from functools import reduce\n'
                    '\n'
                    '\n'
                    'def stack_params(inputs, units_list):\n'
                    '    sizes = [inputs] + list(units_list)\n'
                    '    counts = [dense_params(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)]\n'
                    '    return reduce(operator.add, counts, 0)'),
                   ('stack_params',
                    'total = 0\n'
                    '\n'
                    '\n'
                    'def stack_params(inputs, units_list):\n'
                    '    global total\n'
                    '    total = 0\n'
                    '    for units in units_list:\n'
                    '        total += dense_params(inputs, units)\n'
                    '        inputs = units\n'
                    '    return total'),
                   ('stack_params',
                    'def stack_params(inputs, units_list):\n'
                    '    model = keras.Sequential([keras.Input(shape=(inputs,))] + [keras.layers.Dense(u) '
                    'for u in units_list])\n'
                    '    n = model.count_params()\n'
                    '    del model\n'
                    '    return int(n)'),
                   ('linear_predict',
                    'def linear_predict(X, w, b):\n'
                    '    X = np.asarray(X, dtype=float)\n'
                    '    predictions = []\n'
                    '    for row in X:\n'
                    '        predictions.append(sum(x_j * w_j for x_j, w_j in zip(row, w)) + b)\n'
                    '    return np.array(predictions)'),
                   ('linear_predict',
                    'import tensorflow as tf\n'
                    '\n'
                    '\n'
                    'def linear_predict(X, w, b):\n'
                    '    X = tf.constant(np.asarray(X, dtype=float))\n'
                    '    w = tf.reshape(tf.constant(np.asarray(w, dtype=float)), (-1, 1))\n'
                    '    return (tf.matmul(X, w)[:, 0] + b).numpy()'),
                   ('linear_predict',
                    'def linear_predict(X, w, b):\n'
                    '    df = pd.DataFrame(np.asarray(X, dtype=float))\n'
                    '    return df.apply(lambda row: float(np.dot(row, w)) + b, axis=1).to_numpy()'),
                   ('linear_predict',
                    'from __future__ import annotations\n'
                    '\n'
                    '\n'
                    'def linear_predict(X: np.ndarray | list, w: np.ndarray | list, b: float) -> '
                    'np.ndarray:\n'
                    '    return np.asarray(X, dtype=float) @ np.asarray(w, dtype=float) + b'),
                   ('linear_predict',
                    'def linear_predict(X, w, b):\n'
                    '    try:\n'
                    '        X = np.asarray(X, dtype=float)\n'
                    '    except ValueError:\n'
                    '        print("X를 숫자 배열로 바꿀 수 없습니다")\n'
                    '        raise\n'
                    '    return np.dot(X, np.asarray(w, dtype=float)) + b'),
                   ('build_model',
                    'import tensorflow as tf\n'
                    '\n'
                    '\n'
                    'def build_model(n_features):\n'
                    '    model = tf.keras.Sequential()\n'
                    '    model.add(tf.keras.Input(shape=(n_features,)))\n'
                    '    model.add(tf.keras.layers.Dense(4, activation="relu"))\n'
                    '    model.add(tf.keras.layers.Dense(2, activation="relu"))\n'
                    '    model.add(tf.keras.layers.Dense(1))\n'
                    '    return model'),
                   ('build_model',
                    'from tensorflow import keras\n'
                    'from keras.layers import Dense, Input\n'
                    '\n'
                    '\n'
                    'def build_model(n_features):\n'
                    '    return keras.Sequential([Input(shape=(n_features,)), Dense(4, activation="relu"),\n'
                    '                             Dense(2, activation="relu"), Dense(1)])'),
                   ('build_model',
                    'class SmallNet(keras.Model):\n'
                    '    def __init__(self):\n'
                    '        super().__init__()\n'
                    '        self.hidden1 = keras.layers.Dense(4, activation="relu")\n'
                    '        self.hidden2 = keras.layers.Dense(2, activation="relu")\n'
                    '        self.out = keras.layers.Dense(1)\n'
                    '\n'
                    '    def call(self, inputs):\n'
                    '        return self.out(self.hidden2(self.hidden1(inputs)))\n'
                    '\n'
                    '\n'
                    'def build_model(n_features):\n'
                    '    model = SmallNet()\n'
                    '    model.build((None, n_features))\n'
                    '    return model'),
                   ('build_model',
                    'from collections import namedtuple\n'
                    '\n'
                    'LayerSpec = namedtuple("LayerSpec", ["units", "activation"])\n'
                    'SPECS = [LayerSpec(4, "relu"), LayerSpec(2, "relu"), LayerSpec(1, None)]\n'
                    '\n'
                    '\n'
                    'def build_model(n_features):\n'
                    '    return keras.Sequential([keras.Input(shape=(n_features,))]\n'
                    '                            + [keras.layers.Dense(s.units, activation=s.activation) for '
                    's in SPECS])'),
                   ('build_model',
                    'from dataclasses import dataclass\n'
                    '\n'
                    '\n'
                    '@dataclass\n'
                    'class Architecture:\n'
                    '    hidden: tuple = (4, 2)\n'
                    '    activation: str = "relu"\n'
                    '\n'
                    '\n'
                    'def build_model(n_features):\n'
                    '    arch = Architecture()\n'
                    '    model = keras.Sequential([keras.Input(shape=(n_features,))])\n'
                    '    for units in arch.hidden:\n'
                    '        model.add(keras.layers.Dense(units, activation=arch.activation))\n'
                    '    model.add(keras.layers.Dense(1))\n'
                    '    return model'),
                   ('forward_pass',
                    'class Layer:\n'
                    '    def __init__(self, weights, bias, relu):\n'
                    '        self.weights = np.asarray(weights, dtype=float)\n'
                    '        self.bias = np.asarray(bias, dtype=float)\n'
                    '        self.relu = relu\n'
                    '\n'
                    '    def __call__(self, a):\n'
                    '        z = a @ self.weights + self.bias\n'
                    '        return np.maximum(0, z) if self.relu else z\n'
                    '\n'
                    '\n'
                    'def forward_pass(x, weights):\n'
                    '    n = len(weights) // 2\n'
                    '    layers = [Layer(weights[2 * i], weights[2 * i + 1], i < n - 1) for i in range(n)]\n'
                    '    outputs, a = [], np.asarray(x, dtype=float)\n'
                    '    for layer in layers:\n'
                    '        a = layer(a)\n'
                    '        outputs.append(a)\n'
                    '    return outputs'),
                   ('forward_pass',
                    'from dataclasses import dataclass\n'
                    '\n'
                    '\n'
                    '@dataclass\n'
                    'class DenseLayer:\n'
                    '    weights: np.ndarray\n'
                    '    bias: np.ndarray\n'
                    '    relu: bool = True\n'
                    '\n'
                    '    def forward(self, a):\n'
                    '        z = a @ self.weights + self.bias\n'
                    '        return np.maximum(0, z) if self.relu else z\n'
                    '\n'
                    '\n'
                    'def forward_pass(x, weights):\n'
                    '    n = len(weights) // 2\n'
                    '    a, outputs = np.asarray(x, dtype=float), []\n'
                    '    for i in range(n):\n'
                    '        a = DenseLayer(weights[2 * i], weights[2 * i + 1], relu=i < n - 1).forward(a)\n'
                    '        outputs.append(a)\n'
                    '    return outputs'),
                   ('forward_pass',
                    'from collections import namedtuple\n'
                    '\n'
                    'Layer = namedtuple("Layer", "weights bias")\n'
                    '\n'
                    '\n'
                    'def forward_pass(x, weights):\n'
                    '    layers = [Layer(weights[i], weights[i + 1]) for i in range(0, len(weights), 2)]\n'
                    '    a, outputs = np.asarray(x, dtype=float), []\n'
                    '    for i, layer in enumerate(layers):\n'
                    '        z = a @ layer.weights + layer.bias\n'
                    '        a = z if i == len(layers) - 1 else np.maximum(0, z)\n'
                    '        outputs.append(a)\n'
                    '    return outputs'),
                   ('forward_pass',
                    'def forward_pass(x, weights):\n'
                    '    a = np.asarray(x, dtype=float)\n'
                    '    outputs = []\n'
                    '    kernels, biases = weights[0::2], weights[1::2]\n'
                    '    for i, (W, b) in enumerate(zip(kernels, biases)):\n'
                    '        z = a @ W + b\n'
                    '        a = np.where(z > 0, z, 0.0) if i < len(kernels) - 1 else z\n'
                    '        outputs.append(a)\n'
                    '    return outputs'),
                   ('forward_pass',
                    'import tensorflow as tf\n'
                    '\n'
                    '\n'
                    'def forward_pass(x, weights):\n'
                    '    a = tf.constant(np.asarray(x, dtype=float))\n'
                    '    outs = []\n'
                    '    for i in range(0, len(weights), 2):\n'
                    '        z = tf.matmul(a, tf.constant(np.asarray(weights[i], dtype=float))) + weights[i '
                    '+ 1]\n'
                    '        a = z if i == len(weights) - 2 else tf.nn.relu(z)\n'
                    '        outs.append(a.numpy())\n'
                    '    return outs'),
                   ('extra:forward_pass',
                    'keras_model = build_model(4)\n'
                    'keras_model.summary()\n'
                    'print(forward_pass(np.ones((1, 4)), keras_model.get_weights())[-1])'),
                   ('celsius_model',
                    'keras.utils.set_random_seed(0)\n'
                    'celsius_model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])\n'
                    'opt = keras.optimizers.Adam()\n'
                    'opt.learning_rate = 1.0\n'
                    'celsius_model.compile(loss="mse", optimizer=opt)\n'
                    'history = keras.callbacks.History()\n'
                    'stop = keras.callbacks.EarlyStopping(monitor="loss", patience=20)\n'
                    'celsius_model.fit(celsius, fahrenheit, epochs=20, batch_size=1, verbose=0, '
                    'callbacks=[history, stop])\n'
                    'print("w, b =", [v.ravel() for v in celsius_model.get_weights()])'),
                   ('celsius_model',
                    'keras.utils.set_random_seed(0)\n'
                    'celsius_model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])\n'
                    'LEARNING_RATE = 1.0\n'
                    'opt = keras.optimizers.Adam()\n'
                    'opt.learning_rate = LEARNING_RATE\n'
                    'celsius_model.compile(loss="mean_squared_error", optimizer=opt)\n'
                    'celsius_model.fit(celsius, fahrenheit, epochs=20, batch_size=1, verbose=0)\n'
                    'print("w, b =", [v.ravel() for v in celsius_model.get_weights()])'),
                   ('celsius_model',
                    'keras.utils.set_random_seed(0)\n'
                    'celsius_model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])\n'
                    'learning_rate = 1.0\n'
                    'celsius_model.compile(loss="mean_squared_error", '
                    'optimizer=tf.keras.optimizers.Adam(learning_rate))\n'
                    'hist = celsius_model.fit(celsius, fahrenheit, epochs=20, batch_size=1, verbose=0)\n'
                    'print(f"마지막 손실: {hist.history[\'loss\'][-1]:.4f}")\n'
                    'celsius_model.save("celsius.keras")\n'
                    'reloaded = keras.models.load_model("celsius.keras")\n'
                    'print(reloaded.predict(np.array([[100.0]]), verbose=0))\n'
                    'print("w, b =", [v.ravel() for v in celsius_model.get_weights()])'),
                   ('celsius_model',
                    'keras.utils.set_random_seed(0)\n'
                    'celsius_model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])\n'
                    'np.random.seed(0)\n'
                    'tf.random.set_seed(0)\n'
                    'celsius_model.compile(loss=keras.losses.MeanSquaredError(), '
                    'optimizer=keras.optimizers.Adam(learning_rate=1.0))\n'
                    'log_loss = keras.callbacks.LambdaCallback(\n'
                    '    on_epoch_end=lambda epoch, logs: print(epoch, round(logs["loss"], 2)) if epoch % 5 '
                    '== 0 else None)\n'
                    'celsius_model.fit(celsius, fahrenheit, epochs=20, batch_size=1, verbose=0, '
                    'callbacks=[log_loss])\n'
                    'print("w, b =", [v.ravel() for v in celsius_model.get_weights()])'),
                   ('extra:celsius_model',
                    '%matplotlib inline\n'
                    'import matplotlib.pyplot as plt\n'
                    '\n'
                    'xs = np.linspace(-50, 50, 11)\n'
                    'plt.plot(xs, celsius_model.predict(xs.reshape(-1, 1), verbose=0), label="model")\n'
                    'plt.plot(xs, 1.8 * xs + 32, "--", label="1.8c + 32")\n'
                    'plt.legend()\n'
                    'plt.show()'),
                   ('extra:celsius_model',
                    '!pip list | grep -i keras\n'
                    'import sys\n'
                    'print(sys.version)\n'
                    'print(keras.__version__, tf.__version__)'),
                   ('extra:celsius_model',
                    'from IPython import display\ndisplay.clear_output(wait=True)\nprint("다시 그림")'),
                   ('extra:celsius_model',
                    'print("모델 종류:", celsius_model.__class__.__name__)\nprint(type(celsius_model).__name__)'),
                   ('extra:celsius_model',
                    'clone = keras.models.clone_model(celsius_model)\n'
                    'clone.set_weights(celsius_model.get_weights())\n'
                    'print(np.allclose(clone.predict(celsius, verbose=0), celsius_model.predict(celsius, '
                    'verbose=0)))'),
                   ('extra:celsius_model',
                    'results = pd.DataFrame({"c": celsius, "f": fahrenheit})\n'
                    'results["pred"] = celsius_model.predict(celsius.reshape(-1, 1), verbose=0).ravel()\n'
                    'results["err"] = results.eval("pred - f")\n'
                    'results.query("abs(err) > 1")'),
                   ('extra:celsius_model',
                    'results = pd.DataFrame({"c": celsius, "f": fahrenheit})\n'
                    'results.columns = [name.upper() for name in results.columns]\n'
                    'results'),
                   ('extra:celsius_model',
                    '%env TF_CPP_MIN_LOG_LEVEL=3\n'
                    '%time preds = celsius_model.predict(celsius.reshape(-1, 1), verbose=0)'),
                   ('build_model',
                    'def build_model(n_features):\n'
                    '    model = keras.Sequential(name="insurance")\n'
                    '    model.add(keras.Input(shape=(n_features,)))\n'
                    '    model.add(keras.layers.Dense(4, activation="relu"))\n'
                    '    model.add(keras.layers.Dense(2, activation="relu"))\n'
                    '    model.add(keras.layers.Dense(1))\n'
                    '    model.layers[0].trainable = True\n'
                    '    return model'),
                   ('linear_predict',
                    'def linear_predict(X, w, b):\n'
                    '    X = np.asarray(X, dtype=float)\n'
                    '    w = np.asarray(w, dtype=float).reshape(-1, 1)\n'
                    '    return (X @ w).ravel() + b if X.ndim == 2 else float(X @ w[:, 0] + b)')],
 '02_activations': [('step_function',
                     'def step_function(x):\n'
                     '    return np.heaviside(np.asarray(x, dtype=float), 0).astype(int)'),
                    ('step_function',
                     'step_function = lambda x: np.vectorize(lambda v: 1 if v > 0 else 0, otypes=[int])(x)'),
                    ('sigmoid',
                     'import math\n'
                     '\n'
                     '\n'
                     'def sigmoid(x):\n'
                     '    x = np.asarray(x, dtype=float)\n'
                     '    out = np.empty_like(x)\n'
                     '    for idx, v in np.ndenumerate(x):\n'
                     '        try:\n'
                     '            out[idx] = 1 / (1 + math.exp(-v))\n'
                     '        except OverflowError:\n'
                     '            out[idx] = 0.0\n'
                     '    return out'),
                    ('sigmoid',
                     'import tensorflow as tf\n'
                     '\n'
                     '\n'
                     'def sigmoid(x):\n'
                     '    return tf.math.sigmoid(tf.constant(np.asarray(x, dtype=float))).numpy()'),
                    ('sigmoid',
                     'from scipy.special import expit\n'
                     '\n'
                     '\n'
                     'def sigmoid(x: np.ndarray) -> np.ndarray:\n'
                     '    """1 / (1 + e^-x), 원소마다."""\n'
                     '    return expit(np.asarray(x, dtype=float))'),
                    ('relu', 'def relu(x):\n    x = np.asarray(x, dtype=float)\n    return x * (x > 0)'),
                    ('relu',
                     'def relu(x):\n    return tf.nn.relu(tf.constant(np.asarray(x, dtype=float))).numpy()'),
                    ('leaky_relu',
                     'def leaky_relu(x, alpha=0.1):\n'
                     '    assert 0 <= alpha < 1, f"alpha={alpha}는 0과 1 사이여야 합니다"\n'
                     '    x = np.asarray(x, dtype=float)\n'
                     '    return np.maximum(x, alpha * x)'),
                    ('elu',
                     'def elu(x, alpha=1.0):\n'
                     '    """ELU: x >= 0이면 x, 아니면 alpha * (e^x - 1)."""\n'
                     '    x = np.asarray(x, dtype=float)\n'
                     '    return np.where(x >= 0, x, alpha * np.expm1(np.minimum(x, 0)))'),
                    ('softmax',
                     'from scipy.special import softmax as scipy_softmax\n'
                     '\n'
                     '\n'
                     'def softmax(a):\n'
                     '    return scipy_softmax(np.asarray(a, dtype=float), axis=-1)'),
                    ('softmax',
                     'def softmax(a):\n'
                     '    a = np.asarray(a, dtype=float)\n'
                     '    return tf.nn.softmax(tf.constant(a), axis=-1).numpy()'),
                    ('softmax',
                     'import math\n'
                     '\n'
                     '\n'
                     'def _softmax_row(row):\n'
                     '    m = max(row)\n'
                     '    exps = [math.exp(v - m) for v in row]\n'
                     '    total = sum(exps)\n'
                     '    return [e / total for e in exps]\n'
                     '\n'
                     '\n'
                     'def softmax(a):\n'
                     '    a = np.asarray(a, dtype=float)\n'
                     '    if a.ndim == 1:\n'
                     '        return np.array(_softmax_row(a))\n'
                     '    return np.array([_softmax_row(row) for row in a.reshape(-1, '
                     'a.shape[-1])]).reshape(a.shape)'),
                    ('dense_forward',
                     'def dense_forward(X, W, b, activation):\n'
                     '    z = np.einsum("...i,ij->...j", np.asarray(X, dtype=float), np.asarray(W, '
                     'dtype=float)) + b\n'
                     '    return activation(z)'),
                    ('forward_3layer',
                     'def forward_3layer(X, network, h):\n'
                     '    a = np.asarray(X, dtype=float)\n'
                     '    outputs = []\n'
                     '    for i in (1, 2, 3):\n'
                     '        z = a @ network[f"W{i}"] + network[f"B{i}"]\n'
                     '        a = h(z) if i < 3 else z\n'
                     '        outputs.append(a)\n'
                     '    return outputs'),
                    ('forward_3layer',
                     'class Network:\n'
                     '    def __init__(self, network):\n'
                     '        self.weights = [network[f"W{i}"] for i in (1, 2, 3)]\n'
                     '        self.biases = [network[f"B{i}"] for i in (1, 2, 3)]\n'
                     '\n'
                     '    def run(self, X, h):\n'
                     '        a, outs = np.asarray(X, dtype=float), []\n'
                     '        for i, (W, B) in enumerate(zip(self.weights, self.biases)):\n'
                     '            a = a @ W + B\n'
                     '            if i < 2:\n'
                     '                a = h(a)\n'
                     '            outs.append(a)\n'
                     '        return outs\n'
                     '\n'
                     '\n'
                     'def forward_3layer(X, network, h):\n'
                     '    return Network(network).run(X, h)'),
                    ('build_network',
                     'def build_network(network):\n'
                     '    inputs = keras.Input(shape=(network["W1"].shape[0],))\n'
                     '    x = keras.layers.Dense(network["W1"].shape[1], activation="sigmoid")(inputs)\n'
                     '    x = keras.layers.Dense(network["W2"].shape[1], activation="sigmoid")(x)\n'
                     '    outputs = keras.layers.Dense(network["W3"].shape[1])(x)\n'
                     '    model = keras.Model(inputs=inputs, outputs=outputs)\n'
                     '    model.set_weights([network[k] for k in ["W1", "B1", "W2", "B2", "W3", "B3"]])\n'
                     '    return model'),
                    ('build_network',
                     'def build_network(network):\n'
                     '    kernels = sorted((k for k in network if k.startswith("W")), key=lambda k: '
                     'int(k[1:]))\n'
                     '    model = keras.Sequential([keras.Input(shape=(network["W1"].shape[0],))])\n'
                     '    for i, name in enumerate(kernels):\n'
                     '        activation = "sigmoid" if i < len(kernels) - 1 else None\n'
                     '        model.add(keras.layers.Dense(network[name].shape[1], activation=activation))\n'
                     '        model.layers[-1].set_weights([network[name], network["B" + name[1:]]])\n'
                     '    return model'),
                    ('build_network',
                     'class ThreeLayerNet(keras.Model):\n'
                     '    def __init__(self, sizes):\n'
                     '        super().__init__()\n'
                     '        self.d1 = keras.layers.Dense(sizes[0], activation="sigmoid")\n'
                     '        self.d2 = keras.layers.Dense(sizes[1], activation="sigmoid")\n'
                     '        self.d3 = keras.layers.Dense(sizes[2])\n'
                     '\n'
                     '    def call(self, x):\n'
                     '        return self.d3(self.d2(self.d1(x)))\n'
                     '\n'
                     '\n'
                     'def build_network(network):\n'
                     '    model = ThreeLayerNet([network[k].shape[1] for k in ("W1", "W2", "W3")])\n'
                     '    model.build((None, network["W1"].shape[0]))\n'
                     '    model.set_weights([network[k] for k in ("W1", "B1", "W2", "B2", "W3", "B3")])\n'
                     '    return model'),
                    ('collapse_linear',
                     'import functools\n'
                     '\n'
                     '\n'
                     'def collapse_linear(W1, b1, W2, b2):\n'
                     '    W = functools.reduce(np.matmul, [W1, W2])\n'
                     '    b = np.dot(b1, W2) + b2\n'
                     '    return W, b'),
                    ('collapse_linear',
                     'def collapse_linear(W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> '
                     'tuple:\n'
                     '    W = W1 @ W2\n'
                     '    b = b1 @ W2 + b2\n'
                     '    x = np.ones((1, W1.shape[0]))\n'
                     '    np.testing.assert_allclose(x @ W + b, (x @ W1 + b1) @ W2 + b2)\n'
                     '    return W, b'),
                    ('extra:relu',
                     '%matplotlib inline\n'
                     'xs = np.linspace(-3, 3, 61)\n'
                     'fig, ax = plt.subplots(figsize=(4, 3))\n'
                     'for name, f in [("sigmoid", sigmoid), ("relu", relu), ("step", step_function)]:\n'
                     '    ax.plot(xs, f(xs), label=name)\n'
                     'ax.legend()\n'
                     'plt.show()'),
                    ('extra:elu',
                     'table = pd.DataFrame({"x": np.linspace(-2, 2, 9)})\n'
                     'table["leaky"] = leaky_relu(table["x"].to_numpy())\n'
                     'table["elu"] = table["x"].apply(lambda v: float(elu(v)))\n'
                     'table.query("x < 0")'),
                    ('extra:elu',
                     'from enum import Enum\n'
                     '\n'
                     '\n'
                     'class Act(Enum):\n'
                     '    LEAKY = "leaky"\n'
                     '    ELU = "elu"\n'
                     '\n'
                     '\n'
                     'for act in Act:\n'
                     '    f = leaky_relu if act is Act.LEAKY else elu\n'
                     '    print(act.value, f(np.array([-1.0, 1.0])))'),
                    ('extra:softmax',
                     'class Probabilities:\n'
                     '    def __init__(self, p):\n'
                     '        self.p = p\n'
                     '\n'
                     '    def __repr__(self):\n'
                     '        return f"{self.__class__.__name__}({np.round(self.p, 3)})"\n'
                     '\n'
                     '\n'
                     'print(Probabilities(softmax(np.array([1.0, 2.0, 3.0]))))'),
                    ('relu',
                     'def relu(x):\n'
                     '    x = np.array(x, dtype=float)  # copy\n'
                     '    x[x < 0] = 0\n'
                     '    return x'),
                    ('sigmoid',
                     'import functools\n'
                     '\n'
                     '\n'
                     '@functools.lru_cache(maxsize=None)\n'
                     'def _sigmoid_scalar(v: float) -> float:\n'
                     '    return 1.0 / (1.0 + np.exp(-v))\n'
                     '\n'
                     '\n'
                     'def sigmoid(x):\n'
                     '    x = np.asarray(x, dtype=float)\n'
                     '    return np.vectorize(_sigmoid_scalar, otypes=[float])(x)'),
                    ('dense_forward',
                     'from typing import Callable\n'
                     '\n'
                     '\n'
                     'def dense_forward(X, W, b, activation: Callable[[np.ndarray], np.ndarray]):\n'
                     '    X, W = np.asarray(X, dtype=float), np.asarray(W, dtype=float)\n'
                     '    if X.ndim == 1:\n'
                     '        return activation(X @ W + b)\n'
                     '    rows = [activation(row @ W + b) for row in X]\n'
                     '    return np.array(rows)'),
                    ('forward_3layer',
                     'from typing import NamedTuple\n'
                     '\n'
                     '\n'
                     'class LayerParams(NamedTuple):\n'
                     '    weights: np.ndarray\n'
                     '    bias: np.ndarray\n'
                     '\n'
                     '\n'
                     'def forward_3layer(X, network, h):\n'
                     '    layers = [LayerParams(network[f"W{i}"], network[f"B{i}"]) for i in (1, 2, 3)]\n'
                     '    a, outs = np.asarray(X, dtype=float), []\n'
                     '    for i, layer in enumerate(layers):\n'
                     '        a = a @ layer.weights + layer.bias\n'
                     '        a = h(a) if i < 2 else a\n'
                     '        outs.append(a)\n'
                     '    return outs'),
                    ('leaky_relu',
                     'import numpy.typing as npt\n'
                     '\n'
                     '\n'
                     'def leaky_relu(x: npt.ArrayLike, alpha: float = 0.1) -> np.ndarray:\n'
                     '    x = np.asarray(x, dtype=float)\n'
                     '    return np.where(x > 0, x, alpha * x)'),
                    ('elu',
                     '%%time\n'
                     'def elu(x, alpha=1.0):\n'
                     '    x = np.asarray(x, dtype=float)\n'
                     '    negative = alpha * (np.exp(np.clip(x, None, 0)) - 1)\n'
                     '    return np.where(x >= 0, x, negative)')],
 '03_perceptron': [('perceptron_output',
                    'def perceptron_output(X, weights, threshold):\n'
                    '    X = np.asarray(X, dtype=float)\n'
                    '    w = np.asarray(weights, dtype=float)\n'
                    '    return np.where(X @ w >= threshold, 1, 0)'),
                   ('perceptron_output',
                    'def perceptron_output(X, weights, threshold):\n'
                    '    X = np.asarray(X, dtype=float)\n'
                    '    if X.ndim == 1:\n'
                    '        return np.array(1 if X @ np.asarray(weights, dtype=float) >= threshold else 0)\n'
                    '    outputs = []\n'
                    '    for row in X:\n'
                    '        net = sum(x * w for x, w in zip(row, weights))\n'
                    '        outputs.append(1 if net >= threshold else 0)\n'
                    '    return np.array(outputs)'),
                   ('perceptron_output',
                    'def perceptron_output(X, weights, threshold):\n'
                    '    net = tf.linalg.matvec(tf.constant(np.atleast_2d(np.asarray(X, dtype=float))),\n'
                    '                           tf.constant(np.asarray(weights, dtype=float))).numpy()\n'
                    '    out = (net >= threshold).astype(int)\n'
                    '    return out if np.ndim(X) > 1 else out[0]'),
                   ('train_perceptron',
                    'class Perceptron:\n'
                    '    def __init__(self, weights, learning_rate):\n'
                    '        self.w = np.array(weights, dtype=float)\n'
                    '        self.lr = learning_rate\n'
                    '\n'
                    '    def predict(self, x):\n'
                    '        return 1 if x @ self.w >= 0 else 0\n'
                    '\n'
                    '    def update(self, x, t):\n'
                    '        y_hat = self.predict(x)\n'
                    '        if y_hat != t:\n'
                    '            self.w = self.w + self.lr * (t - y_hat) * x\n'
                    '            return 1\n'
                    '        return 0\n'
                    '\n'
                    '\n'
                    'def train_perceptron(data, weights, learning_rate, max_epochs):\n'
                    '    data = np.asarray(data, dtype=float)\n'
                    '    inputs = np.column_stack([-np.ones(len(data)), data[:, :-1]])\n'
                    '    p = Perceptron(weights, learning_rate)\n'
                    '    errors = []\n'
                    '    for epoch in range(max_epochs):\n'
                    '        wrong = sum(p.update(x, t) for x, t in zip(inputs, data[:, -1]))\n'
                    '        errors.append(wrong)\n'
                    '        if wrong == 0:\n'
                    '            break\n'
                    '    return p.w, errors'),
                   ('train_perceptron',
                    'from dataclasses import dataclass, field\n'
                    '\n'
                    '\n'
                    '@dataclass\n'
                    'class TrainLog:\n'
                    '    errors: list = field(default_factory=list)\n'
                    '\n'
                    '\n'
                    'def train_perceptron(data, weights, learning_rate, max_epochs):\n'
                    '    data = np.asarray(data, dtype=float)\n'
                    '    w = np.array(weights, dtype=float)\n'
                    '    log = TrainLog()\n'
                    '    epoch = 0\n'
                    '    while epoch < max_epochs:\n'
                    '        wrong = 0\n'
                    '        for row in data:\n'
                    '            x = np.concatenate([[-1.0], row[:-1]])\n'
                    '            t = row[-1]\n'
                    '            y_hat = int(x @ w >= 0)\n'
                    '            if y_hat != t:\n'
                    '                w += learning_rate * (t - y_hat) * x\n'
                    '                wrong += 1\n'
                    '        log.errors.append(wrong)\n'
                    '        print(f"epoch {epoch + 1}: 틀린 개수 {wrong}, w = {w}")\n'
                    '        epoch += 1\n'
                    '        if not wrong:\n'
                    '            break\n'
                    '    return w, log.errors'),
                   ('train_perceptron',
                    'import itertools\n'
                    'from collections import namedtuple\n'
                    '\n'
                    'Step = namedtuple("Step", "epoch wrong")\n'
                    '\n'
                    '\n'
                    'def train_perceptron(data, weights, learning_rate, max_epochs):\n'
                    '    data = np.asarray(data, dtype=float)\n'
                    '    inputs = np.hstack([-np.ones((len(data), 1)), data[:, :-1]])\n'
                    '    w = np.array(weights, dtype=float)\n'
                    '    history = []\n'
                    '    for epoch in itertools.count():\n'
                    '        if epoch >= max_epochs:\n'
                    '            break\n'
                    '        wrong = 0\n'
                    '        for x, t in zip(inputs, data[:, -1]):\n'
                    '            error = t - (1 if np.dot(x, w) >= 0 else 0)\n'
                    '            if error:\n'
                    '                w = w + learning_rate * error * x\n'
                    '                wrong += 1\n'
                    '        history.append(Step(epoch, wrong))\n'
                    '        if wrong == 0:\n'
                    '            break\n'
                    '    return w, [s.wrong for s in history]'),
                   ('gates',
                    'import functools\n'
                    '\n'
                    '\n'
                    'def fire(weights, x1, x2):\n'
                    '    w0, w1, w2 = weights\n'
                    '    return 1 if -w0 + w1 * x1 + w2 * x2 >= 0 else 0\n'
                    '\n'
                    '\n'
                    'AND_WEIGHTS = (1.5, 1.0, 1.0)\n'
                    'OR_WEIGHTS = (0.5, 1.0, 1.0)\n'
                    'NAND_WEIGHTS = (-1.5, -1.0, -1.0)\n'
                    '\n'
                    'AND = functools.partial(fire, AND_WEIGHTS)\n'
                    'OR = functools.partial(fire, OR_WEIGHTS)\n'
                    'NAND = functools.partial(fire, NAND_WEIGHTS)\n'
                    '\n'
                    '\n'
                    'def XOR(x1, x2):\n'
                    '    return AND(NAND(x1, x2), OR(x1, x2))'),
                   ('gates',
                    'AND_WEIGHTS = (1.5, 1.0, 1.0)\n'
                    'OR_WEIGHTS = (0.5, 1.0, 1.0)\n'
                    'NAND_WEIGHTS = (-1.5, -1.0, -1.0)\n'
                    '\n'
                    '\n'
                    'class Gate:\n'
                    '    def __init__(self, weights):\n'
                    '        self.weights = np.array(weights, dtype=float)\n'
                    '\n'
                    '    def __call__(self, x1, x2):\n'
                    '        return int(np.array([-1.0, x1, x2]) @ self.weights >= 0)\n'
                    '\n'
                    '\n'
                    'AND = Gate(AND_WEIGHTS)\n'
                    'OR = Gate(OR_WEIGHTS)\n'
                    'NAND = Gate(NAND_WEIGHTS)\n'
                    'XOR = lambda x1, x2: AND(NAND(x1, x2), OR(x1, x2))'),
                   ('gates',
                    'class GateWeights:\n'
                    '    AND = (1.5, 1.0, 1.0)\n'
                    '    OR = (0.5, 1.0, 1.0)\n'
                    '    NAND = (-1.5, -1.0, -1.0)\n'
                    '\n'
                    '\n'
                    'AND_WEIGHTS = GateWeights.AND\n'
                    'OR_WEIGHTS = GateWeights.OR\n'
                    'NAND_WEIGHTS = GateWeights.NAND\n'
                    '\n'
                    '\n'
                    'def _perceptron(w, x1, x2):\n'
                    '    return int(w[1] * x1 + w[2] * x2 - w[0] >= 0)\n'
                    '\n'
                    '\n'
                    'def AND(x1, x2):\n'
                    '    return _perceptron(AND_WEIGHTS, x1, x2)\n'
                    '\n'
                    '\n'
                    'def OR(x1, x2):\n'
                    '    return _perceptron(OR_WEIGHTS, x1, x2)\n'
                    '\n'
                    '\n'
                    'def NAND(x1, x2):\n'
                    '    return _perceptron(NAND_WEIGHTS, x1, x2)\n'
                    '\n'
                    '\n'
                    'def XOR(x1, x2):\n'
                    '    return AND(NAND(x1, x2), OR(x1, x2))'),
                   ('gates',
                    'import itertools\n'
                    '\n'
                    'AND_WEIGHTS = (1.5, 1.0, 1.0)\n'
                    'OR_WEIGHTS = (0.5, 1.0, 1.0)\n'
                    'NAND_WEIGHTS = (-1.5, -1.0, -1.0)\n'
                    '\n'
                    '\n'
                    'def make_gate(weights):\n'
                    '    w0, w1, w2 = weights\n'
                    '    return lambda x1, x2: int(w1 * x1 + w2 * x2 >= w0)\n'
                    '\n'
                    '\n'
                    'AND, OR, NAND = (make_gate(w) for w in (AND_WEIGHTS, OR_WEIGHTS, NAND_WEIGHTS))\n'
                    '\n'
                    '\n'
                    'def XOR(x1, x2):\n'
                    '    return AND(NAND(x1, x2), OR(x1, x2))\n'
                    '\n'
                    '\n'
                    'for a, b in itertools.product([0, 1], repeat=2):\n'
                    '    print(a, b, AND(a, b), OR(a, b), NAND(a, b), XOR(a, b))'),
                   ('decision_boundary',
                    'def decision_boundary(weights):\n'
                    '    w0, w1, w2 = (float(v) for v in weights)\n'
                    '    slope = -w1 / w2\n'
                    '    intercept = w0 / w2\n'
                    '    return slope, intercept'),
                   ('decision_boundary',
                    'from fractions import Fraction\n'
                    '\n'
                    '\n'
                    'def decision_boundary(weights):\n'
                    '    w0, w1, w2 = weights\n'
                    '    return -w1 / w2, w0 / w2\n'
                    '\n'
                    '\n'
                    'print(decision_boundary([Fraction(3, 2), Fraction(1), Fraction(1)]))'),
                   ('decision_boundary',
                    'from typing import Sequence, Tuple\n'
                    '\n'
                    '\n'
                    'def decision_boundary(weights: Sequence[float]) -> Tuple[float, float]:\n'
                    '    """-w0 + w1·x1 + w2·x2 = 0 을 x2 = m·x1 + c 로 정리."""\n'
                    '    w0, w1, w2 = weights\n'
                    '    if w2 == 0:\n'
                    '        raise ValueError("w2가 0이면 x2에 대해 풀 수 없습니다")\n'
                    '    return -w1 / w2, w0 / w2'),
                   ('extra:decision_boundary',
                    '%matplotlib inline\n'
                    'xs = np.linspace(-0.5, 1.5, 10)\n'
                    'm, c = decision_boundary(AND_WEIGHTS)\n'
                    'plt.plot(xs, m * xs + c)\n'
                    'for (x1, x2) in [(0, 0), (0, 1), (1, 0), (1, 1)]:\n'
                    '    plt.scatter(x1, x2, c="red" if AND(x1, x2) else "blue")\n'
                    'plt.show()'),
                   ('extra:gates',
                    'truth = pd.DataFrame([(a, b) for a in (0, 1) for b in (0, 1)], columns=["x1", "x2"])\n'
                    'truth["XOR"] = truth.apply(lambda r: XOR(r.x1, r.x2), axis=1)\n'
                    'truth'),
                   ('extra:gates',
                    'from dataclasses import dataclass\n'
                    '\n'
                    '\n'
                    '@dataclass(frozen=True)\n'
                    'class GateSpec:\n'
                    '    name: str\n'
                    '    weights: tuple\n'
                    '\n'
                    '\n'
                    'specs = [GateSpec("AND", AND_WEIGHTS), GateSpec("OR", OR_WEIGHTS)]\n'
                    'for spec in sorted(specs, key=lambda s: s.name):\n'
                    '    print(spec.name, spec.weights)'),
                   ('gates',
                    'from enum import Enum\n'
                    '\n'
                    'AND_WEIGHTS = (1.5, 1.0, 1.0)\n'
                    'OR_WEIGHTS = (0.5, 1.0, 1.0)\n'
                    'NAND_WEIGHTS = (-1.5, -1.0, -1.0)\n'
                    '\n'
                    '\n'
                    'class GateKind(Enum):\n'
                    '    AND = AND_WEIGHTS\n'
                    '    OR = OR_WEIGHTS\n'
                    '    NAND = NAND_WEIGHTS\n'
                    '\n'
                    '\n'
                    'def fire(kind: GateKind, x1, x2):\n'
                    '    w0, w1, w2 = kind.value\n'
                    '    return int(-w0 + w1 * x1 + w2 * x2 >= 0)\n'
                    '\n'
                    '\n'
                    'def AND(x1, x2):\n'
                    '    return fire(GateKind.AND, x1, x2)\n'
                    '\n'
                    '\n'
                    'def OR(x1, x2):\n'
                    '    return fire(GateKind.OR, x1, x2)\n'
                    '\n'
                    '\n'
                    'def NAND(x1, x2):\n'
                    '    return fire(GateKind.NAND, x1, x2)\n'
                    '\n'
                    '\n'
                    'def XOR(x1, x2):\n'
                    '    return AND(NAND(x1, x2), OR(x1, x2))'),
                   ('perceptron_output',
                    'class ThresholdUnit:\n'
                    '    def __init__(self, weights, threshold):\n'
                    '        self.weights = np.asarray(weights, dtype=float)\n'
                    '        self.threshold = threshold\n'
                    '\n'
                    '    @property\n'
                    '    def n_inputs(self):\n'
                    '        return len(self.weights)\n'
                    '\n'
                    '    def output(self, X):\n'
                    '        return (np.asarray(X, dtype=float) @ self.weights >= '
                    'self.threshold).astype(int)\n'
                    '\n'
                    '\n'
                    'def perceptron_output(X, weights, threshold):\n'
                    '    return ThresholdUnit(weights, threshold).output(X)'),
                   ('extra:train_perceptron',
                    'AND_TABLE = np.array([[0, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 1]])\n'
                    'w, errors = train_perceptron(AND_TABLE, [0.3, 0.4, 0.1], 0.05, 100)\n'
                    'print(f"w = {w}, 에포크 {len(errors)}번")\n'
                    'print(pd.Series(errors, name="틀린 개수").to_string())'),
                   ('extra:decision_boundary',
                    'if __name__ == "__main__":\n'
                    '    for name, w in [("AND", AND_WEIGHTS), ("OR", OR_WEIGHTS), ("NAND", NAND_WEIGHTS)]:\n'
                    '        slope, intercept = decision_boundary(w)\n'
                    '        print(f"{name}: x2 = {slope:+.2f}·x1 {intercept:+.2f}")')],
 '04_and_xor': [('gate_model',
                 'x_gate = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])\n'
                 'y_or_answer = np.logical_or(x_gate[:, :1], x_gate[:, 1:]).astype("float32")\n'
                 'del x_gate\n'
                 '\n'
                 '\n'
                 'def build_gate_model():\n'
                 '    return keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, '
                 'activation="sigmoid")])'),
                ('gate_model',
                 'y_or_answer = np.array([[max(a, b)] for a, b in [(0, 0), (0, 1), (1, 0), (1, 1)]], '
                 'dtype="float32")\n'
                 '\n'
                 '\n'
                 'def build_gate_model():\n'
                 '    inputs = keras.Input(shape=(2,))\n'
                 '    outputs = keras.layers.Dense(1, activation="sigmoid")(inputs)\n'
                 '    return keras.Model(inputs, outputs)'),
                ('gate_model',
                 'from tensorflow import keras\n'
                 '\n'
                 'y_or_answer = np.float32([[0], [1], [1], [1]])\n'
                 '\n'
                 '\n'
                 'def build_gate_model():\n'
                 '    model = keras.Sequential()\n'
                 '    model.add(keras.Input(shape=(2,)))\n'
                 '    model.add(keras.layers.Dense(1))\n'
                 '    model.add(keras.layers.Activation("sigmoid"))\n'
                 '    return model'),
                ('gate_model',
                 'import tensorflow as tf\n'
                 '\n'
                 'y_or_answer = tf.constant([[0.0], [1.0], [1.0], [1.0]]).numpy()\n'
                 '\n'
                 '\n'
                 'def build_gate_model():\n'
                 '    return tf.keras.Sequential([tf.keras.Input(shape=(2,)),\n'
                 '                                tf.keras.layers.Dense(1, activation=tf.math.sigmoid)])'),
                ('gate_model',
                 'gates = pd.DataFrame({"x1": [0, 0, 1, 1], "x2": [0, 1, 0, 1]})\n'
                 'gates["OR"] = gates.eval("x1 | x2")\n'
                 'y_or_answer = gates[["OR"]].to_numpy(dtype="float32")\n'
                 '\n'
                 '\n'
                 'def build_gate_model():\n'
                 '    return keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, '
                 'activation="sigmoid")])'),
                ('gate_model',
                 'class GateNet(keras.Model):\n'
                 '    def __init__(self):\n'
                 '        super().__init__()\n'
                 '        self.unit = keras.layers.Dense(1, activation="sigmoid")\n'
                 '\n'
                 '    def call(self, x):\n'
                 '        return self.unit(x)\n'
                 '\n'
                 '\n'
                 'y_or_answer = np.array([[0], [1], [1], [1]], dtype=np.float32)\n'
                 '\n'
                 '\n'
                 'def build_gate_model():\n'
                 '    model = GateNet()\n'
                 '    model.build((None, 2))\n'
                 '    return model'),
                ('xor_model',
                 'def build_xor_model():\n'
                 '    model = keras.Sequential([keras.Input(shape=(2,))])\n'
                 '    for units in (2, 1):\n'
                 '        model.add(keras.layers.Dense(units, activation="sigmoid"))\n'
                 '    return model'),
                ('xor_model',
                 'from keras import layers\n'
                 '\n'
                 '\n'
                 'def build_xor_model() -> keras.Model:\n'
                 '    """XOR: 은닉 sigmoid 유닛 2개 + 출력 sigmoid 유닛 1개 (파라미터 9개)."""\n'
                 '    x = keras.Input(shape=(2,))\n'
                 '    h = layers.Dense(2, activation="sigmoid", name="hidden")(x)\n'
                 '    y = layers.Dense(1, activation="sigmoid", name="output")(h)\n'
                 '    return keras.Model(x, y, name="xor")'),
                ('xor_model',
                 'class XorNet(keras.Model):\n'
                 '    def __init__(self, **kwargs):\n'
                 '        super().__init__(**kwargs)\n'
                 '        self.hidden = keras.layers.Dense(2, activation="sigmoid")\n'
                 '        self.out = keras.layers.Dense(1, activation="sigmoid")\n'
                 '\n'
                 '    def call(self, inputs):\n'
                 '        return self.out(self.hidden(inputs))\n'
                 '\n'
                 '\n'
                 'def build_xor_model():\n'
                 '    net = XorNet()\n'
                 '    net.build((None, 2))\n'
                 '    return net'),
                ('hidden_outputs',
                 'def hidden_outputs(model, inputs):\n'
                 '    W, b = model.layers[0].get_weights()\n'
                 '    z = np.asarray(inputs, dtype=float) @ W + b\n'
                 '    return 1 / (1 + np.exp(-z))'),
                ('hidden_outputs',
                 'def hidden_outputs(model, inputs):\n'
                 '    probe = keras.Model(inputs=model.inputs, outputs=model.layers[0].output)\n'
                 '    return probe.predict(np.asarray(inputs, dtype="float32"), verbose=0)'),
                ('hidden_outputs',
                 'def hidden_outputs(model, inputs):\n'
                 '    kernel, bias = (tf.constant(w) for w in model.layers[0].get_weights())\n'
                 '    x = tf.constant(np.asarray(inputs, dtype="float32"))\n'
                 '    return tf.math.sigmoid(tf.matmul(x, kernel) + bias).numpy()'),
                ('single_unit',
                 'def train_single_unit(inputs, targets):\n'
                 '    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, '
                 'activation="sigmoid")])\n'
                 '    opt = keras.optimizers.SGD()\n'
                 '    opt.learning_rate = 10.0\n'
                 '    opt.momentum = 0.8\n'
                 '    model.compile(optimizer=opt, loss="mse")\n'
                 '    history = model.fit(inputs, targets, epochs=10, verbose=0)\n'
                 '    print(f"마지막 손실 {history.history[\'loss\'][-1]:.4f}")\n'
                 '    predictions = model.predict(inputs, verbose=0)\n'
                 '    accuracy = float(np.mean(np.where(predictions > 0.5, 1.0, 0.0) == targets))\n'
                 '    return model, accuracy'),
                ('single_unit',
                 'LEARNING_RATE = 10.0\n'
                 'MOMENTUM = 0.8\n'
                 '\n'
                 '\n'
                 'def train_single_unit(inputs, targets):\n'
                 '    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, '
                 'activation="sigmoid")])\n'
                 '    opt = keras.optimizers.SGD()\n'
                 '    opt.learning_rate = LEARNING_RATE\n'
                 '    opt.momentum = MOMENTUM\n'
                 '    model.compile(optimizer=opt, loss="mse")\n'
                 '    model.fit(inputs, targets, epochs=10, verbose=0)\n'
                 '    accuracy = float(np.mean(np.round(model(inputs).numpy()) == targets))\n'
                 '    return model, accuracy'),
                ('single_unit',
                 'def train_single_unit(inputs, targets):\n'
                 '    model = tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(1, '
                 'activation="sigmoid")])\n'
                 '    model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=10.0, momentum=0.8), '
                 'loss="mse",\n'
                 '                  metrics=["binary_accuracy"])\n'
                 '    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=10)\n'
                 '    model.fit(inputs, targets, epochs=10, verbose=0, callbacks=[stop])\n'
                 '    right = [int(round(float(p))) == int(t) for p, t in zip(model(inputs).numpy().ravel(), '
                 'np.ravel(targets))]\n'
                 '    return model, sum(right) / len(right)'),
                ('extra:xor_model',
                 'xor_net = build_xor_model()\nxor_net.summary()\nprint("파라미터 수:", xor_net.count_params())'),
                ('extra:xor_model', 'import gc\n\nkeras.backend.clear_session()\ngc.collect()'),
                ('extra:single_unit',
                 'np.random.seed(0)\n'
                 'tf.random.set_seed(0)\n'
                 'x_all = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")\n'
                 'y_and = np.array([[0], [0], [0], [1]], dtype="float32")\n'
                 'unit, acc = train_single_unit(x_all, y_and)\n'
                 'unit.save("and_unit.keras")\n'
                 'copy_of_unit = keras.models.clone_model(unit)\n'
                 'print(f"AND accuracy = {acc:.2f}")\n'
                 'del unit, copy_of_unit'),
                ('extra:single_unit',
                 'import copy\n'
                 '\n'
                 'settings = {"epochs": 10, "lr": 10.0}\n'
                 'backup = copy.deepcopy(settings)\n'
                 'for key, value in sorted(backup.items(), key=lambda kv: kv[0]):\n'
                 '    print(key, value)'),
                ('xor_model',
                 '@keras.saving.register_keras_serializable()\n'
                 'class XorNet(keras.Model):\n'
                 '    def __init__(self, **kwargs):\n'
                 '        super().__init__(**kwargs)\n'
                 '        self.hidden = keras.layers.Dense(2, activation="sigmoid")\n'
                 '        self.out = keras.layers.Dense(1, activation="sigmoid")\n'
                 '\n'
                 '    def call(self, inputs):\n'
                 '        return self.out(self.hidden(inputs))\n'
                 '\n'
                 '    def get_config(self):\n'
                 '        return super().get_config()\n'
                 '\n'
                 '\n'
                 'def build_xor_model():\n'
                 '    net = XorNet()\n'
                 '    net.build((None, 2))\n'
                 '    return net'),
                ('hidden_outputs',
                 'def hidden_outputs(model, inputs):\n'
                 '    hidden = model.layers[0]\n'
                 '    out = hidden(tf.convert_to_tensor(inputs, dtype=tf.float32))\n'
                 '    return keras.ops.convert_to_numpy(out)')],
 '05_backprop': [('regression_losses',
                  'import math\n'
                  '\n'
                  '\n'
                  'def regression_losses(y_true, y_pred):\n'
                  '    y_true = np.ravel(np.asarray(y_true, dtype=float))\n'
                  '    y_pred = np.ravel(np.asarray(y_pred, dtype=float))\n'
                  '    n = len(y_true)\n'
                  '    mae = sum(abs(p - t) for p, t in zip(y_pred, y_true)) / n\n'
                  '    mse = sum((p - t) ** 2 for p, t in zip(y_pred, y_true)) / n\n'
                  '    return mae, mse, math.sqrt(mse)'),
                 ('regression_losses',
                  'from collections import namedtuple\n'
                  '\n'
                  'Losses = namedtuple("Losses", ["mae", "mse", "rmse"])\n'
                  '\n'
                  '\n'
                  'def regression_losses(y_true, y_pred):\n'
                  '    error = np.subtract(np.asarray(y_pred, dtype=float), np.asarray(y_true, '
                  'dtype=float))\n'
                  '    mse = float(np.mean(np.square(error)))\n'
                  '    return Losses(float(np.mean(np.abs(error))), mse, np.sqrt(mse))'),
                 ('regression_losses',
                  'from sklearn.metrics import mean_absolute_error, mean_squared_error\n'
                  '\n'
                  '\n'
                  'def regression_losses(y_true, y_pred):\n'
                  '    y_true = np.asarray(y_true, dtype=float).reshape(-1)\n'
                  '    y_pred = np.asarray(y_pred, dtype=float).reshape(-1)\n'
                  '    mse = mean_squared_error(y_true, y_pred)\n'
                  '    return mean_absolute_error(y_true, y_pred), mse, mse ** 0.5'),
                 ('bce',
                  'EPSILON = keras.config.epsilon()\n'
                  '\n'
                  '\n'
                  'def bce(y_true, y_pred):\n'
                  '    y_true = np.asarray(y_true, dtype=float)\n'
                  '    p = np.clip(np.asarray(y_pred, dtype=float), EPSILON, 1 - EPSILON)\n'
                  '    return -np.mean(np.where(y_true == 1, np.log(p), np.log(1 - p)))'),
                 ('bce',
                  'import math\n'
                  '\n'
                  'EPSILON = 1e-7\n'
                  '\n'
                  '\n'
                  'def bce(y_true, y_pred):\n'
                  '    t = np.ravel(np.asarray(y_true, dtype=float))\n'
                  '    p = np.ravel(np.asarray(y_pred, dtype=float))\n'
                  '    losses = []\n'
                  '    for ti, pi in zip(t, p):\n'
                  '        pi = min(max(pi, EPSILON), 1 - EPSILON)\n'
                  '        losses.append(-(ti * math.log(pi) + (1 - ti) * math.log(1 - pi)))\n'
                  '    return sum(losses) / len(losses)'),
                 ('cce',
                  'def cce(y_true, y_pred):\n'
                  '    y_true = np.asarray(y_true, dtype=float)\n'
                  '    p = np.clip(np.asarray(y_pred, dtype=float), EPSILON, 1 - EPSILON)\n'
                  '    per_sample = np.einsum("...k,...k->...", y_true, np.log(p))\n'
                  '    return -np.mean(per_sample)'),
                 ('cce',
                  'def cce(y_true, y_pred):\n'
                  '    y_true = np.atleast_2d(np.asarray(y_true, dtype=float))\n'
                  '    y_pred = np.atleast_2d(np.asarray(y_pred, dtype=float))\n'
                  '    total = 0.0\n'
                  '    for t_row, p_row in zip(y_true, y_pred):\n'
                  '        total += -sum(t * np.log(min(max(p, EPSILON), 1 - EPSILON)) for t, p in '
                  'zip(t_row, p_row))\n'
                  '    return total / len(y_true)'),
                 ('sigmoid_derivative',
                  'def sigmoid_derivative(z):\n'
                  '    z = tf.Variable(np.asarray(z, dtype=float))\n'
                  '    with tf.GradientTape() as tape:\n'
                  '        s = tf.math.sigmoid(z)\n'
                  '    return tape.gradient(s, z).numpy()'),
                 ('sigmoid_derivative',
                  'def sigmoid_derivative(z):\n'
                  '    """σ\'(z) = σ(z)(1 − σ(z))."""\n'
                  '    e = np.exp(-np.asarray(z, dtype=float))\n'
                  '    return e / (1 + e) ** 2'),
                 ('backprop',
                  'from collections import namedtuple\n'
                  '\n'
                  'Gradients = namedtuple("Gradients", "dW1 dB1 dW2 dB2")\n'
                  '\n'
                  '\n'
                  'def backprop(params, X, Y):\n'
                  '    W1, B1, W2, B2 = params\n'
                  '    H, Y_hat = forward(params, X)\n'
                  '    dZ2 = 2 * (Y_hat - Y) / len(X) * Y_hat * (1 - Y_hat)\n'
                  '    dZ1 = (dZ2 @ W2.T) * H * (1 - H)\n'
                  '    return Gradients(X.T @ dZ1, dZ1.sum(axis=0), H.T @ dZ2, dZ2.sum(axis=0))'),
                 ('backprop',
                  'class Cache:\n'
                  '    def __init__(self, X, H, Y_hat):\n'
                  '        self.X, self.H, self.Y_hat = X, H, Y_hat\n'
                  '\n'
                  '\n'
                  'def backprop(params, X, Y):\n'
                  '    W1, B1, W2, B2 = params\n'
                  '    cache = Cache(X, *forward(params, X))\n'
                  '    n = X.shape[0]\n'
                  '    delta_out = (2.0 / n) * (cache.Y_hat - Y) * '
                  'sigmoid_derivative_from_output(cache.Y_hat)\n'
                  '    delta_hidden = delta_out @ W2.T * sigmoid_derivative_from_output(cache.H)\n'
                  '    return [cache.X.T @ delta_hidden, np.sum(delta_hidden, axis=0), cache.H.T @ '
                  'delta_out, np.sum(delta_out, axis=0)]\n'
                  '\n'
                  '\n'
                  'def sigmoid_derivative_from_output(a):\n'
                  '    return a * (1 - a)'),
                 ('backprop',
                  'def backprop(params, X, Y):\n'
                  '    variables = [tf.Variable(np.asarray(p, dtype=float)) for p in params]\n'
                  '    with tf.GradientTape() as tape:\n'
                  '        H = tf.math.sigmoid(tf.constant(X, dtype=tf.float64) @ variables[0] + '
                  'variables[1])\n'
                  '        Y_hat = tf.math.sigmoid(H @ variables[2] + variables[3])\n'
                  '        loss = tf.reduce_mean(tf.square(Y_hat - tf.constant(Y, dtype=tf.float64)))\n'
                  '    return [g.numpy() for g in tape.gradient(loss, variables)]'),
                 ('train',
                  'import copy\n'
                  '\n'
                  '\n'
                  'def train(params, X, Y, learning_rate, iterations, gradient_fn):\n'
                  '    params = copy.deepcopy([np.asarray(p, dtype=float) for p in params])\n'
                  '    loss_trace = []\n'
                  '    for step in range(iterations):\n'
                  '        _, Y_hat = forward(params, X)\n'
                  '        loss_trace.append(float(np.mean((Y_hat - Y) ** 2)))\n'
                  '        grads = gradient_fn(params, X, Y)\n'
                  '        for i, g in enumerate(grads):\n'
                  '            params[i] = params[i] - learning_rate * g\n'
                  '        del grads\n'
                  '        if step % 100 == 0:\n'
                  '            print(f"step {step}: loss = {loss_trace[-1]:.5f}")\n'
                  '    return params, loss_trace'),
                 ('train',
                  'from tqdm.auto import tqdm\n'
                  '\n'
                  '\n'
                  'def train(params, X, Y, learning_rate, iterations, gradient_fn):\n'
                  '    params = [np.array(p, dtype=float) for p in params]\n'
                  '    loss_trace = []\n'
                  '    for _ in tqdm(range(iterations), disable=iterations < 1000):\n'
                  '        Y_hat = forward(params, X)[1]\n'
                  '        loss_trace.append(np.mean(np.square(Y_hat - Y)))\n'
                  '        params = list(map(lambda pg: pg[0] - learning_rate * pg[1], zip(params, '
                  'gradient_fn(params, X, Y))))\n'
                  '    return params, loss_trace'),
                 ('xor_settings',
                  'XOR_LEARNING_RATE: float = 10.0\n'
                  'XOR_ITERATIONS: int = 300\n'
                  'print(f"lr={XOR_LEARNING_RATE}, iterations={XOR_ITERATIONS}")'),
                 ('xor_settings',
                  'from dataclasses import dataclass\n'
                  '\n'
                  '\n'
                  '@dataclass\n'
                  'class Settings:\n'
                  '    learning_rate: float = 10.0\n'
                  '    iterations: int = 300\n'
                  '\n'
                  '\n'
                  'settings = Settings()\n'
                  'XOR_LEARNING_RATE = settings.learning_rate\n'
                  'XOR_ITERATIONS = settings.iterations'),
                 ('xor_settings',
                  'class Config:\n'
                  '    LEARNING_RATE = 10.0\n'
                  '    ITERATIONS = 300\n'
                  '\n'
                  '\n'
                  'XOR_LEARNING_RATE = Config.LEARNING_RATE\n'
                  'XOR_ITERATIONS = Config.ITERATIONS'),
                 ('numerical_gradient',
                  'import copy\n'
                  'import itertools\n'
                  '\n'
                  '\n'
                  'def numerical_gradient(f, params, h=1e-5):\n'
                  '    grads = []\n'
                  '    for k, p in enumerate(params):\n'
                  '        grad = np.zeros(p.shape)\n'
                  '        for index in itertools.product(*(range(n) for n in p.shape)):\n'
                  '            plus = copy.deepcopy(params)\n'
                  '            minus = copy.deepcopy(params)\n'
                  '            plus[k][index] += h\n'
                  '            minus[k][index] -= h\n'
                  '            grad[index] = (f(plus) - f(minus)) / (2 * h)\n'
                  '        grads.append(grad)\n'
                  '    return grads'),
                 ('numerical_gradient',
                  'def numerical_gradient(f, params, h=1e-5):\n'
                  '    grads = [np.zeros_like(p, dtype=float) for p in params]\n'
                  '    for p, g in zip(params, grads):\n'
                  '        it = np.nditer(p, flags=["multi_index"], op_flags=["readwrite"])\n'
                  '        while not it.finished:\n'
                  '            i = it.multi_index\n'
                  '            old = p[i]\n'
                  '            p[i] = old + h\n'
                  '            up = f(params)\n'
                  '            p[i] = old - h\n'
                  '            down = f(params)\n'
                  '            p[i] = old\n'
                  '            g[i] = (up - down) / (2 * h)\n'
                  '            it.iternext()\n'
                  '    return grads'),
                 ('extra:train',
                  '%matplotlib inline\n'
                  'import warnings\n'
                  '\n'
                  'warnings.filterwarnings("ignore", category=RuntimeWarning)\n'
                  'np.random.seed(1)\n'
                  'start = [np.random.normal(size=s) for s in [(2, 2), (2,), (2, 1), (1,)]]\n'
                  'X4 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)\n'
                  'Y4 = np.array([[0], [1], [1], [0]], dtype=float)\n'
                  '_, trace = train(start, X4, Y4, 10.0, 300, backprop)\n'
                  'plt.plot(trace)\n'
                  'plt.yscale("log")\n'
                  'plt.show()'),
                 ('extra:numerical_gradient',
                  '%%time\n'
                  'X4 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)\n'
                  'Y4 = np.array([[0], [1], [1], [0]], dtype=float)\n'
                  'p0 = [np.full((2, 2), 0.1), np.zeros(2), np.full((2, 1), 0.2), np.zeros(1)]\n'
                  'num = numerical_gradient(lambda ps: np.mean((forward(ps, X4)[1] - Y4) ** 2), p0)\n'
                  'ana = backprop(p0, X4, Y4)\n'
                  'for a, b in zip(num, ana):\n'
                  '    assert np.allclose(a, b, atol=1e-6), (a, b)\n'
                  'print("OK")'),
                 ('train',
                  'import functools\n'
                  'import time\n'
                  '\n'
                  '\n'
                  'def timed(fn):\n'
                  '    @functools.wraps(fn)\n'
                  '    def wrapper(*args, **kwargs):\n'
                  '        t0 = time.perf_counter()\n'
                  '        result = fn(*args, **kwargs)\n'
                  '        print(f"{fn.__name__}: {time.perf_counter() - t0:.3f}s")\n'
                  '        return result\n'
                  '    return wrapper\n'
                  '\n'
                  '\n'
                  '@timed\n'
                  'def train(params, X, Y, learning_rate, iterations, gradient_fn):\n'
                  '    params = [np.array(p, dtype=float) for p in params]\n'
                  '    loss_trace = []\n'
                  '    for _ in range(iterations):\n'
                  '        loss_trace.append(np.mean((forward(params, X)[1] - Y) ** 2))\n'
                  '        params = [p - learning_rate * g for p, g in zip(params, gradient_fn(params, X, '
                  'Y))]\n'
                  '    return params, loss_trace'),
                 ('extra:train',
                  'import timeit\n'
                  '\n'
                  'X4 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)\n'
                  'Y4 = np.array([[0], [1], [1], [0]], dtype=float)\n'
                  'p0 = [np.full((2, 2), 0.3), np.zeros(2), np.full((2, 1), -0.2), np.zeros(1)]\n'
                  'print(timeit.timeit(lambda: backprop(p0, X4, Y4), number=100))'),
                 ('sigmoid_derivative',
                  'import math\n'
                  '\n'
                  '\n'
                  'def sigmoid_derivative(z):\n'
                  '    z = np.asarray(z, dtype=float)\n'
                  '    s = np.vectorize(lambda v: 1 / (1 + math.exp(-v)) if v > -700 else 0.0, '
                  'otypes=[float])(z)\n'
                  '    return s * (1 - s)')],
 '06_keras_vs_ols': [('ols_coefficients',
                      'def ols_coefficients(data, target, columns):\n'
                      '    formula = f"{target} ~ {\' + \'.join(columns)}"\n'
                      '    return smf.ols(formula, data=data).fit().params.to_numpy()'),
                     ('ols_coefficients',
                      'import statsmodels.api as sm\n'
                      '\n'
                      '\n'
                      'def ols_coefficients(data, target, columns):\n'
                      '    X = sm.add_constant(data[list(columns)].astype(float), has_constant="add")\n'
                      '    return sm.OLS(data[target].astype(float), X).fit().params.to_numpy()'),
                     ('ols_coefficients',
                      'from sklearn.linear_model import LinearRegression\n'
                      '\n'
                      '\n'
                      'def ols_coefficients(data, target, columns):\n'
                      '    reg = LinearRegression().fit(data[list(columns)].to_numpy(dtype=float), '
                      'data[target].to_numpy(dtype=float))\n'
                      '    return np.r_[reg.intercept_, reg.coef_]'),
                     ('ols_coefficients',
                      'import statsmodels.formula.api as smf\n'
                      '\n'
                      '\n'
                      'def ols_coefficients(data, target, columns):\n'
                      '    model = smf.ols(target + " ~ " + " + ".join(columns), data)\n'
                      '    return np.asarray(model.fit().params, dtype=float)'),
                     ('ols_coefficients',
                      'def ols_coefficients(data, target, columns):\n'
                      '    X = np.column_stack([np.ones(len(data))] + [data[c].to_numpy(dtype=float) for c '
                      'in columns])\n'
                      '    y = data[target].to_numpy(dtype=float)\n'
                      '    return np.linalg.solve(X.T @ X, X.T @ y)'),
                     ('build_linear_model',
                      'def build_linear_model(n_features, use_bias=True):\n'
                      '    inputs = keras.Input(shape=(n_features,))\n'
                      '    outputs = keras.layers.Dense(1, use_bias=use_bias, activation=None)(inputs)\n'
                      '    return keras.Model(inputs=inputs, outputs=outputs)'),
                     ('build_linear_model',
                      'class LinearNet(keras.Model):\n'
                      '    def __init__(self, use_bias=True):\n'
                      '        super().__init__()\n'
                      '        self.dense = keras.layers.Dense(1, use_bias=use_bias)\n'
                      '\n'
                      '    def call(self, x):\n'
                      '        return self.dense(x)\n'
                      '\n'
                      '\n'
                      'def build_linear_model(n_features, use_bias=True):\n'
                      '    model = LinearNet(use_bias)\n'
                      '    model.build((None, n_features))\n'
                      '    return model'),
                     ('build_linear_model',
                      'from tensorflow.keras import layers\n'
                      '\n'
                      '\n'
                      'def build_linear_model(n_features: int, use_bias: bool = True) -> keras.Model:\n'
                      '    return tf.keras.Sequential([tf.keras.Input(shape=(n_features,)), layers.Dense(1, '
                      'use_bias=use_bias)])'),
                     ('fit_linear_network',
                      'from sklearn.preprocessing import StandardScaler\n'
                      '\n'
                      '\n'
                      'def fit_linear_network(X, y):\n'
                      '    X = np.asarray(X, dtype=float)\n'
                      '    y = np.asarray(y, dtype=float)\n'
                      '    scaler = StandardScaler().fit(X)\n'
                      '    keras.utils.set_random_seed(0)\n'
                      '    model = keras.Sequential([keras.Input(shape=(X.shape[1],)), '
                      'keras.layers.Dense(1)])\n'
                      '    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5, momentum=0.5), '
                      'loss="mse")\n'
                      '    history = model.fit(scaler.transform(X), y, batch_size=len(y), epochs=20, '
                      'verbose=0)\n'
                      '    print("마지막 손실:", history.history["loss"][-1])\n'
                      '    kernel, bias = model.layers[0].get_weights()\n'
                      '    w = kernel[:, 0] / scaler.scale_\n'
                      '    b = bias[0] - np.sum(w * scaler.mean_)\n'
                      '    return model, np.concatenate([[b], w])'),
                     ('fit_linear_network',
                      'def fit_linear_network(X, y):\n'
                      '    X = np.asarray(X, dtype=float)\n'
                      '    y = np.asarray(y, dtype=float)\n'
                      '    mean, std = X.mean(axis=0), X.std(axis=0)\n'
                      '    np.random.seed(0)\n'
                      '    tf.random.set_seed(0)\n'
                      '    model = keras.Sequential([keras.Input(shape=(X.shape[1],)), '
                      'keras.layers.Dense(1)])\n'
                      '    opt = keras.optimizers.SGD(momentum=0.5)\n'
                      '    opt.learning_rate = 0.5\n'
                      '    model.compile(optimizer=opt, loss="mse")\n'
                      '    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=20)\n'
                      '    model.fit((X - mean) / std, y, batch_size=len(y), epochs=20, verbose=0, '
                      'callbacks=[stop])\n'
                      '    kernel, bias = model.get_weights()\n'
                      '    w = kernel.ravel() / std\n'
                      '    return model, np.r_[bias[0] - w @ mean, w]'),
                     ('fit_linear_network',
                      'def _standardize(X):\n'
                      '    m = X.mean(axis=0)\n'
                      '    s = X.std(axis=0)\n'
                      '    return (X - m) / s, m, s\n'
                      '\n'
                      '\n'
                      'def fit_linear_network(X, y):\n'
                      '    X_s, m, s = _standardize(np.asarray(X, dtype=float))\n'
                      '    keras.utils.set_random_seed(0)\n'
                      '    model = build_linear_model(X_s.shape[1])\n'
                      '    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5, momentum=0.5), '
                      'loss="mse")\n'
                      '    model.fit(X_s, np.asarray(y, dtype=float), batch_size=len(X_s), epochs=20, '
                      'verbose=0)\n'
                      '    kernel, bias = model.layers[-1].get_weights()\n'
                      '    w = kernel[:, 0] / s\n'
                      '    return model, np.r_[bias[0] - np.sum(w * m), w]'),
                     ('ols_network',
                      'def ols_network(params):\n'
                      '    params = np.asarray(params, dtype=float)\n'
                      '    model = build_linear_model(len(params) - 1)\n'
                      '    dense = model.layers[-1]\n'
                      '    dense.kernel.assign(params[1:].reshape(-1, 1))\n'
                      '    dense.bias.assign(params[:1])\n'
                      '    return model'),
                     ('ols_network',
                      'def ols_network(params):\n'
                      '    intercept, *slopes = [float(p) for p in params]\n'
                      '    model = keras.Sequential([keras.Input(shape=(len(slopes),)), '
                      'keras.layers.Dense(1)])\n'
                      '    model.set_weights([np.array(slopes).reshape(-1, 1), np.array([intercept])])\n'
                      '    return model'),
                     ('build_hidden_network',
                      'def build_hidden_network(n_features):\n'
                      '    model = keras.Sequential([keras.Input(shape=(n_features,))])\n'
                      '    for units in [16, 32, 16]:\n'
                      '        model.add(keras.layers.Dense(units, activation="relu"))\n'
                      '    model.add(keras.layers.Dense(1))\n'
                      '    return model'),
                     ('build_hidden_network',
                      'def build_hidden_network(n_features):\n'
                      '    x = inputs = keras.Input(shape=(n_features,))\n'
                      '    for i, units in enumerate((16, 32, 16), start=1):\n'
                      '        x = keras.layers.Dense(units, activation=tf.nn.relu, name=f"h{i}")(x)\n'
                      '    return keras.Model(inputs, keras.layers.Dense(1)(x))'),
                     ('hidden_output',
                      'def hidden_output(model, x, i):\n'
                      '    probe = keras.Model(model.inputs, model.layers[i].output)\n'
                      '    return probe.predict(np.asarray(x, dtype="float32"), verbose=0)'),
                     ('hidden_output',
                      'def hidden_output(model, x, i):\n'
                      '    a = tf.constant(np.asarray(x, dtype="float32"))\n'
                      '    for layer in model.layers[: i + 1]:\n'
                      '        a = layer(a)\n'
                      '    return a.numpy()'),
                     ('extra:ols_coefficients',
                      'summary = crime.describe().T\n'
                      'summary.columns = [c.upper() for c in summary.columns]\n'
                      'summary'),
                     ('extra:ols_coefficients', 'crime.query("violent > 1000")'),
                     ('extra:build_hidden_network',
                      'relu_network = build_hidden_network(5)\nrelu_network.summary()'),
                     ('fit_linear_network',
                      'class LossHistory(keras.callbacks.Callback):\n'
                      '    def __init__(self):\n'
                      '        super().__init__()\n'
                      '        self.losses = []\n'
                      '\n'
                      '    def on_epoch_end(self, epoch, logs=None):\n'
                      '        self.losses.append(logs["loss"])\n'
                      '\n'
                      '\n'
                      'def fit_linear_network(X, y):\n'
                      '    X = np.asarray(X, dtype=float)\n'
                      '    y = np.asarray(y, dtype=float)\n'
                      '    m, s = X.mean(axis=0), X.std(axis=0)\n'
                      '    keras.utils.set_random_seed(0)\n'
                      '    model = keras.Sequential([keras.Input(shape=(X.shape[1],)), '
                      'keras.layers.Dense(1)])\n'
                      '    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5, momentum=0.5), '
                      'loss="mse")\n'
                      '    log = LossHistory()\n'
                      '    model.fit((X - m) / s, y, batch_size=len(y), epochs=20, verbose=0, '
                      'callbacks=[log])\n'
                      '    assert len(log.losses) == 20\n'
                      '    kernel, bias = model.layers[0].get_weights()\n'
                      '    w = kernel[:, 0] / s\n'
                      '    return model, np.r_[bias[0] - np.sum(w * m), w]'),
                     ('extra:fit_linear_network',
                      'import contextlib\n'
                      'import io\n'
                      '\n'
                      'with contextlib.redirect_stdout(io.StringIO()):\n'
                      '    net, coefs = fit_linear_network(crime[["poverty", "single"]].to_numpy(), '
                      'crime["violent"].to_numpy())\n'
                      'print(coefs)'),
                     ('extra:ols_network',
                      'net = ols_network([1.0, 2.0, 3.0])\n'
                      'net.layers[0].trainable = False\n'
                      'net.compile(optimizer="sgd", loss="mse")\n'
                      'net.save("ols_net.keras")\n'
                      'same = keras.models.load_model("ols_net.keras")\n'
                      'print(same.predict(np.array([[1.0, 1.0]]), verbose=0))'),
                     ('extra:hidden_output', '%%capture training_log\n!pip list'),
                     ('build_linear_model',
                      'class MyDense(keras.layers.Layer):\n'
                      '    def __init__(self, use_bias=True, **kwargs):\n'
                      '        super().__init__(**kwargs)\n'
                      '        self.use_bias = use_bias\n'
                      '\n'
                      '    def build(self, input_shape):\n'
                      '        self.w = self.add_weight(shape=(input_shape[-1], 1), '
                      'initializer="glorot_uniform")\n'
                      '        if self.use_bias:\n'
                      '            self.b = self.add_weight(shape=(1,), initializer="zeros")\n'
                      '\n'
                      '    def call(self, x):\n'
                      '        return x @ self.w + self.b if self.use_bias else x @ self.w\n'
                      '\n'
                      '\n'
                      'def build_linear_model(n_features, use_bias=True):\n'
                      '    return keras.Sequential([keras.Input(shape=(n_features,)), MyDense(use_bias)])'),
                     ('extra:fit_linear_network',
                      'model_a, coefs_a = fit_linear_network(crime[["poverty", "single"]].to_numpy(), '
                      'crime["violent"].to_numpy())\n'
                      'for layer in model_a.layers:\n'
                      '    layer.trainable = False\n'
                      'print(model_a.optimizer.get_config()["learning_rate"], coefs_a.round(2))')]}
