"""All nn modules, one file per family as in PyTorch."""
from .module import Module
from .container import Container, Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict
from .linear import Identity, Linear, Bilinear, LazyLinear
from .flatten import Flatten, Unflatten
from .lazy import LazyModuleMixin
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, LazyConv1d, \
    LazyConv2d, LazyConv3d, LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d
from .fold import Fold, Unfold
from .padding import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .distance import PairwiseDistance, CosineSimilarity
from .batchnorm import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pixelshuffle import PixelShuffle, PixelUnshuffle  # noqa: E402
from .upsampling import Upsample, UpsamplingNearest2d, UpsamplingBilinear2d  # noqa: E402
from .channelshuffle import ChannelShuffle  # noqa: E402
from .dropout import *  # noqa: F401,F403
from .sparse import Embedding, EmbeddingBag
from .adaptive import AdaptiveLogSoftmaxWithLoss
from .rnn import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell
from .activation import MultiheadAttention
from .transformer import Transformer, TransformerEncoder, TransformerDecoder, TransformerEncoderLayer, \
    TransformerDecoderLayer

import types as _types  # noqa: E402

# The layers only: `from .modules import *` in nn must not bind submodules (nn.modules.utils would shadow nn.utils).
__all__ = [_n for _n, _v in globals().items() if not _n.startswith("_") and not isinstance(_v, _types.ModuleType)]
