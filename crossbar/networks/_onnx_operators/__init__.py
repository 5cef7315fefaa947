"""ONNX operators in JAX, following the ONNX operator specification (onnx.ai/onnx/operators), one module per
family: products (on tiles), elementwise, shapes, reductions, normalization, pooling, recurrent layers.

``OPERATORS`` maps each supported operator type of the default domain to its ``Operator``.
"""

from . import _elementwise, _normalization, _pooling, _products, _recurrent, _reductions, _shapes
from ._operator import Context as Context
from ._operator import Operator as Operator

OPERATORS: dict[str, Operator] = {
    **_products.OPERATORS,
    **_elementwise.OPERATORS,
    **_shapes.OPERATORS,
    **_reductions.OPERATORS,
    **_normalization.OPERATORS,
    **_pooling.OPERATORS,
    **_recurrent.OPERATORS,
}
