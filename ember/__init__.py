"""ember: PyTorch's API on NumPy. `import ember as torch`."""
import builtins as _builtins
import numbers as _numbers

import numpy as _np

from . import _allocator  # noqa: F401  (malloc settings for array workloads; EMBER_MALLOC_TUNING=0 turns off)

from .torch_version import TorchVersion as _TorchVersion
from .version import __version__ as _own_version
__version__ = _TorchVersion(_own_version)

from ._dtype import (dtype, Size, device, bool_ as bool, uint8, int8, int16, int32, int64, uint16, uint32, uint64,
                     float16, float32, float64, complex32, complex64, complex128, bfloat16, get_default_dtype,
                     set_default_dtype, promote_types, can_cast, finfo, iinfo, result_type as _result_type)
from ._dtype import float16 as half, float32 as float, float64 as double, int16 as short, int32 as int, \
    int64 as long, complex32 as chalf, complex64 as cfloat, complex128 as cdouble
from ._tensor import Tensor
from . import _tensor_methods  # noqa: F401  (binds the ops as Tensor methods)
from .autograd.grad_mode import no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled, \
    is_inference_mode_enabled
from . import autograd
from .autograd.anomaly_mode import is_anomaly_enabled, is_anomaly_check_nan_enabled, set_anomaly_enabled
from .random import manual_seed, seed, initial_seed, get_rng_state, set_rng_state, Generator, default_generator
from . import random
from ._tensor_str import set_printoptions, get_printoptions
from . import return_types
from .ops.elementwise import *  # noqa: F401,F403
from .ops.reduction import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.indexing import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .ops.creation import *  # noqa: F401,F403
from .ops.creation import range_ as _range_deprecated
from .utils.dlpack import from_dlpack  # noqa: F811  (torch.from_dlpack is torch.utils.dlpack.from_dlpack)
from .ops.misc import *  # noqa: F401,F403
from .ops.window import *  # noqa: F401,F403
from ._legacy import (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor,
                      ByteTensor, BoolTensor, set_default_tensor_type)
from . import cuda, backends, linalg, special, fft, testing, utils, types, overrides, futures, jit
from . import accelerator, compiler, cpu, multiprocessing, version, _dynamo
from .futures import Future
from .special import polygamma, multigammaln as mvlgamma, igamma, igammac  # torch's top-level names for them
from ._lowrank import svd_lowrank, pca_lowrank


