"""Code a forged score needs is flagged at intake, by reading it (no kernel); honest code never
is; a flagged submission's score is withheld until the instructor accepts or rejects it."""
import csv
import functools

import honest_answers
import nbformat
import pytest
from conftest import LESSONS, own_code_overrides

from course import cells, gradebook, submissions
from course.cli import main
from course.demo import make_course
from course.grade import grade
from course.integrity import review
from course.kernel_zygote import formula_term_problem
from course.nbgrader_plugins import ResilientExecute
from course.paths import REPOSITORY_ROOT, release_notebook, source_notebook
from course.status import Status

LESSON = "01_parameters"

ATTACKS = {  # kind 1 of the integrity issue, in several spellings each
    "Keras' epsilon": "import keras\nkeras.config.set_epsilon(0.5)",  # every reference cross-entropy is log 2
    "Keras' floatx": "import keras\nkeras.backend.set_floatx('float16')",
    "TensorFlow's NumPy behaviour": "import tensorflow as tf\ntf.experimental.numpy.experimental_enable_numpy_behavior()",
    "a pandas option beyond display": "import pandas as pd\npd.options.mode.copy_on_write = print",
    "rebind a check helper": "def check_equal(*a, **k):\n    pass",
    # round 14: input() while a check calls the answer wrote the kernel's side of the checks' channel
    "answer for the checks on their channel": "import json\n\ndef dense_params(inputs, units):\n"
    "    input(json.dumps({'op': 'result', 'value': (inputs + 1) * units}))\n    return 0",
    "the channel taken as a value": "ask = input",
    "rebind with assignment": "check_array = lambda *a, **k: None",
    "rebind the private helper": "_fail = print",
    "rebind the exception": "class CheckFailed(Exception):\n    pass",
    "rebind numpy": "import numpy as np\nnp = type('np', (), {'allclose': staticmethod(lambda *a, **k: True)})",
    "patch numpy": "import numpy as np\nnp.allclose = lambda *a, **k: True",
    "patch numpy via alias": "import numpy\nnumpy.isclose = lambda *a, **k: True",
    "patch keras": "import keras\nkeras.layers.Layer.count_params = lambda self: 9",
    "patch by setattr": "import numpy as np\nsetattr(np, 'all', lambda *a: True)",
    "patch a model's method": "def nine():\n    return 9\nmodel.count_params = nine",
    "input transformer": "get_ipython().input_transformers_post.append(lambda lines: [])",
    "cleanup transformer": "ip = get_ipython()\nip.input_transformers_cleanup.insert(0, lambda l: [])",
    "ast transformer": "from IPython import get_ipython\nget_ipython().ast_transformers.append(object())",
    "custom exception handler": "get_ipython().set_custom_exc((Exception,), lambda *a, **k: [])",
    "post_run_cell hook": "get_ipython().events.register('post_run_cell', lambda r: None)",
    "ExecutionResult": "from IPython.core.interactiveshell import ExecutionResult\nExecutionResult.success = True",
    "frame reading __int__": "import sys\nclass Sly:\n    def __int__(self):\n        return sys._getframe(1).f_locals['expected']",
    "frame reading numpy()": "import inspect\nclass Sly:\n    def numpy(self):\n        return inspect.stack()[1].frame.f_locals['expected']",
    "comparison hook": "class Always:\n    def __eq__(self, other):\n        return True",
    "dynamic import": "frames = getattr(__import__('sy' + 's'), '_get' + 'frame')",
    "eval": "eval('get' + '_ipython()')",
    "globals": "globals()['check_equal'] = print",
    "builtins": "import builtins\nbuiltins.isinstance = lambda *a: True",
    "sys.modules": "import sys\nsys.modules['numpy'].allclose = lambda *a, **k: True",
    "ignore SIGINT": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)",
    "a thread that prints later": "import threading\nthreading.Timer(5, print, ['x']).start()",
    "read the gc": "import gc\nleak = gc.get_objects()",
    "script in the feedback": "from IPython.display import Javascript, display\ndisplay(Javascript('alert(1)'))",
    "update a display": "from IPython.display import display, update_display\nupdate_display('x', display_id='d')",
    "input history": "print(In[-1])",
    "numbered input": "print(_i12)",
    "history list": "for source in _ih:\n    print(source)",
    # rebinding by every binding form
    "walrus": "(check_equal := print)",
    "walrus in a comprehension": "[check_equal := print for _ in range(1)]",
    "for target": "for check_equal in [print]:\n    pass",
    "with target": "with open('x') as check_array:\n    pass",
    "except target": "try:\n    1 / 0\nexcept ZeroDivisionError as check_equal:\n    pass",
    "global in a nested function": "def setup():\n    global check_equal\n\n    def check_equal(*a):\n"
                                   "        pass\n\nsetup()",
    "del": "del check_equal",
    "import as a helper": "from numpy import allclose as check_array",
    "rebind get_ipython": "def get_ipython():\n    return None",
    # dunders, read, written or named in strings
    "__defaults__": "check_array.__defaults__ = (1e300, 1e300, '')",
    "__setattr__": "np.__setattr__('all', lambda *a, **k: True)",
    "__dict__": "np.__dict__['allclose'] = print",
    "__class__": "x = (1).__class__",
    "dunder in a string": "Sly = type('Sly', (int,), {'__int__': lambda self: 3})",
    "conversion hook": "class Sly:\n    def __float__(self):\n        return 1.0",
    # magics: code a magic runs is read; unknown magics are flagged
    "time magic": "%time get_ipython().input_transformers_post.append(lambda lines: [])",
    "timeit magic with options": "%timeit -n1 -r1 get_ipython().events.register('post_run_cell', print)",
    "capture cell magic": "%%capture out\nget_ipython().input_transformers_post.append(lambda l: [])",
    "automagic one-liner": "time get_ipython().input_transformers_post.append(lambda lines: [])",
    "run a file": "%run helper.py",
    "write a file magic": "%%writefile helper.py\nx = 1",
    "javascript magic": "%%javascript\nalert(1)",
    "config the shell": "%config InteractiveShell.ast_node_interactivity = 'none'",
    # modules outside the course's list, and process functions of os
    "timeit": "import timeit\ntimeit.timeit('1', number=1)",
    "logging frames": "import logging\nframe = logging.currentframe()",
    "operator": "import operator\nget = operator.attrgetter('f_back')",
    "linecache": "import linecache\ncache = linecache.cache",
    "own module": "import helper",
    "own module, star": "from tools import *",
    "relative import": "from . import tools",
    "os.posix_spawn": "import os, sys\nos.posix_spawn(sys.executable, [sys.executable], {})",
    "os.memfd_create": "import os\nfd = os.memfd_create('x')",
    "from os import system": "from os import system\nsystem('ls')",
    "sys internals": "import sys\nmodules = sys.modules",
    "history in a function": "def peek():\n    return In[-1]",
    # a second hostile review: the checks' own reference functions, patching through a name the
    # student binds, IPython's shell reached through another module, frames through traceback
    "call the test's reference": "def dense_params(inputs, units):\n    return keras_dense_params(inputs, units)",
    "call a check helper": "def forward_pass(x, weights):\n    return layer_outputs(x, weights)",
    "patch through an alias of a class": "layer_class = keras.layers.Layer\nlayer_class.count_params = lambda self: 0",
    "patch through an alias of numpy": "numeric = np\ndef close_enough(a, b, **options):\n    return numeric.ones(numeric.shape(a), dtype=bool)\n"
                                       "numeric.isclose = close_enough",
    "patch through a container": "holders = [np]\nholders[0].isclose = print",
    "patch an argument": "def patch(target, replacement):\n    target.isclose = replacement\npatch(np, print)",
    "shell through a module": "shell = widgets.get_ipython()\nshell.input_transformer_manager.cleanup_transforms.append(len)",
    "showtraceback and events": "shell = widgets.get_ipython()\nshell.showtraceback = print\nshell.events.register('post_run_cell', print)",
    # round 12: the training record edited where it lives, so that its replay learns
    "the training record edited": "keras.Model.fit.fits[model][0].update(epochs=20, batch_size=1)",
    "the training record by name": "record = getattr(keras.Model.fit, 'fits')\nrecord.clear()",
    "the stack through an own traceback import": "import traceback\n\ndef dense_params(inputs, units):\n    return [f.filename for f in traceback.extract_stack()]",
    "the checks' traceback module": "def dense_params(inputs, units):\n    return [f.filename for f in traceback.extract_stack()]",
    # a third: built-ins the helpers use, patching through a call's result, setattr as a value,
    # sys reached through os
    "rebind a built-in the checks use": "isinstance = lambda *args: False\ndef dense_params(inputs, units):\n    return np.ma.masked",
    "rebind float": "float = bool",
    "a built-in imported under its name": "from numpy import ones as len",
    "patch through a call's result": "box = list([np, keras])\nbox[0].isclose = (lambda f: f)(lambda a, b, **k: True)",
    "patch with a computed value": "m = (lambda: np)()\nm.isclose = dict(f=print)['f']",
    "setattr as a value": "import functools\n@functools.partial(setattr, np, 'isclose')\ndef close(a, b, **k):\n    return True",
    "setattr through map": "list(map(setattr, [np], ['isclose'], [print]))",
    "sys through os": "import os\ncache = os.sys.modules.get('line' + 'cache')",
    # a fourth: library functions that set attributes by name, run text as Python or load pickles,
    # and classes that answer for a model
    "update_wrapper sets __code__": "import functools\nname = '_' * 2 + 'code' + '_' * 2\n"
                                    "functools.update_wrapper(keras.layers.Layer.count_params, lambda self: 9, "
                                    "assigned=(name,), updated=())",
    "update_wrapper imported": "from functools import update_wrapper\nupdate_wrapper(np, print)",
    "wraps applied to a module": "import functools\nclass Fake:\n    isclose = print\nfunctools.wraps(Fake)(np)",
    "Formatter reaches any attribute": "import string\nfield = string.Formatter().get_field('0.f', [np], {})",
    "Formatter imported": "from string import Formatter",
    "annotations run as code": "import typing\ndef f(x: 'print(1)'):\n    pass\ntyping.get_type_hints(f)",
    "a forward reference": "from typing import ForwardRef\nref = ForwardRef('print(1)')",
    "pandas runs text": "import pandas as pd\npd.eval('check' + '_equal')",
    "a frame's query": "import pandas as pd\npd.DataFrame({'a': [1]}).query('@np.allclose(a, 0)')",
    "a frame's query reading an attribute": "import pandas as pd\npd.DataFrame({'a': [1]}).eval('a.dtype')",
    "a pickle through pandas": "import pandas as pd\nloaded = pd.read_pickle('answer.pkl')",
    "a pickle through numpy": "loaded = np.load('answer.npy', allow_pickle=True)",
    "a pickle allowed by a name": "unsafe = True\nloaded = np.load('answer.npy', allow_pickle=unsafe)",
    "a pickle allowed by position": "loaded = np.load('answer.npy', None, True)",
    "a pickle read by numpy's format": "loaded = np.lib.format.read_array(open('a.npy', 'rb'), True)",
    "a pickle allowed by unpacking": "options = {'allow_pickle': True}\nloaded = np.load('answer.npy', **options)",
    "keras without safe mode": "model = keras.models.load_model('m.keras', safe_mode=False)",
    "keras unsafe deserialization": "keras.config.enable_unsafe_deserialization()",
    "a model that counts what it is told": "class Net(keras.Model):\n    def count_params(self):\n        return 9",
    "a fake model": "class Fake:\n    layers = []\n\n    def get_weights(self):\n        return []",
    # frames and namespaces by routes the first rules did not know (review, round 9)
    "an async generator's frame": "async def g():\n    yield 1\n\nb = g().ag_frame.f_builtins",
    "a built-in out of a namespace by its name": "d = {}\nrun = d['ex' + 'ec']",
    "the builtins module by its name": "b = __builtins__",
    "a frame by attrgetter": "import operator\nback = operator.attrgetter('f_back')",
    "every object through gc": "import gc\nobjects = gc.get_objects()",
    "timeit running text": "import timeit\ntimeit.timeit('check_equal = print', number=1)",
    "IPython's display module beyond showing": "from IPython import display\ndisplay.HTML('<b>x</b>')",
    "a variable set on a numpy name": "def g():\n    return np\n\nholder = g()\nalways = print\nholder.allclose = always",
    "a record with a field the checks read": "import collections\nFake = collections.namedtuple('Fake', 'get_weights')",
    "a data class reached for a method": "class Box:\n    def put(self, value):\n        self.allclose = value\n\n"
                                         "Box.put(np, print)",
    "a class reached through type()": "def dense_params(inputs, units):\n    cls = type(keras.layers.Dense(1))\n"
                                      "    counted = property(len)\n    cls.weights = counted\n    return 0",
    "a method replaced by a name for a function": "def g(layer, x):\n    return x\n\nplain = g\n"
                                                  "keras.layers.Dense(1).call = plain",
    "a quantizing dtype policy": "keras.config.set_dtype_policy('int8_from_float32')",
    "a property the checks read": "class Wrapped(keras.Sequential):\n    @property\n    def weights(self):\n        return []",
    "an array that lies": "class Sly(np.ndarray):\n    def tolist(self):\n        return [9]",
    # modules and built-ins the review flags, reached as attributes of the modules it allows
    "built-ins through numpy": "np.ma.core.builtins.exec('check_equal = print')",
    "pickle through pandas": "loaded = pd.io.pickle.pickle.loads(bytes((128, 4)))",
    "marshal through keras": "code = keras.src.utils.python_utils.marshal.loads(bytes(16))",
    "types through a module": "make = np.compat.types.FunctionType",
    "exec held by a module": "holder = np.ma.core\nholder.exec('x = 1')",
    "an annotation run by singledispatch": "import functools\n@functools.singledispatch\ndef f(x):\n    pass\n"
                                           "@f.register\ndef _(x: 'print(1) or int'):\n    pass",
    "a return annotation as text": "def f(x) -> 'print(1)':\n    pass",
    "a variable annotation as text": "x: 'print(1)' = 1",
    "native code through tensorflow": "import tensorflow as tf\nops = tf.load_op_library('./ops.so')",
    "native code through numpy": "lib = np.ctypeslib.load_library('ops', '.')",
    "memory at any address": "view = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(10 ** 6,))",
    "a template that runs code": "import pandas as pd\nStyled = pd.io.formats.style.Styler.from_custom_template('.', 't.tpl')",
    "keras loads a function": "f = keras.src.utils.python_utils.func_load(b'')",
    "a statsmodels pickle": "import statsmodels.api as sm\nresults = sm.load('results.pickle')",
    # a fourth hostile review: numpy.testing running text in the caller's namespace, warnings
    # reading the test cell's source from linecache
    "numpy.testing runs text": "np.testing.measure('check_equal = lambda *a, **k: None')",
    "numpy.testing runs a string": "np.testing.runstring('x = 1', {})",
    "a warning names the test's frame": "import warnings\ndef build_model(n):\n    warnings.warn('where', stacklevel=3)",
    "a warning's source line": "import warnings\nline = warnings.formatwarning('m', UserWarning, 'f.py', 3)",
    "a warning shown elsewhere": "import warnings\nwarnings.showwarning('m', UserWarning, 'f.py', 3)",
    "keras internals": "utils = keras.src.utils",
    "tensorflow internals": "import tensorflow as tf\nstack = tf.python.util.tf_stack",
    "a library's private module": "utils = np.testing._private.utils",
    "traceback through a module": "tb = np.testing._private.utils.traceback",
    "numpy's core": "umath = np._core.umath",
    # a fifth: attributes bound by other binding forms, the shell reached through widgets
    "patch as a for target": "for keras.layers.Dense.count_params in [lambda self: 0]:\n    pass",
    "patch as a with target": "class Box:\n    def __init__(self, v):\n        self.v = v\n\n    def __enter__(self):\n"
                              "        return self.v\n\n    def __exit__(self, *a):\n        return False\n\n"
                              "with Box(print) as np.isclose:\n    pass",
    "patch as a comprehension target": "[None for np.isclose in [print]]",
    "patch in a nested unpacking": "a, (np.isclose, b) = 1, (print, 2)",
    "patch as a starred target": "a, *np.isclose = 1, print",
    "a hook bound by assignment": "class Sly(int):\n    __ne__ = lambda self, other: False",
    "a fake method on self": "class Fake:\n    def __init__(self):\n        self.count_params = lambda: 9",
    "the shell through widgets": "shell = widgets.widgets.widget_output.InteractiveShell.instance()\n"
                                 "code = shell.get_parent()['content']['code']",
    "the kernel through a widget's comm": "w = widgets.IntSlider()\nrequest = w.comm.kernel.get_parent()",
    # a sixth: a method of the student's own class called with a module as self
    "a method called with a module as self": "class Box:\n    def put(self, value):\n        self.all = value\n\n"
                                             "Box.put(np, print)",
    "a method taken from its class": "class Box:\n    def put(self, value):\n        self.prod = value\n\n"
                                     "store = Box.put\nlist(map(store, [np], [len]))",
    "a constructor called on a module": "class Box:\n    def __init__(self, value):\n        self.prod = value\n\n"
                                        "Box.__init__(np, len)",
    "a static method that patches": "class Box:\n    @staticmethod\n    def put(target, value):\n"
                                    "        target.isclose = value\n\nBox().put(np, print)",
    "a method through type()": "class Box:\n    def put(self, value):\n        self.all = value\n\n"
                               "type(Box()).put(np, print)",
    # a seventh: the lesson's own names the test cells compute their expected values with
    "a fake keras": "from collections import namedtuple\nimport keras as real\nKit = namedtuple('Kit', 'layers Sequential Input')\n"
                    "keras = Kit(real.layers, real.Sequential, real.Input)",
    "keras as a loop target": "for keras in [None]:\n    pass",
    "another module as keras": "import tensorflow as keras",
    "a numpy submodule as np": "import numpy.ma as np",
    "a numpy submodule from numpy": "from numpy import ma as np",
    # an eighth: a method's function kept from its class body, fake models from field names, a
    # faked update count, internals reached through an import's path
    "a method kept from its class body": "patches = []\n\nclass Patch:\n    def put(self, value):\n"
                                         "        self.weights = value\n    patches.append(put)\n\n"
                                         "patches[0](keras.layers.Layer, [])",
    "a method aliased in its class body": "class Patch:\n    def put(self, value):\n        self.isclose = value\n"
                                          "    alias = put",
    "a fake model from a namedtuple": "import collections\nFake = collections.namedtuple('Fake', ['get_weights', 'optimizer'])",
    "a fake model from a text of fields": "from collections import namedtuple\nFake = namedtuple('Fake', 'layers count_params')",
    "a fake update count": "celsius_model.optimizer.iterations.assign(20)",
    "keras internals by import": "from keras.src.utils import summary_utils",
    "numpy internals by import": "from numpy._core import umath",
    "the kernel's own memory": "with open('/proc/self/mem', 'rb') as memory:\n    memory.seek(4096)",
    "the kernel's memory map": "regions = open('/proc/self/maps').read()",
    "pandas' frame scope": "import pandas as pd\nscope = pd.core.computation.scope.Scope(level=1)",
    # the kernels trust cells that start as the graded test cells and the checks cell do
    "a cell that starts as a graded test cell": "@lambda test_cell: test_cell()\ndef test_cell():\n"
                                                "    global relu\n    def relu(x):\n        return x",
    "a cell that starts as the checks cell": "# 채점 도우미(check helpers)\nW = 1",
    # statsmodels' formulas evaluated in a frame further up the stack: the test cell's names
    "a formula evaluated in the caller's frame": "import statsmodels.formula.api as smf\n"
                                                 "def f(X):\n    return smf.ols('y ~ I(expected) - 1', "
                                                 "data={'y': [0]}, eval_env=2)",
    # a format string's fields reach attributes the reading sees only as text
    "a frame through a format string": "def leak():\n    try:\n        raise ValueError\n"
                                       "    except ValueError as error:\n"
                                       "        return '{0.__traceback__.tb_frame.f_back}'.format(error)",
}

