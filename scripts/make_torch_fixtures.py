"""Train small PyTorch networks on MNIST; export them to ONNX with both PyTorch exporters as test fixtures.

Trains a small ResNet (with a depthwise convolution), a tiny vision transformer, an LSTM and a GRU over the
image rows on the shipped MNIST test images 0..7999, exports each in eval mode with the TorchScript exporter
(opset 17) and the dynamo exporter (its default opset), checks every file with `onnx.checker` and ONNX's
reference evaluator on images 8000..9999, and writes the files and `accuracies.json` into tests/data/pytorch/.

PyTorch is not a dependency of the project; run this by hand in a virtual environment of its own:

    python3.11 -m venv /tmp/torchenv
    /tmp/torchenv/bin/pip install torch==2.13.0 onnx onnxscript numpy
    /tmp/torchenv/bin/python scripts/make_torch_fixtures.py

It takes about seven minutes on one CPU core (it uses one); the same machine gives the same weights.
"""

import gzip
import json
import time
from pathlib import Path

import numpy as np
import onnx
import onnx.reference
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
MNIST_DIR = ROOT / "crossbar" / "datasets"
OUT_DIR = ROOT / "tests" / "data" / "pytorch"
TRAIN = slice(0, 8000)
TEST = slice(8000, 10000)
TORCHSCRIPT_OPSET = 17


