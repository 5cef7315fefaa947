"""Networks as chips see them: the matrix products with a constant weight that run on tiles, found in an
ONNX graph (``load_onnx``) or in any JAX function (``intercept``), the (IN, OUT) matrices they hold, and the
split of the multiply-accumulates between tiles and digital (``mac_split``)."""

from ._interception import InterceptedModel as InterceptedModel
from ._interception import intercept as intercept
from ._interception import matrix_layers as matrix_layers
from ._mac_count import MacSplit as MacSplit
from ._mac_count import TiledProduct as TiledProduct
from ._mac_count import mac_split as mac_split
from ._matrix_layer import MatrixLayer as MatrixLayer
from ._matrix_layer import load_weights as load_weights
from ._matrix_layer import unroll_convolution as unroll_convolution
from ._matrix_product import MatrixProduct as MatrixProduct
from ._matrix_product import products_of as products_of
from ._onnx_model import OnnxModel as OnnxModel
from ._onnx_model import load_onnx as load_onnx