HONEST = {  # other ways to write a right answer: never flagged
    # the tests make their own data (tests/test_lessons.py), so a student may reuse the lesson's names
    "the lesson's weights bound again": "W0 = np.zeros((1, 4))",
    "a pandas display option": "import pandas as pd\npd.options.display.precision = 3\npd.set_option('display.max_rows', 20)",
    # the checks import these libraries too: the student's own import is the same module
    "a library the checks import, imported again": "import warnings\n\n"
    "def dense_params(inputs, units):\n    try:\n        return (inputs + 1) * units\n    except TypeError:\n"
    "        warnings.warn('숫자를 넣으세요')\n        raise",
    "loop": "def dense_params(inputs, units):\n    total = 0\n    for _ in range(units):\n        total += inputs + 1\n    return total",
    "helper function": "def _one_unit(inputs):\n    return inputs + 1\n\ndef dense_params(inputs, units):\n    return _one_unit(inputs) * units",
    "np.where and float32": "import numpy as np\nx = np.float32([1, -2])\nprint(np.where(x > 0, x, 0.0))",
    "functional API": "import keras\ninputs = keras.Input(shape=(3,))\nout = keras.layers.Dense(1)(inputs)\nmodel = keras.Model(inputs, out)\nmodel.summary()",
    "settings and prints": "import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\nimport numpy as np\nnp.set_printoptions(precision=3)\nprint('hi')",
    "model attributes": "model.trainable = False\nlayer = model.layers[0]\nw, b = layer.get_weights()",
    "class with __init__": "class Net:\n    def __init__(self, units):\n        self.units = units",
    "comprehensions": "squares = {n: n * n for n in range(4)}\nvalues = [v for v in squares.values() if v]",
    "plots": "import matplotlib.pyplot as plt\nplt.rcParams['figure.figsize'] = (4, 3)\nplt.plot([1, 2])",
    "magics": "%matplotlib inline\n!pip list\n%pip install tqdm\n%config InlineBackend.figure_format = 'retina'",
    "timing honest code": "%time total = sum(range(10))\n%timeit -n1 -r1 sorted([3, 1, 2])",
    "capture honest code": "%%capture out\nprint('hi')",
    "help": "np.zeros?",
    "print to stderr": "import sys\nprint('x', file=sys.stderr)\nsys.stdout.flush()",
    "a model named In and Out": "def build(n):\n    In = keras.Input(shape=(n,))\n    Out = keras.layers.Dense(1)(In)\n"
                                "    return keras.Model(inputs=In, outputs=Out)\n\nIn = keras.Input(shape=(2,))\nprint(In)",
    "a layer class": "class Layer:\n    def __init__(self, w):\n        self.w = w\n\n    def __call__(self, x):\n"
                     "        return x @ self.w\n\n    def __repr__(self):\n        return f'Layer({self.w})'\n\n"
                     "    def __len__(self):\n        return len(self.w)",
    "an activation held by an object": "def identity(z):\n    return z\n\nclass Neuron:\n    def __init__(self):\n"
                                       "        self.activation = identity",
    "names of things": "def f():\n    pass\n\nprint(f.__name__, type(f).__name__, np.__version__)\n"
                       "if __name__ == '__main__':\n    print('main')",
    "local names shadowing helpers": "def f(check_equal, x):\n    check_array = check_equal\n    return check_array(x)\n"
                                     "values = [check_equal for check_equal in range(3)]",
    "course modules": "import math, random, time, itertools, functools, collections, dataclasses, typing, warnings\n"
                      "from fractions import Fraction\nimport statsmodels.api as sm\nimport os.path\n"
                      "warnings.filterwarnings('ignore')\nprint(os.environ.get('HOME'), os.path.join('a', 'b'))",
    "a function that changes its argument": "def freeze(layer):\n    layer.trainable = False\n",
    "an alias used to compute": "numeric = np\nvalues = numeric.zeros(3)\nvalues[0] = 1.0\nlayers = keras.layers\n"
                                "model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1)])\nmodel.trainable = False",
    "a star import of numpy (round 10)": "from numpy import *\nvalues = array([1.0, -2.0])\nprint(sum(values))",
    "a reset namespace (round 9)": "%reset -f\nimport numpy as np",
    "an initializer set on a layer (round 8)": "layer = keras.layers.Dense(1)\n"
                                                "layer.kernel_initializer = keras.initializers.Zeros()",
    "a decorator that keeps a name": "import functools\n\ndef logged(f):\n    @functools.wraps(f)\n"
                                     "    def inner(*args):\n        return f(*args)\n    return inner\n\n"
                                     "@logged\ndef dense_params(inputs, units):\n    return (inputs + 1) * units",
    "a subclassed model": "class Net(keras.Model):\n    def __init__(self):\n        super().__init__()\n"
                          "        self.dense = keras.layers.Dense(1)\n\n    def call(self, x):\n"
                          "        return self.dense(x)",
    "annotations as types": "def dense_params(inputs: int, units: int) -> int:\n    total: int = (inputs + 1) * units\n"
                            "    return total",
    "an honest warning": "import warnings\nwarnings.warn('학습률이 큽니다')\nwarnings.simplefilter('ignore')",
    "a perceptron class": "class Perceptron:\n    def __init__(self, n):\n        self.weights = np.zeros(n)\n"
                          "        self.shape = (n,)\n\n    def output(self, x):\n        return int(x @ self.weights >= 0)\n\n"
                          "    def predict(self, rows):\n        return [self.output(r) for r in rows]",
    "private names of the student's own": "class Net:\n    def __init__(self):\n        self._w = 1\n\n"
                                          "    def get(self):\n        return self._w\n\n_scale = 2\nprint(_scale, Net()._w)",
    "loops over attributes read": "class Net:\n    def __init__(self):\n        self.sizes = [1, 2]\n\n"
                                  "    def total(self):\n        for size in self.sizes:\n            yield size\n\n"
                                  "pairs = [(layer.name, layer.units) for layer in model.layers]\nw = model.layers[0].kernel",
    "helpers named like library functions": "def measure(x):\n    return len(x)\n\ndef query(rows, key):\n"
                                            "    return [r for r in rows if r == key]\n\nprint(measure([1]), query([1, 2], 2))",
    "a record of the student's": "import collections\nPoint = collections.namedtuple('Point', ['x', 'y'])\n"
                                 "from dataclasses import make_dataclass\nRow = make_dataclass('Row', ['name', 'score'])",
    "the lesson's imports again": "import numpy as np\nimport keras\nfrom keras import layers",
    "keras from tensorflow": "from tensorflow import keras\nimport tensorflow.keras as keras",
    "a safe load": "saved = np.load('weights.npy')\nsafe = np.load('weights.npz', allow_pickle=False)\n"
                   "also = np.load('weights.npy', None, False)\nloaded = json.load(open('a.json'))",
    "display a table": "from IPython.display import display, Markdown\nimport pandas as pd\n"
                       "display(Markdown('**표**'), pd.DataFrame({'a': [1, 2]}))",
}