def load_mnist() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 MNIST test images as float32 (N, 1, 28, 28) in [0, 1] and their int64 labels (N,)."""
    with gzip.open(MNIST_DIR / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16)
    with gzip.open(MNIST_DIR / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return (images.reshape(-1, 1, 28, 28) / np.float32(255)).astype(np.float32), labels.astype(np.int64)


def conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """A bias-free convolution ("same" padding) followed by batch normalization."""
    conv = nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False)
    return nn.Sequential(conv, nn.BatchNorm2d(c_out))


class BasicBlock(nn.Module):
    """ResNet's basic block: two 3 x 3 convolutions; a 1 x 1 projection shortcut when the shape changes."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(conv_bn(c_in, c_out, 3, stride), nn.ReLU(), conv_bn(c_out, c_out, 3))
        self.shortcut = conv_bn(c_in, c_out, 1, stride) if stride != 1 or c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class SeparableBlock(nn.Module):
    """MobileNet-style residual block: a depthwise 3 x 3 convolution (groups = channels), then a 1 x 1 one."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            conv_bn(channels, channels, 3, groups=channels), nn.ReLU(), conv_bn(channels, channels, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + x)


class ResNet(nn.Module):
    """Conv stem and max pooling (28 -> 14 pixels), three residual blocks (14 -> 7), global average pooling,
    a linear head."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(1, 16, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            BasicBlock(16, 16),
            BasicBlock(16, 32, stride=2),
            SeparableBlock(32),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class EncoderBlock(nn.Module):
    """Pre-norm transformer encoder block: multi-head self-attention, then an MLP with exact GELU."""

    def __init__(self, dim: int, heads: int, hidden: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm1(x)
        x = x + self.attention(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    """Tiny vision transformer: 16 patches of 7 x 7 pixels, a class token, two encoder blocks."""

    def __init__(self, dim: int = 48, heads: int = 4, depth: int = 2):
        super().__init__()
        self.patches = nn.Conv2d(1, dim, 7, stride=7)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.position = nn.Parameter(0.02 * torch.randn(1, 17, dim))
        self.blocks = nn.Sequential(*(EncoderBlock(dim, heads, 2 * dim) for _ in range(depth)))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patches(x).flatten(2).transpose(1, 2)  # (batch, 16, dim)
        tokens = torch.cat([self.cls.expand(x.shape[0], -1, -1), tokens], dim=1) + self.position
        return self.head(self.norm(self.blocks(tokens))[:, 0])


class RowRNN(nn.Module):
    """A one-layer LSTM or GRU reading the image's 28 rows as 28 steps; a linear head on its last output."""

    def __init__(self, cell: type[nn.LSTM] | type[nn.GRU], hidden: int = 64):
        super().__init__()
        self.rnn = cell(28, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.rnn(x.reshape(-1, 28, 28))
        return self.head(outputs[:, -1])


# name -> (constructor, epochs, peak learning rate)
MODELS = {
    "resnet": (ResNet, 6, 3e-3),
    "vit": (ViT, 30, 2e-3),
    "lstm": (lambda: RowRNN(nn.LSTM), 20, 3e-3),
    "gru": (lambda: RowRNN(nn.GRU), 20, 3e-3),
}


def shift(x: torch.Tensor, generator: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """The batch translated by one random whole-pixel offset of at most max_shift pixels (zero fill)."""
    dy, dx = torch.randint(-max_shift, max_shift + 1, (2,), generator=generator).tolist()
    padded = nn.functional.pad(x, (max_shift,) * 4)
    return padded[:, :, max_shift - dy : max_shift - dy + 28, max_shift - dx : max_shift - dx + 28]


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, lr: float, seed: int) -> None:
    """AdamW with a one-cycle learning rate, batches of 64, random shifts; leaves the model in eval mode."""
    generator = torch.Generator().manual_seed(seed)
    steps = epochs * -(-len(x) // 64)
    optimizer = torch.optim.AdamW(model.parameters(), lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=steps)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(x), generator=generator).split(64):
            loss = nn.functional.cross_entropy(model(shift(x[batch], generator)), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    model.eval()


def export(model: nn.Module, example: torch.Tensor, path: Path, exporter: str) -> None:
    """Export with the TorchScript or the dynamo exporter, batch dimension dynamic, weights in the file."""
    names = {"input_names": ["x"], "output_names": ["logits"]}
    if exporter == "torchscript":
        torch.onnx.export(
            model,
            example,
            path,
            dynamo=False,
            opset_version=TORCHSCRIPT_OPSET,
            dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
            **names,
        )
    else:
        dynamic = {"x": {0: torch.export.Dim("batch")}}
        torch.onnx.export(
            model, (example,), path, dynamo=True, dynamic_shapes=dynamic, external_data=False, **names
        )


def reference_logits(path: Path, x: np.ndarray, batch: int = 500) -> np.ndarray:
    """The logits ONNX's reference evaluator computes from the file."""
    session = onnx.reference.ReferenceEvaluator(str(path))
    return np.concatenate([session.run(None, {"x": x[i : i + batch]})[0] for i in range(0, len(x), batch)])


def describe(path: Path, model: nn.Module, exporter: str, x: np.ndarray, y: np.ndarray) -> dict:
    """Check the exported file and summarize it: opset, operators, parameters, size, and the accuracies of the
    eval-mode PyTorch model and of the reference evaluator on the file (float32)."""
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    logits = reference_logits(path, x)
    return {
        "exporter": exporter,
        "opset": next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")),
        "domains": sorted({o.domain or "ai.onnx" for o in proto.opset_import}),
        "local_functions": len(proto.functions),
        "operators": sorted({node.op_type for node in proto.graph.node}),
        "parameters": sum(p.numel() for p in model.parameters()),
        "bytes": path.stat().st_size,
        "torch_accuracy": float(np.mean(expected.argmax(1) == y)),
        "reference_accuracy": float(np.mean(logits.argmax(1) == y)),
        "reference_max_abs_logit_error": float(np.abs(logits - expected).max()),
        "reference_prediction_mismatches": int(np.sum(logits.argmax(1) != expected.argmax(1))),
    }


def main() -> None:
    torch.set_num_threads(1)  # results independent of the core count; small models gain little from threads
    x, y = load_mnist()
    x_train, y_train = torch.from_numpy(x[TRAIN]), torch.from_numpy(y[TRAIN])
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    summary = {}
    for seed, (name, (make, epochs, lr)) in enumerate(MODELS.items()):
        torch.manual_seed(seed)
        model = make()
        start = time.perf_counter()
        train(model, x_train, y_train, epochs, lr, seed)
        print(f"{name}: trained in {time.perf_counter() - start:.0f} s", flush=True)
        for exporter in ("torchscript", "dynamo"):
            path = OUT_DIR / f"{name}_{exporter}.onnx"
            export(model, torch.from_numpy(x[:2]), path, exporter)
            summary[path.name] = describe(path, model, exporter, x[TEST], y[TEST])
            print(f"  {path.name}: {summary[path.name]}", flush=True)
    versions = {"torch": torch.__version__, "onnx": onnx.__version__}
    record = {"versions": versions, "test_images": [TEST.start, TEST.stop], "files": summary}
    (OUT_DIR / "accuracies.json").write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
