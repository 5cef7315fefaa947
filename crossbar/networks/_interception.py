"""Any JAX function ``apply(params, x)`` on the emulated chip, unchanged: its matrix products with a weight
computed from ``params`` go to a crossbar.

``intercept(apply)`` traces ``apply`` to a jaxpr, once per structure, shapes and dtypes of its arguments, and
evaluates the jaxpr equation by equation. Values computed from ``params`` and constants alone are evaluated at
once, as numpy arrays: the weights a chip is programmed with are known before it runs. Values that depend on
``x`` are JAX values, so the evaluation works under ``jax.jit``, ``jax.vmap`` and ``jax.grad`` of the call.

Intercepted, as a ``MatrixProduct`` handed to ``on_product``:

- ``dot_general`` of an activation with a 2-D weight computed from ``params``, on either side (``x @ W``,
  ``W @ x``, ``jnp.einsum``, ``jnp.dot``, Flax ``Dense``, Equinox ``Linear`` under ``jax.vmap``), with one
  contracted axis and no batch axes;
- ``conv_general_dilated`` of an activation with a kernel computed from ``params``, in any dimension numbers
  (Flax's NHWC/HWIO included), 1 to 3 spatial axes, groups, no input dilation and ``batch_group_count`` 1.

Products inside ``jax.jit`` functions, ``jax.checkpoint`` and ``jax.custom_jvp``/``jax.custom_vjp`` functions
are found too: such a call is inlined when it holds a product (its custom derivative is then lost), and kept
as it is otherwise. Everything else stays digital: products of two activations, with a weight that depends on
``x`` or only on constants that are not ``params`` (``jnp.eye``, closed-over arrays), with batch axes or
several contracted axes, in integers, or inside ``scan``, ``while_loop`` and ``cond``.
"""

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend.core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal

from ._matrix_layer import MatrixLayer
from ._matrix_product import MatrixProduct, products_of

# primitives that call a sub-jaxpr with the equation's inputs, and the parameter holding it
_CALLS = {
    "jit": "jaxpr",
    "closed_call": "call_jaxpr",
    "custom_jvp_call": "call_jaxpr",
    "custom_vjp_call": "call_jaxpr",
    "remat2": "jaxpr",
}
_PRODUCTS = ("dot_general", "conv_general_dilated")


@dataclasses.dataclass(frozen=True)
class _Constant:
    """A value that does not depend on ``x``; ``from_params``: whether it depends on ``params``."""

    value: np.ndarray | jax.Array
    from_params: bool


class InterceptedModel:
    """``apply(params, x)`` whose constant-weight matrix products an ``on_product`` function evaluates.

    Attributes:
        function: the wrapped ``apply(params, x)``.
    """

    def __init__(self, function: Callable):
        self.function = function
        self._jaxprs: dict = {}

    def apply(self, params, x, on_product: Callable | None = None):
        """``function(params, x)``, with ``on_product(product: MatrixProduct) -> jax.Array`` computing each
        intercepted product (the shape of ``product.digital()``); ``None`` computes them digitally.

        ``params`` (any pytree) may be concrete (values from them are then computed at once, as numpy) or
        traced, as when training (products then carry traced weights). Leaves of ``params`` that are not
        arrays are static, like Equinox's. ``x`` is an array or a pytree of
        arrays; its leaves may be traced.
        """
        leaves, params_tree = jax.tree.flatten(params)
        arrays = [_host(leaf) for leaf in leaves if _is_array(leaf)]
        inputs, x_tree = jax.tree.flatten(x)
        inputs = [jnp.asarray(leaf) for leaf in inputs]
        closed, out_tree = self._trace(leaves, params_tree, arrays, inputs, x_tree)
        constants = [_Constant(value, True) for value in arrays]
        outputs = _Evaluation(on_product).run(closed.jaxpr, closed.consts, [*constants, *inputs])
        outputs = [jnp.asarray(v.value) if isinstance(v, _Constant) else v for v in outputs]
        return jax.tree.unflatten(out_tree, outputs)

    def matrix_layers(self, params, example_x) -> list[MatrixLayer]:
        """The intercepted products for inputs like ``example_x`` (arrays or ``jax.ShapeDtypeStruct``), in
        evaluation order, as (IN, OUT) matrices with their matrix-vector products per inference (a dense
        product's positions after the batch axis, a convolution's output positions); a grouped convolution
        gives one matrix per group, named NAME/group{g}."""
        return [layer for product in products_of(self.apply, params, example_x) for layer in product.layers()]

    def _trace(self, leaves, params_tree, arrays, inputs, x_tree) -> tuple[ClosedJaxpr, object]:
        """The jaxpr of ``function`` over the array leaves of params, then those of x; cached per structure,
        static leaves, shapes and dtypes."""
        static = [leaf for leaf in leaves if not _is_array(leaf)]
        key = (params_tree, x_tree, tuple((type(s), s) for s in static), *map(_shape, arrays + inputs))
        try:
            return self._jaxprs[key]
        except TypeError:  # a static leaf that cannot be hashed: traced for each call
            key = None
        except KeyError:
            pass

        def flat(array_values, input_values):
            remaining, given = iter(static), iter(array_values)
            rebuilt = [next(given) if _is_array(leaf) else next(remaining) for leaf in leaves]
            params = jax.tree.unflatten(params_tree, rebuilt)
            return self.function(params, jax.tree.unflatten(x_tree, input_values))

        closed, shapes = jax.make_jaxpr(flat, return_shape=True)(
            [_shape(a) for a in arrays], [_shape(i) for i in inputs]
        )
        traced = (closed, jax.tree.structure(shapes))
        if key is not None:
            self._jaxprs[key] = traced
        return traced


