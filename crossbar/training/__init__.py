"""Training networks to put on a chip: a small multilayer perceptron in JAX, for demos and tutorials, and
hardware-aware fine-tuning of any model through the emulated chip (``train_hardware_aware``)."""

from ._hardware_aware import TrainingHistory as TrainingHistory
from ._hardware_aware import train_hardware_aware as train_hardware_aware
from ._mlp import accuracy as accuracy
from ._mlp import init_mlp as init_mlp
from ._mlp import mlp_apply as mlp_apply
from ._mlp import mlp_onnx_bytes as mlp_onnx_bytes
from ._mlp import train_mlp as train_mlp
