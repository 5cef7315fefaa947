"""LSTM and GRU as analog LSTMs are modelled: the matrix products on tiles, the gates in digital.

Per direction, the input weight W (all gates stacked: 4H x I for an LSTM, 3H x I for a GRU) is one matrix on
tiles and x_t W^T of every step is one product, with the steps among its positions. The recurrent product
h_{t-1} R^T runs inside a ``jax.lax.scan`` over the steps: its body hands one product to ``on_product`` per
trace, with ``repeats`` the number of steps and ``step`` the traced step index. R is one matrix too, except
for a GRU with ``linear_before_reset`` 0, whose hidden gate multiplies (r_t * h_{t-1}) by R_h: R then splits
into R_zr (on h_{t-1}) and R_h (on r_t * h_{t-1}). Biases, gates and the cell state are digital.

Follows the ONNX specification with its default activations (f = sigmoid, g = h = tanh), the LSTM's gates in
the order i, o, f, c and the GRU's z, r, h (docs/models.md section 15). ``clip`` bounds every gate's
pre-activation, as ONNX Runtime does; with ``sequence_lens``, a sequence's steps past its length keep its
state and give zeros.
"""

import jax
import jax.numpy as jnp
import numpy as np

from ._operator import Context, Operator, attributes, node_name, optional
from ._products import dense_product

_ACTIVATIONS = {"LSTM": ["sigmoid", "tanh", "tanh"], "GRU": ["sigmoid", "tanh"]}


def _directions(attrs: dict) -> list[str]:
    direction = attrs.get("direction", "forward")
    return ["forward", "reverse"] if direction == "bidirectional" else [direction]