def intercept(apply: Callable) -> InterceptedModel:
    """``apply(params, x)`` (plain JAX, Equinox, Flax) as a model whose matrix products with a weight from
    ``params`` an ``on_product`` function evaluates: ``intercept(apply).apply(params, x, on_product)``."""
    return InterceptedModel(apply)


def matrix_layers(apply: Callable, params, example_x) -> list[MatrixLayer]:
    """The matrices a crossbar holds for ``apply(params, x)``, as ``InterceptedModel.matrix_layers``."""
    return intercept(apply).matrix_layers(params, example_x)


class _Evaluation:
    """One evaluation of a jaxpr; names the intercepted products in the order met."""

    def __init__(self, on_product: Callable | None):
        self.on_product = on_product
        self.products = 0

    def run(self, jaxpr: Jaxpr, consts, args) -> list:
        """Outputs of ``jaxpr`` for its closed-over ``consts`` and its inputs ``args`` (``_Constant`` or JAX
        values)."""
        env = {v: _Constant(_host(c), False) for v, c in zip(jaxpr.constvars, consts, strict=True)}
        env.update(zip(jaxpr.invars, args, strict=True))

        def read(v):
            return _Constant(np.asarray(v.val, v.aval.dtype), False) if isinstance(v, Literal) else env[v]

        for eqn in jaxpr.eqns:
            env.update(zip(eqn.outvars, self.equation(eqn, [read(v) for v in eqn.invars]), strict=True))
        return [read(v) for v in jaxpr.outvars]

    def equation(self, eqn: JaxprEqn, inputs: list) -> list:
        """An equation's outputs: at once where they depend on constants alone, by ``on_product`` for an
        intercepted product, by inlining a call that holds one, else as the equation computes them."""
        if all(isinstance(v, _Constant) for v in inputs) and not eqn.effects:
            with jax.ensure_compile_time_eval():
                outputs = _bind(eqn, [v.value for v in inputs])
            from_params = any(v.from_params for v in inputs)
            return [_Constant(_host(out), from_params) for out in outputs]
        if self.on_product is not None:
            if eqn.primitive.name in _PRODUCTS:
                intercepted = self.product(eqn, inputs)
                if intercepted is not None:
                    return [intercepted]
            sub = _sub_jaxpr(eqn)
            if sub is not None and _holds_products(sub[0]):
                return self.run(*sub, inputs)
        return _bind(eqn, [v.value if isinstance(v, _Constant) else v for v in inputs])

    def product(self, eqn: JaxprEqn, inputs: list) -> jax.Array | None:
        """The output of a product equation computed by ``on_product``, or ``None`` where it stays digital."""
        (out,) = eqn.outvars
        if not jnp.issubdtype(out.aval.dtype, jnp.floating):
            return None
        name = f"{'dot_general' if eqn.primitive.name == 'dot_general' else 'conv'}_{self.products}"
        canonical = (
            _dense(name, eqn, *inputs) if eqn.primitive.name == "dot_general" else _conv(name, eqn, *inputs)
        )
        if canonical is None:
            return None
        product, restore = canonical
        self.products += 1
        y = jnp.asarray(self.on_product(product))
        expected = _result_shape(product)
        if y.shape != expected:
            raise ValueError(f"on_product({name}): expected a result of shape {expected}, got {y.shape}")
        return restore(y).astype(out.aval.dtype)


