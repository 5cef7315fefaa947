"""The analog/digital split of the MACs (``mac_split``), counted by hand on PyTorch's ViT (products on tiles
and attention's products of two activations in digital) and LSTM (a recurrent product run once per step), and
on a loop whose body multiplies two activations.

ViT: a 7 x 7 patch convolution into 48 channels at 16 positions, 17 tokens (16 patches and a class token),
two encoder blocks (the attention's input projection 48 x 144 and output projection 48 x 48, an MLP 48 x 96
x 48, each on every token), 4 heads of 12, a 48 x 10 head on the class token.
"""

import jax
import jax.numpy as jnp
import pytest

from crossbar.networks import load_onnx, mac_split

PYTORCH = "tests/data/pytorch"
BLOCK = [
    ("input projection", 48, 144),
    ("output projection", 48, 48),
    ("mlp in", 48, 96),
    ("mlp out", 96, 48),
]


@pytest.mark.parametrize("exporter", ["dynamo", "torchscript"])
def test_the_vits_products_on_tiles_and_attention_in_digital(exporter):
    model = load_onnx(f"{PYTORCH}/vit_{exporter}.onnx")
    split = mac_split(model.apply, model.params, model.input_shape)
    expected = [(49, 48, 16)] + [(i, o, 17) for _ in range(2) for _, i, o in BLOCK] + [(48, 10, 1)]
    assert [(*p.matrix, p.mvms) for p in split.tiled] == expected
    assert [p.macs for p in split.tiled] == [i * o * mvms for i, o, mvms in expected]
    assert split.analog == 49 * 48 * 16 + 2 * 17 * (48 * 144 + 48 * 48 + 2 * 48 * 96) + 48 * 10 == 664_800
    # per block and head: Q K^T (17 x 12 by 12 x 17) and A V (17 x 17 by 17 x 12)
    assert split.digital_products == 4
    assert split.digital == 2 * 4 * (17 * 12 * 17 + 17 * 17 * 12) == 55_488
    assert split.analog_share == 664_800 / (664_800 + 55_488)


def test_the_lstms_recurrent_product_counts_every_step():
    model = load_onnx(f"{PYTORCH}/lstm_dynamo.onnx")
    split = mac_split(model.apply, model.params, model.input_shape)
    # input product: 28 rows of 28 pixels; recurrent: hidden 64 at each of the 28 steps; 4 gates of 64
    assert [(*p.matrix, p.mvms, p.macs) for p in split.tiled] == [
        (28, 256, 28, 28 * 256 * 28),
        (64, 256, 28, 64 * 256 * 28),
        (64, 10, 1, 640),
    ]
    assert (split.digital_products, split.digital, split.analog_share) == (0, 0, 1.0)


def test_a_loops_product_of_activations_counts_once_per_step_and_grouped_matrices_once_each():
    def apply(params, x, on_product):
        def step(h, _):
            return jnp.tanh(h @ jnp.swapaxes(h, -1, -2) @ h), None  # (5, 3) (3, 5) then (5, 5) (5, 3)

        return jax.lax.scan(step, jnp.reshape(x, (-1, 5, 3)), length=7)[0]

    split = mac_split(apply, None, (15,))
    assert split.tiled == () and split.digital_products == 2
    assert split.digital == 7 * (5 * 3 * 5 + 5 * 5 * 3) and split.analog_share == 0.0

    resnet = load_onnx(f"{PYTORCH}/resnet_dynamo.onnx")
    grouped = mac_split(resnet.apply, resnet.params, resnet.input_shape)
    depthwise = [p for p in grouped.tiled if p.groups > 1]
    assert [(p.groups, p.matrix, p.mvms, p.macs) for p in depthwise] == [(32, (9, 1), 49, 32 * 9 * 49)]
    assert depthwise[0].shape_text() == "32 x (9 x 1)"


def test_the_document_and_the_table_give_the_split():
    model = load_onnx(f"{PYTORCH}/vit_dynamo.onnx")
    split = mac_split(model.apply, model.params, model.input_shape)
    document = split.document()
    assert document["analog_macs"] == 664_800 and document["digital_macs"] == 55_488
    assert document["tiled"][0] == {"name": "node_conv2d", "matrix": [49, 48], "groups": 1, "mvms": 16,
                                    "macs": 37_632}  # fmt: skip
    assert document["analog_share"] == 664_800 / 720_288
    table = split.table()
    assert "node_conv2d" in table and "37,632" in table
    assert "in digital: 4 other matrix products" in table and "55,488 MACs" in table
    assert "analog share of the MACs per example: 92.3 % (664,800 of 720,288)" in table