@pytest.fixture(scope="module")
def released():
    return nbformat.read(release_notebook(REPOSITORY_ROOT, LESSON), as_version=4)


def _findings(released, code):
    return review(submissions.answered(REPOSITORY_ROOT, LESSON, {"dense_params": code}), released)


@pytest.mark.parametrize("name", ATTACKS)
def test_an_attack_is_flagged_with_its_evidence(released, name):
    findings = _findings(released, ATTACKS[name])
    assert findings, name
    assert all(f.cell == "dense_params" and f.line >= 1 and f.rule for f in findings)


@pytest.mark.parametrize("name", HONEST)
def test_honest_code_is_not_flagged(released, name):
    assert _findings(released, HONEST[name]) == []


def test_an_answer_that_changes_its_arguments_is_not_flagged(released):
    """Every test cell gives each call its own copies and has its expected values first (the
    solution that overwrites its arguments keeps every point: tests/test_lessons.py), so what an
    answer does to its arguments decides nothing: an in-place ReLU is a beginner's honest code."""
    code = ("def relu(x):\n    x = np.array(x, dtype=float)\n    x[x < 0] = 0\n    return x\n\n"
            "def relu_in_place(x):\n    x[x < 0] = 0\n    return x\n\n"
            "def forward(x, weights):\n    a = np.asarray(x, dtype=float)\n    for W, b in weights:\n"
            "        a = a @ W + b\n        a[a < 0] = 0\n    return a\n\n"
            "def sizes_of(inputs, units_list):\n    sizes = [inputs]\n    for u in units_list:\n"
            "        sizes.append(u)\n    sizes.extend(units_list)\n    return sizes\n\n"
            "def step(params, grads):\n    for p, g in zip(params, grads):\n        p -= 0.1 * g\n    return params\n\n"
            "def scaled(X):\n    X *= 2\n    return X")
    assert _findings(released, code) == []