def _inplace_function(name):
    """torch.<op>_(input, ...): the tensor's in-place method, as a module-level function."""
    def fn(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    return fn


for _name in ("abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
              "arctanh_", "asin_", "asinh_", "atan_", "ldexp_",
              "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "detach_",
              "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_", "i0_", "lcm_",
              "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_",
              "reciprocal_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_",
              "tanh_", "trunc_", "xlogy_", "zero_", "as_strided_", "conj_physical_", "resize_as_"):
    globals()[_name] = _inplace_function(_name)
del _name


strided = "torch.strided"
contiguous_format = preserve_format = channels_last = channels_last_3d = None
e = _np.e
pi = _np.pi
inf = _np.inf
nan = _np.nan
newaxis = None


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_same_size(input, other):
    return input.is_same_size(other)


def is_signed(input):
    return input.is_signed()


def resolve_conj(input):
    return input.resolve_conj()


def resolve_neg(input):
    return input.resolve_neg()


def detach(input):
    return input.detach()


def is_conj(input):
    """False: ember's conj() is computed when called, so no tensor carries PyTorch's lazy conjugate bit."""
    return input.is_conj()


def is_neg(input):
    """False: no tensor carries PyTorch's lazy negation bit (see is_conj)."""
    return input.is_neg()


def is_inference(input):
    return input.is_inference()


def get_device(input):
    return -1


def typename(obj):
    """'torch.FloatTensor' for a tensor, else the object's module-qualified type name."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = obj if isinstance(obj, type) else type(obj)
    module = cls.__module__
    name = cls.__qualname__
    module = "torch" + module[len("ember"):] if module.split(".")[0] == "ember" else module
    return name if module in ("builtins", "__builtin__", None) else f"{module}.{name}"


def fill(input, value):
    """A new tensor of input's shape and dtype filled with value (a number or a 0-d tensor)."""
    out = input.clone().fill_(value)
    if out.grad_fn is not None:  # PyTorch numbers the out-of-place nodes apart from fill_'s
        autograd.function.as_node(out, "FillBackward1" if isinstance(value, Tensor) else "FillBackward0")
    return out


def _removed(name, replacement):
    def fn(*args, **kwargs):
        raise RuntimeError(f"This function was deprecated since version 1.9 and is now removed. `torch.{name}` is "
                           f"deprecated in favor of `torch.linalg.{replacement}`.")
    fn.__name__ = fn.__qualname__ = name
    return fn


matrix_rank, lstsq, eig, symeig, solve = (_removed(n, r) for n, r in (
    ("matrix_rank", "matrix_rank"), ("lstsq", "lstsq"), ("eig", "eig"), ("symeig", "eigh"), ("solve", "solve")))
for _fn in (lstsq, eig, symeig, solve):  # the Tensor methods raise as well
    setattr(Tensor, _fn.__name__, _fn)
del _fn


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding the number s (in the default float dtype unless dtype is given)."""
    if isinstance(s, Tensor) or not isinstance(s, _numbers.Number):
        raise TypeError(f"scalar_tensor(): argument 's' (position 1) must be Number, not {type(s).__name__}")
    return tensor(s, dtype=dtype or get_default_dtype(), device=device, requires_grad=requires_grad)


def is_storage(obj):
    return False


def is_floating_point(input):
    return input.is_floating_point()


def is_complex(input):
    return input.is_complex()


def is_nonzero(input):
    return input.is_nonzero()


def numel(input):
    return input.numel()


def result_type(tensor1, tensor2):
    return _result_type(tensor1, tensor2)


def is_autocast_enabled(*args):
    return False


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None, disable=False,
            **kwargs):
    """torch.compile: ember runs eagerly. A module comes back wrapped as PyTorch wraps it (OptimizedModule, whose
    state_dict keys start with `_orig_mod.`), a function unchanged; with no model, a decorator."""
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, disable=disable, **kwargs)
    if not callable(model):
        raise RuntimeError("model must be a Callable")
    from .nn import Module
    if isinstance(model, Module) and not disable:
        return _dynamo.OptimizedModule(model)
    return model


from ._settings import (use_deterministic_algorithms, are_deterministic_algorithms_enabled,  # noqa: E402
                        is_deterministic_algorithms_warn_only_enabled, set_deterministic_debug_mode,
                        get_deterministic_debug_mode, set_warn_always, is_warn_always_enabled,
                        set_float32_matmul_precision, get_float32_matmul_precision, set_num_interop_threads,
                        get_num_interop_threads, set_default_device, get_default_device)


def set_num_threads(n):
    pass


def get_num_threads():
    return 1


def set_flush_denormal(mode):
    return False


from ._tensor_methods import allclose, isclose  # noqa: E402


def equal(input, other):
    return input.equal(other)


from . import nn  # noqa: E402
from .nn._functional.activation import softmax, log_softmax, relu, relu_, selu, celu, rrelu, prelu, hardshrink  # noqa
from .nn._functional.dropout import dropout, alpha_dropout, feature_alpha_dropout  # noqa: E402
from .nn._functional.loss import pairwise_distance, cosine_similarity, pdist  # noqa: E402
from .nn._functional.sparse import embedding  # noqa: E402
from ._variable_functions import *  # noqa: F401,F403,E402
from . import optim  # noqa: E402
from . import amp  # noqa: E402
from .amp import autocast  # noqa: E402
from . import onnx  # noqa: E402,F401  (loads the onnx package only inside export())
from . import distributed  # noqa: E402,F401  (imports no mpi4py: MPI starts in init_process_group)
from .utils import data as _utils_data, checkpoint as _utils_checkpoint  # noqa: E402,F401
from .serialization import save, load  # noqa: E402
from . import func  # noqa: E402,F401
from . import distributions  # noqa: E402,F401
from .func import vmap  # noqa: E402
from . import functional  # noqa: E402  (binds Tensor.stft / Tensor.istft)
from .functional import stft, istft  # noqa: E402
from . import signal  # noqa: E402,F401
globals()["range"] = _range_deprecated  # torch.range (deprecated); bound last, after every use of the builtin above
