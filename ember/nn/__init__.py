"""torch.nn: modules, parameters, init, functional."""
from .parameter import Parameter, UninitializedParameter, UninitializedBuffer, Buffer
from .modules import *  # noqa: F401,F403
from .modules import Module, Container, Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict, \
    Identity, Linear, Bilinear, LazyLinear, Flatten, Unflatten
from .parallel import DataParallel
from . import init, functional, parallel, modules, parameter
from . import utils, attention