HONEST_BY_LESSON = [pytest.param(lesson, cell, code, id=f"{lesson}-{number}")
                    for lesson, answers in honest_answers.HONEST_ANSWERS.items()
                    for number, (cell, code) in enumerate(answers)]


@functools.cache
def _released(lesson):
    """The lesson's release notebook, read once: review() only reads it."""
    return nbformat.read(release_notebook(REPOSITORY_ROOT, lesson), as_version=4)


@functools.cache
def _source(lesson):
    """The lesson's source notebook (hidden tests included), read once, as the intake reads it."""
    return nbformat.read(source_notebook(REPOSITORY_ROOT, lesson), as_version=4)


@pytest.mark.parametrize(("lesson", "cell", "code"), HONEST_BY_LESSON)
def test_students_honest_answers_are_not_flagged(lesson, cell, code):
    released = _released(lesson)
    if cell.startswith("extra:"):
        nb = submissions.answered(REPOSITORY_ROOT, lesson)
        after = next(i for i, c in enumerate(nb.cells) if cells.grade_id(c) == cell.split(":", 1)[1])
        nb.cells.insert(after + 1, nbformat.v4.new_code_cell(code))
    else:
        nb = submissions.answered(REPOSITORY_ROOT, lesson, {cell: code})
    assert [str(f) for f in review(nb, released, _source(lesson))] == []