def _check(node, opset):
    attrs = attributes(node)
    direction = attrs.get("direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise ValueError(f"direction {direction!r} is not supported (forward, reverse, bidirectional)")
    if attrs.get("layout", 0) not in (0, 1):
        raise ValueError(f"layout {attrs['layout']} is not supported (0, 1)")
    defaults = _ACTIVATIONS[node.op_type] * len(_directions(attrs))
    given = attrs.get("activations")
    if given is not None and [a.lower() for a in given] != defaults:
        raise ValueError(
            f"activations {', '.join(given)} are not supported (only the defaults: {', '.join(defaults)})"
        )
    for name in ("activation_alpha", "activation_beta"):
        if name in attrs:
            raise ValueError(f"{name} is not supported (only the default activations, which take none)")
    if node.op_type == "LSTM":
        if attrs.get("input_forget", 0):
            raise ValueError("input_forget 1 (coupled input and forget gates) is not supported")
        if len(node.input) > 7 and node.input[7]:
            raise ValueError("peepholes (input P) are not supported")


def _lstm(node, inputs, context):
    """Outputs Y (T, directions, B, H), Y_h and Y_c (directions, B, H); batch first with layout 1."""

    def cell(p, state, recurrent, rb, clip):
        h, c = state
        i, o, f, g = jnp.split(clip(p + recurrent("R", h, slice(None)) + rb), 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        return jax.nn.sigmoid(o) * jnp.tanh(c), c

    return _layer(node, inputs, context, cell, states=2)


def _gru(node, inputs, context):
    """Outputs Y (T, directions, B, H) and Y_h (directions, B, H); batch first with layout 1."""
    linear_before_reset = attributes(node).get("linear_before_reset", 0)

    def cell(p, state, recurrent, rb, clip):
        (h,) = state
        hidden = h.shape[-1]
        pz, pr, ph = jnp.split(p, 3, axis=-1)
        if linear_before_reset:
            rz, rr, rh = jnp.split(recurrent("R", h, slice(None)) + rb, 3, axis=-1)
        else:
            rz, rr = jnp.split(recurrent("R_zr", h, slice(0, 2 * hidden)) + rb[:, : 2 * hidden], 2, axis=-1)
        z, r = jax.nn.sigmoid(clip(pz + rz)), jax.nn.sigmoid(clip(pr + rr))
        if linear_before_reset:
            candidate = jnp.tanh(clip(ph + r * rh))
        else:
            candidate = jnp.tanh(
                clip(ph + recurrent("R_h", r * h, slice(2 * hidden, None)) + rb[:, 2 * hidden :])
            )
        return ((1 - z) * candidate + z * h,)

    return _layer(node, inputs, context, cell, states=1)


def _layer(node, inputs, context: Context, cell, states: int) -> list:
    """Every direction of a recurrent layer; ``cell(p, state, recurrent, rb, clip)`` is one step from the
    input projection p_t (B, G H) (x_t W^T + Wb), with ``recurrent(suffix, v, rows)`` the product of v with
    R[rows] (on tiles, named NODE/DIRECTION/SUFFIX) and rb (1, G H) the recurrent bias."""
    attrs = attributes(node)
    x, w, r, b = jnp.asarray(inputs[0]), inputs[1], inputs[2], optional(inputs, 3)
    lengths = optional(inputs, 4)
    fixed_w = (False, context.is_fixed(1, w))  # x is the sequence: an activation
    layout = attrs.get("layout", 0)
    if layout:
        x = jnp.swapaxes(x, 0, 1)  # (T, B, I)
    directions = _directions(attrs)
    hidden = np.shape(r)[-1]
    initial = []
    for index in range(5, 5 + states):  # initial_h, initial_c: (directions, B, H)
        state = optional(inputs, index)
        if state is None:
            state = jnp.zeros((len(directions), x.shape[1], hidden), x.dtype)
        elif layout:
            state = jnp.swapaxes(state, 0, 1)
        initial.append(jnp.asarray(state, x.dtype))
    if b is None:
        b = np.zeros((len(directions), 2 * np.shape(r)[1]), np.float32)
    bound = attrs.get("clip")

    def clip(v):
        return v if bound is None else jnp.clip(v, -bound, bound)

    ys, finals = [], []
    for d, direction in enumerate(directions):
        name = f"{node_name(node)}/{direction}"
        gates = np.shape(r)[1]
        wb, rb = jnp.reshape(b[d][:gates], (1, 1, gates)), jnp.reshape(b[d][gates:], (1, gates))
        # x_t W^T for every step at once: the batch first, the steps as its positions
        projected = (
            jnp.swapaxes(dense_product(f"{name}/W", jnp.swapaxes(x, 0, 1), w[d].T, context, fixed_w), 0, 1)
            + wb
        )
        y, final = _scan(
            name, projected, r[d], rb, tuple(s[d] for s in initial), lengths, direction, cell, clip, context
        )
        ys.append(y)
        finals.append(final)
    y = jnp.stack(ys, axis=1)  # (T, directions, B, H)
    finals = [jnp.stack(f, axis=0) for f in zip(*finals, strict=True)]  # each (directions, B, H)
    if layout:
        return [jnp.transpose(y, (2, 0, 1, 3)), *(jnp.swapaxes(f, 0, 1) for f in finals)]
    return [y, *finals]


def _scan(name, projected, r, rb, initial, lengths, direction, cell, clip, context):
    """One direction over the steps: its outputs (T, B, H) and final states (each (B, H))."""
    steps = projected.shape[0]

    def step(state, inputs):
        p, t = inputs

        def recurrent(suffix, v, rows):
            fixed = (False, context.is_fixed(2, r))
            return dense_product(f"{name}/{suffix}", v, r[rows].T, context, fixed, repeats=steps, step=t)

        new = tuple(
            s.astype(old.dtype) for s, old in zip(cell(p, state, recurrent, rb, clip), state, strict=True)
        )
        if lengths is None:
            return new, new[0]
        running = (t < jnp.asarray(lengths))[:, None]
        new = tuple(jnp.where(running, s, old) for s, old in zip(new, state, strict=True))
        return new, jnp.where(running, new[0], 0)

    final, y = jax.lax.scan(step, initial, (projected, jnp.arange(steps)), reverse=direction == "reverse")
    return y, final


OPERATORS = {
    "LSTM": Operator(_lstm, _check, weights=(1, 2)),
    "GRU": Operator(_gru, _check, weights=(1, 2)),
}