def _dense(name: str, eqn: JaxprEqn, lhs, rhs) -> tuple[MatrixProduct, Callable] | None:
    """A ``dot_general`` of an activation and a 2-D weight from params, as x (..., IN) @ (IN, OUT), and the
    map of its result to the equation's layout (lhs free axes, then rhs free axes); ``None`` otherwise."""
    (lhs_contracted, rhs_contracted), (lhs_batch, rhs_batch) = eqn.params["dimension_numbers"]
    if lhs_batch or rhs_batch or len(lhs_contracted) != 1:
        return None
    if _is_weight(rhs) and not isinstance(lhs, _Constant):
        x, weight, x_axis, weight_axis, weight_first = lhs, rhs, lhs_contracted[0], rhs_contracted[0], False
    elif _is_weight(lhs) and not isinstance(rhs, _Constant):
        x, weight, x_axis, weight_axis, weight_first = rhs, lhs, rhs_contracted[0], lhs_contracted[0], True
    else:
        return None
    if weight.value.ndim != 2:
        return None
    rows = jnp.moveaxis(x, x_axis, -1)
    matrix = weight.value if weight_axis == 0 else weight.value.T
    product = MatrixProduct(name, rows, matrix, None, 1, tuple(np.shape(rows)[1:-1]))
    return product, (lambda y: jnp.moveaxis(y, -1, 0)) if weight_first else (lambda y: y)


def _conv(name: str, eqn: JaxprEqn, x, kernel) -> tuple[MatrixProduct, Callable] | None:
    """A ``conv_general_dilated`` of an activation and a kernel from params, as NC* x OI* -> NC*, and the map
    of its result to the equation's layout; ``None`` otherwise."""
    p = eqn.params
    spatial = len(p["window_strides"])
    if (
        not _is_weight(kernel)
        or isinstance(x, _Constant)
        or not 1 <= spatial <= 3
        or any(d != 1 for d in p["lhs_dilation"])
        or p["batch_group_count"] != 1
    ):
        return None
    numbers = p["dimension_numbers"]
    out_shape = eqn.outvars[0].aval.shape
    window = (tuple(p["window_strides"]), tuple(tuple(pad) for pad in p["padding"]), tuple(p["rhs_dilation"]))
    product = MatrixProduct(
        name,
        jnp.transpose(x, numbers.lhs_spec),
        None,
        (jnp if isinstance(kernel.value, jax.core.Tracer) else np).transpose(kernel.value, numbers.rhs_spec),
        p["feature_group_count"],
        tuple(out_shape[d] for d in numbers.out_spec[2:]),
        window,
    )
    return product, lambda y: jnp.transpose(y, tuple(np.argsort(numbers.out_spec)))


def _result_shape(product: MatrixProduct) -> tuple[int, ...]:
    """The shape of ``product.digital()``: (..., OUT) or (B, OUT, *positions)."""
    if product.kernel is None:
        return (*np.shape(product.x)[:-1], product.weight.shape[1])
    return (np.shape(product.x)[0], product.kernel.shape[0], *product.positions)


def _is_weight(value) -> bool:
    return isinstance(value, _Constant) and value.from_params


def _is_array(leaf) -> bool:
    return isinstance(leaf, jax.Array | np.ndarray | np.generic)


def _host(value) -> np.ndarray | jax.Array:
    """A constant as a numpy array of JAX's dtype for it; PRNG keys, which have no numpy form, and traced
    params, as they are."""
    dtype = jax.typeof(value).dtype
    if isinstance(value, jax.core.Tracer) or jax.dtypes.issubdtype(dtype, jax.dtypes.extended):
        return value
    return np.asarray(value, dtype)


def _shape(value) -> jax.ShapeDtypeStruct:
    aval = jax.typeof(value)
    return jax.ShapeDtypeStruct(aval.shape, aval.dtype, weak_type=aval.weak_type)


def _bind(eqn: JaxprEqn, values: list) -> list:
    """The equation's outputs for input values, as ``jax.core.eval_jaxpr`` computes them."""
    with eqn.ctx.manager:
        outputs = eqn.primitive.bind(*values, **eqn.primitive.get_bind_params(eqn.params))
    return outputs if eqn.primitive.multiple_results else [outputs]


def _sub_jaxpr(eqn: JaxprEqn) -> tuple[Jaxpr, list] | None:
    """The jaxpr a call primitive evaluates on the equation's inputs, and its closed-over constants."""
    if eqn.primitive.name not in _CALLS:
        return None
    sub = eqn.params[_CALLS[eqn.primitive.name]]
    return (sub.jaxpr, sub.consts) if isinstance(sub, ClosedJaxpr) else (sub, [])


def _holds_products(jaxpr: Jaxpr) -> bool:
    """Whether a product equation is in ``jaxpr`` or in the calls it makes."""
    return any(
        eqn.primitive.name in _PRODUCTS or ((sub := _sub_jaxpr(eqn)) is not None and _holds_products(sub[0]))
        for eqn in jaxpr.eqns
    )