def test_an_alias_made_in_one_cell_and_patched_in_another_is_flagged(released):
    nb = submissions.answered(REPOSITORY_ROOT, LESSON, {"dense_params": "numeric = np"})
    nb.cells.append(nbformat.v4.new_code_cell("numeric.allclose = print"))
    assert [f.rule for f in review(nb, released)] == ["changes numpy (patching an imported module)"]


@pytest.mark.parametrize("lesson", LESSONS)
def test_no_lesson_answer_is_flagged(lesson):
    """The instructor's solutions, every catalogued wrong answer and every alternative answer."""
    released = _released(lesson)
    answers = [("solution", {})] + [(w.name, {w.cell: w.code})
                                    for w in submissions.wrong_answers(REPOSITORY_ROOT, lesson)]
    alternatives = submissions.alternative_answers(REPOSITORY_ROOT, lesson)
    assert alternatives, f"{lesson} has no alternative answers to try"
    answers += [(a.name, {a.cell: a.code}) for a in alternatives]
    flagged = {name: [str(f) for f in review(submissions.answered(REPOSITORY_ROOT, lesson, code), released,
                                             _source(lesson))]
               for name, code in answers}
    assert {name: found for name, found in flagged.items() if found} == {}


def test_every_cell_runs_whatever_its_tags():
    """nbclient skips cells tagged skip-execution: a test cell that does not run shows no error
    and would get its points. A plain Python kernel, no TensorFlow."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell("raise AssertionError('ran')", metadata={"tags": [tag]})
                for tag in ("skip-execution", "raises-exception", "other")]
    executor = ResilientExecute(timeout=60)
    executor.preprocess(nb, {"metadata": {"path": "."}})
    assert [[o.get("ename") for o in c.outputs] for c in nb.cells] == [["AssertionError"]] * 3
    assert executor.skip_cells_with_tag != ResilientExecute().skip_cells_with_tag


def test_unchanged_release_cells_are_not_read(released):
    nb = submissions.answered(REPOSITORY_ROOT, LESSON)
    assert any("import os" in c.source for c in nb.cells if c.cell_type == "code")
    assert review(nb, released) == []


@pytest.mark.slow
@pytest.mark.xdist_group("names")
def test_a_flagged_score_is_withheld_until_reviewed(tmp_path, capsys):
    root = make_course(REPOSITORY_ROOT, tmp_path / "course", [LESSON])
    from course.release import release
    release(root, [LESSON], update_readme=False)
    nothing_to_run = submissions.blank(root, LESSON)  # every cell but the checks and tests: pass
    for cell in nothing_to_run.cells:
        if cell.cell_type == "code" and not cells.is_test(cell) and cells.grade_id(cell) != "checks":
            cell.source = "pass"
    forged = nbformat.from_dict(nothing_to_run)
    answers = submissions.solutions(root, LESSON)
    for cell in forged.cells:
        if cells.grade_id(cell) == "dense_params":
            cell.source = ATTACKS["rebind a check helper"]
        if cells.grade_id(cell) == "linear_predict":  # right, and NumPy alone: some points to withhold
            cell.source = "import keras\n\n" + answers["linear_predict"]  # the test's oracle needs it
    for student, nb in (("honest", nothing_to_run), ("forger", forged), ("forger2", forged)):
        submissions.submit(root, student, LESSON, nb)
    results = {r.student: r for r in grade(root, jobs=1, overrides=own_code_overrides(), progress=False)}
    assert results["forger"].status is Status.FLAGGED and "check_equal" in results["forger"].reason
    assert results["honest"].status is Status.GRADED

    def exported():
        with open(root / "grades.csv", newline="") as handle:
            return {row["student_id"]: row["score"] for row in csv.DictReader(handle)}

    assert exported()["forger"] == "" and exported()["honest"] == "0.0"
    report = (root / "reports" / "report.html").read_text(encoding="utf-8")
    assert report.index("forger") < report.index("honest"), "flagged submissions are listed first"
    forged_score = gradebook.submission_score(root, LESSON, "forger")[0]
    assert forged_score > 0
    assert main(["review", "reject", LESSON, "forger", "--root", str(root)]) == 0
    assert main(["review", "accept", LESSON, "forger2", "--root", str(root)]) == 0
    assert exported()["forger"] == "0.0" and float(exported()["forger2"]) == forged_score
    assert main(["review", "accept", LESSON, "honest", "--root", str(root)]) == 2
    assert "not flagged" in capsys.readouterr().err


@pytest.mark.parametrize(("term", "refused"), [
    ("poverty", False), ("np.log(x)", False), ("I(x ** 2)", False), ("C(group, Treatment('a'))", False),
    ("_patsy_stobj0__center__.transform(x)", False), ('I(exec("x = 1") or 0)', True),
    ("I(np.ma.core.builtins)", True), ("I(pd.io.pickle.pickle.loads(b))", True),
    ("I((lambda: 1)())", True), ("I(x.__class__)", True), ("I(_secret)", True), ("I([a for a in b])", True)])
def test_a_warm_kernel_runs_only_plain_formula_terms(term, refused):
    """statsmodels runs a formula's terms as Python (patsy), which no reading of the cells sees:
    a warm kernel refuses what a formula never needs (tests/test_warm_attacks.py runs it)."""
    assert (formula_term_problem(term) is not None) == refused, formula_term_problem(term)


@pytest.mark.parametrize(("lesson", "code"), [
    ("03_perceptron", "range = lambda *a: ()"),  # empties a hidden test's loop
    ("01_parameters", "abs = lambda v: 1e9"),
    ("06_keras_vs_ols", "import numpy as pd"),
])
def test_a_name_only_a_hidden_test_uses_is_the_checks_too(lesson, code):
    nb = submissions.answered(REPOSITORY_ROOT, lesson)
    nb.cells.append(nbformat.v4.new_code_cell(code))
    assert review(nb, _released(lesson), _source(lesson)), code


@pytest.mark.parametrize("code", [
    "def globals():\n    return {}",  # the test cell's wrapper would hand its names to the answer
    "class locals(dict):\n    pass",
    "globals = dict",
])
def test_the_builtins_the_test_cells_wrapper_looks_up_are_the_checks_too(code):
    nb = submissions.answered(REPOSITORY_ROOT, "03_perceptron")
    nb.cells.append(nbformat.v4.new_code_cell(code))
    assert any("a built-in the checks use" in finding.rule
               for finding in review(nb, _released("03_perceptron"), _source("03_perceptron"))), code
