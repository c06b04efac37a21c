"""Torch networks for whole-clip classification of variable-length inputs.

Both networks take a *padded* batch plus each item's true length and return one logit
vector per item that does not depend on the padding: every layer zeroes the padded
positions again (so a padded position looks exactly like the zero padding of a
convolution applied to the clip alone), batch normalisation takes its training
statistics from valid positions only, and the global pooling reads valid positions
only.

* :class:`AllConvNet` (arXiv:1607.02857): convolution blocks only, downsampling by
  stride, a 1x1 convolution to the class count, masked global mean / max pooling over
  time and frequency.
* :class:`LteCNN` (arXiv:1607.02303): 1-D convolutions over time whose kernels span all
  embedding dimensions, several widths, masked 1-max and 1-mean pooling, dropout and a
  linear output.

Examples
--------
>>> import torch
>>> net = AllConvNet(n_classes=3, n_features=40).eval()
>>> x = torch.zeros(2, 100, 40)
>>> net(x, torch.tensor([100, 37])).shape
torch.Size([2, 3])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["AllConvNet", "LteCNN", "FrameCNN", "MaskedBatchNorm", "conv_length", "masked_pool",
           "network_arrays", "load_network_arrays",
           "NETWORKS"]

POOLINGS = ("mean", "max", "meanmax")


def network_arrays(net: nn.Module, prefix: str = "net/") -> dict[str, Any]:
    """A network's tensors (``state_dict``) as numpy arrays named ``prefix + name``, for
    a model file.

    Examples
    --------
    >>> sorted(network_arrays(nn.Linear(2, 1)))
    ['net/bias', 'net/weight']
    """
    return {f"{prefix}{k}": v.detach().cpu().numpy() for k, v in net.state_dict().items()}


def load_network_arrays(net: nn.Module, arrays: dict[str, Any], prefix: str = "net/"
                        ) -> nn.Module:
    """Load the arrays named ``prefix + name`` (:func:`network_arrays`) into ``net``; a
    missing, unexpected or mis-shaped tensor is a one-line ``ValueError``. Returns
    ``net`` in evaluation mode.

    Examples
    --------
    >>> a = network_arrays(nn.Linear(2, 1))
    >>> load_network_arrays(nn.Linear(2, 1), a).weight.shape
    torch.Size([1, 2])
    """
    state = {k[len(prefix):]: torch.from_numpy(np.array(v)) for k, v in arrays.items()
             if k.startswith(prefix)}
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:  # missing, unexpected or mis-shaped tensors
        raise ValueError(str(exc).splitlines()[0]) from None
    return net.eval()


def conv_length(lengths: torch.Tensor, kernel: int, stride: int, padding: int) -> torch.Tensor:
    """Output length of a convolution along one axis, per item (PyTorch's formula).

    Examples
    --------
    >>> conv_length(torch.tensor([5, 6, 1]), 3, 2, 1).tolist()
    [3, 3, 1]
    """
    return torch.div(lengths + 2 * padding - kernel, stride, rounding_mode="floor") + 1


def _time_mask(lengths: torch.Tensor, T: int, ndim: int) -> torch.Tensor:
    """Float mask, shape ``(B, 1, T)`` (ndim 3) or ``(B, 1, T, 1)`` (ndim 4)."""
    m = (torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]).float()
    return m[:, None, :] if ndim == 3 else m[:, None, :, None]


def masked_pool(x: torch.Tensor, lengths: torch.Tensor, mode: str = "mean") -> torch.Tensor:
    """Global pooling over every axis after the channel axis, reading only the first
    ``lengths[b]`` positions of axis 2 (time) of item ``b``.

    Parameters
    ----------
    x : torch.Tensor
        ``(B, C, T)`` or ``(B, C, T, F)``.
    lengths : torch.Tensor
        ``(B,)`` valid lengths along ``T`` (at least 1).
    mode : {"mean", "max", "meanmax"}
        ``"meanmax"`` averages the mean- and max-pooled values.

    Returns
    -------
    torch.Tensor
        ``(B, C)``.

    Examples
    --------
    >>> x = torch.tensor([[[1.0, 3.0, 100.0]]])
    >>> masked_pool(x, torch.tensor([2]), "mean"), masked_pool(x, torch.tensor([2]), "max")
    (tensor([[2.]]), tensor([[3.]]))
    """
    if mode not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {mode!r}")
    m = _time_mask(lengths, x.shape[2], x.dim())
    dims = tuple(range(2, x.dim()))
    out = None
    if mode in ("mean", "meanmax"):
        count = m.sum(dim=dims) * (x.shape[3] if x.dim() == 4 else 1)
        out = (x * m).sum(dim=dims) / count
    if mode in ("max", "meanmax"):
        mx = x.masked_fill(m == 0, float("-inf")).amax(dim=dims)
        out = mx if out is None else 0.5 * (out + mx)
    assert out is not None
    return out


class MaskedBatchNorm(nn.BatchNorm2d):
    """Batch normalisation whose training statistics come from valid positions only.

    In evaluation mode it is exactly :class:`torch.nn.BatchNorm2d` (running statistics),
    so an item's output never depends on the rest of its batch.

    Examples
    --------
    >>> bn = MaskedBatchNorm(4)
    >>> y = bn(torch.randn(2, 4, 10, 3), torch.ones(2, 1, 10, 1))
    """

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None  # type: ignore[override]
                ) -> torch.Tensor:
        if not self.training or mask is None:
            return super().forward(x)
        mask = mask.expand(x.shape[0], 1, *x.shape[2:])
        n = mask.sum()
        mean = (x * mask).sum(dim=(0, 2, 3)) / n
        var = (((x - mean[None, :, None, None]) ** 2) * mask).sum(dim=(0, 2, 3)) / n
        with torch.no_grad():
            assert self.running_mean is not None and self.running_var is not None
            mom = self.momentum if self.momentum is not None else 0.1
            unbiased = var * n / torch.clamp(n - 1, min=1)
            self.running_mean.mul_(1 - mom).add_(mom * mean)
            self.running_var.mul_(1 - mom).add_(mom * unbiased)
            self.num_batches_tracked += 1  # type: ignore[operator]
        y = (x - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + self.eps)
        return y * self.weight[None, :, None, None] + self.bias[None, :, None, None]


class AllConvNet(nn.Module):
    """All-convolutional network with masked global pooling (arXiv:1607.02857).

    Blocks of 3x3 convolution, batch normalisation and ReLU; downsampling by stride;
    a 1x1 convolution to ``n_classes`` maps; masked global pooling over time and
    frequency. Padded positions are zeroed after every block, so each item's logits
    equal those of the item alone (in evaluation mode).

    Parameters
    ----------
    n_classes : int
        Output size.
    n_features : int
        Feature bins per frame (the frequency axis).
    channels : sequence of int
        Output channels of each block.
    strides : sequence of int
        Stride of each block, applied to time and frequency (1: none).
    pooling : {"mean", "max", "meanmax"}
        Global pooling.
    dropout : float
        Channel dropout before the 1x1 output convolution.

    Examples
    --------
    >>> net = AllConvNet(n_classes=10, n_features=64).eval()
    >>> net(torch.zeros(1, 50, 64), torch.tensor([50])).shape
    torch.Size([1, 10])
    """

    def __init__(self, n_classes: int, n_features: int, *,
                 channels: Sequence[int] = (32, 32, 64, 64, 128, 128, 128),
                 strides: Sequence[int] = (1, 2, 1, 2, 1, 2, 1),
                 pooling: str = "meanmax", dropout: float = 0.3) -> None:
        super().__init__()
        if len(channels) != len(strides) or not channels:
            raise ValueError("channels and strides must be non-empty and of equal length")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.pooling = pooling
        self.strides = [int(s) for s in strides]
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        c_in = 1
        for c, s in zip(channels, self.strides):
            self.convs.append(nn.Conv2d(c_in, int(c), 3, stride=s, padding=1, bias=False))
            self.norms.append(MaskedBatchNorm(int(c)))
            c_in = int(c)
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        self.out = nn.Conv2d(c_in, n_classes, 1)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Valid time length after all downsampling steps, per item.

        Examples
        --------
        >>> AllConvNet(2, 8).output_lengths(torch.tensor([1, 8, 9])).tolist()
        [1, 1, 2]
        """
        for s in self.strides:
            lengths = conv_length(lengths, 3, s, 1)
        return lengths

    def receptive_radius(self) -> int:
        """Input frames on each side of an output position's centre that it reads.

        Examples
        --------
        >>> AllConvNet(2, 8).receptive_radius()
        22
        """
        r = 0
        for s in reversed(self.strides):
            r = r * s + 1
        return r

    @property
    def total_stride(self) -> int:
        """Input frames per output frame."""
        return int(torch.tensor(self.strides).prod())

    def feature_map(self, x: torch.Tensor, lengths: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The class maps before pooling, ``(B, n_classes, T', F')``, and their valid
        time lengths (what :meth:`forward` pools).

        Examples
        --------
        >>> net = AllConvNet(2, 8).eval()
        >>> h, L = net.feature_map(torch.zeros(1, 9, 8), torch.tensor([9]))
        >>> tuple(h.shape), L.tolist()
        ((1, 2, 2, 1), [2])
        """
        if x.dim() != 3:
            raise ValueError(f"expected (batch, time, features), got shape {tuple(x.shape)}")
        h = x[:, None]
        mask = _time_mask(lengths, h.shape[2], 4)
        h = h * mask
        for conv, norm, s in zip(self.convs, self.norms, self.strides):
            h = conv(h)
            lengths = conv_length(lengths, 3, s, 1)
            mask = _time_mask(lengths, h.shape[2], 4)
            h = F.relu(norm(h, mask)) * mask
        return self.out(self.dropout(h)), lengths

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, n_classes)`` of a padded batch ``x`` ``(B, T, F)``."""
        h, lengths = self.feature_map(x, lengths)
        return masked_pool(h, lengths, self.pooling)


class LteCNN(nn.Module):
    """CNN on label-tree-embedding images (arXiv:1607.02303).

    1-D convolutions over time whose kernels span all embedding dimensions, one bank
    per kernel width; masked 1-max and 1-mean pooling over time of each bank; dropout;
    a linear output.

    Parameters
    ----------
    n_classes : int
        Output size.
    n_features : int
        Embedding dimensions per segment (``2 * (n_tree_classes - 1)``).
    widths : sequence of int
        Kernel widths in segments.
    filters : int
        Kernels per width.
    dropout : float
        Dropout before the output layer.

    Examples
    --------
    >>> net = LteCNN(n_classes=4, n_features=6).eval()
    >>> net(torch.zeros(2, 9, 6), torch.tensor([9, 2])).shape
    torch.Size([2, 4])
    """

    def __init__(self, n_classes: int, n_features: int, *, widths: Sequence[int] = (3, 5, 9),
                 filters: int = 64, dropout: float = 0.5) -> None:
        super().__init__()
        if not widths or any(int(w) < 1 or int(w) % 2 == 0 for w in widths):
            raise ValueError(f"widths must be odd positive integers, got {list(widths)}")
        self.widths = [int(w) for w in widths]
        self.convs = nn.ModuleList(
            nn.Conv1d(n_features, filters, w, padding=w // 2) for w in self.widths)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(2 * filters * len(self.widths), n_classes)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Valid time length after the convolutions (unchanged: 'same' padding)."""
        return lengths

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, n_classes)`` of a padded batch ``x`` ``(B, T, D)``."""
        if x.dim() != 3:
            raise ValueError(f"expected (batch, time, features), got shape {tuple(x.shape)}")
        mask = _time_mask(lengths, x.shape[1], 3)
        h = x.transpose(1, 2) * mask
        pooled = []
        for conv in self.convs:
            c = F.relu(conv(h))
            pooled.append(masked_pool(c, lengths, "max"))
            pooled.append(masked_pool(c, lengths, "mean"))
        return self.out(self.dropout(torch.cat(pooled, dim=1)))


#: Network classes by recipe backend name.
NETWORKS: dict[str, Any] = {"allconv": AllConvNet, "lte-cnn": LteCNN}


class FrameCNN(nn.Module):
    """All-convolutional network with one output per input frame: frame-level class
    logits for event detection.

    Each block is a 3x3 convolution, dilated along time and unpadded along it (so the
    time axis shrinks by the dilation on each side and no output depends on padding),
    batch normalisation, ReLU and a max pooling of 2 along frequency; the frequency axis
    is then pooled (mean plus max) and a 1x1 convolution gives the class logits. Time is
    never downsampled: an input of ``T`` frames gives ``T - 2 R`` output frames, ``R``
    being :meth:`receptive_radius`, and output ``t`` reads input frames ``t`` to
    ``t + 2 R``.

    Parameters
    ----------
    n_classes, n_features : int
        Classes (outputs per frame) and features per input frame.
    channels : sequence of int
        Channels of each block.
    dilations : sequence of int
        Time dilation of each block (same length as ``channels``).
    dropout : float
        Dropout before the output convolution.

    Examples
    --------
    >>> net = FrameCNN(3, 40, channels=(8, 8), dilations=(1, 2)).eval()
    >>> net.receptive_radius()
    3
    >>> net(torch.zeros(2, 50, 40)).shape
    torch.Size([2, 44, 3])
    """

    def __init__(self, n_classes: int, n_features: int, *,
                 channels: Sequence[int] = (16, 32, 32, 64, 64),
                 dilations: Sequence[int] = (1, 2, 4, 8, 16), dropout: float = 0.1) -> None:
        super().__init__()
        if len(channels) != len(dilations) or not channels:
            raise ValueError("channels and dilations must be non-empty and of equal length")
        self.dilations = [int(d) for d in dilations]
        blocks = []
        c_in, f = 1, int(n_features)
        for c, d in zip(channels, self.dilations):
            blocks += [nn.Conv2d(c_in, int(c), (3, 3), padding=(0, 1), dilation=(d, 1)),
                       nn.BatchNorm2d(int(c)), nn.ReLU()]
            if f >= 2:
                blocks.append(nn.MaxPool2d((1, 2)))
                f //= 2
            c_in = int(c)
        self.body = nn.Sequential(*blocks)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Conv1d(c_in, n_classes, 1)

    def receptive_radius(self) -> int:
        """Input frames on each side of an output frame that it depends on.

        Examples
        --------
        >>> FrameCNN(2, 8, channels=(4, 4, 4), dilations=(1, 2, 4)).receptive_radius()
        7
        """
        return sum(self.dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, T - 2R, n_classes)`` of inputs ``(B, T, n_features)``.

        Examples
        --------
        >>> FrameCNN(2, 8, channels=(4,), dilations=(1,))(torch.zeros(1, 10, 8)).shape
        torch.Size([1, 8, 2])
        """
        h = self.body(x[:, None])  # (B, C, T', F')
        h = h.mean(dim=3) + h.amax(dim=3)
        return self.out(self.drop(h)).transpose(1, 2)
