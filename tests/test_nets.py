"""Masked networks: every item's output inside a padded batch equals its output alone."""

from __future__ import annotations

import pytest
import torch

from audioscene.models.nets import AllConvNet, LteCNN, MaskedBatchNorm, conv_length, masked_pool


def _randomise_bn(net: torch.nn.Module, seed: int = 0) -> None:
    """Give batch norms non-trivial running statistics and affine parameters."""
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, MaskedBatchNorm):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.3)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.2)


# lengths that do (64, 48, 8) and do not (61, 37, 5, 1) divide the downsampling factor 8
LENGTHS = [64, 61, 48, 37, 8, 5, 1]


@pytest.mark.parametrize("pooling", ["mean", "max", "meanmax"])
def test_allconv_padded_batch_equals_alone(pooling: str) -> None:
    torch.manual_seed(0)
    net = AllConvNet(n_classes=5, n_features=16, pooling=pooling)
    _randomise_bn(net)
    net.eval()
    L = torch.tensor(LENGTHS)
    x = torch.randn(len(LENGTHS), max(LENGTHS), 16)
    x[torch.arange(x.shape[1])[None, :] >= L[:, None]] = 1e3  # garbage in the padding
    with torch.no_grad():
        batch = net(x, L)
        for i, n in enumerate(LENGTHS):
            alone = net(x[i:i + 1, :n], L[i:i + 1])
            torch.testing.assert_close(batch[i:i + 1], alone, atol=1e-5, rtol=1e-5)


def test_allconv_downsampling_lengths_follow_conv_formula() -> None:
    net = AllConvNet(3, 16, channels=[4, 4, 4], strides=[2, 2, 2]).eval()
    for n in LENGTHS:
        h = torch.zeros(1, 1, n, 16)
        for conv in net.convs:
            h = conv(h)
        assert h.shape[2] == int(net.output_lengths(torch.tensor([n]))[0])


@pytest.mark.parametrize("n", [1, 2, 3, 10])
def test_lte_cnn_padded_batch_equals_alone(n: int) -> None:
    torch.manual_seed(1)
    net = LteCNN(n_classes=4, n_features=6, widths=(1, 3, 5)).eval()
    L = torch.tensor([12, n])
    x = torch.rand(2, 12, 6)
    x[1, n:] = -50.0
    with torch.no_grad():
        batch = net(x, L)
        alone = net(x[1:, :n], L[1:])
    torch.testing.assert_close(batch[1:], alone, atol=1e-5, rtol=1e-5)


def test_masked_batchnorm_training_statistics_ignore_padding() -> None:
    torch.manual_seed(2)
    bn_a, bn_b = MaskedBatchNorm(3), MaskedBatchNorm(3)
    x = torch.randn(2, 3, 10, 4)
    L = torch.tensor([10, 6])
    mask = (torch.arange(10)[None, :] < L[:, None]).float()[:, None, :, None]
    y_a = bn_a(x, mask)
    x2 = x.clone()
    x2[1, :, 6:] = 99.0
    y_b = bn_b(x2, mask)
    torch.testing.assert_close(y_a * mask, y_b * mask)
    torch.testing.assert_close(bn_a.running_mean, bn_b.running_mean)
    # the statistics are those of the valid values
    valid = torch.cat([x[0].reshape(3, -1), x[1, :, :6].reshape(3, -1)], dim=1)
    expected = 0.9 * torch.zeros(3) + 0.1 * valid.mean(dim=1)
    torch.testing.assert_close(bn_a.running_mean, expected)


def test_masked_pool_reads_valid_positions_only() -> None:
    x = torch.tensor([[[1.0, 5.0, 3.0, -7.0]]])
    assert masked_pool(x, torch.tensor([3]), "mean").item() == pytest.approx(3.0)
    assert masked_pool(x, torch.tensor([1]), "max").item() == 1.0
    assert masked_pool(x, torch.tensor([4]), "meanmax").item() == pytest.approx((0.5 + 5) / 2)
    with pytest.raises(ValueError, match="pooling"):
        masked_pool(x, torch.tensor([1]), "median")


def test_conv_length_matches_torch() -> None:
    for n in range(1, 20):
        for k, s, p in [(3, 2, 1), (3, 1, 1), (5, 3, 2)]:
            out = torch.nn.functional.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k),
                                             stride=s, padding=p)
            assert out.shape[-1] == int(conv_length(torch.tensor([n]), k, s, p)[0])


def test_bad_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match="batch, time, features"):
        AllConvNet(2, 4)(torch.zeros(1, 1, 5, 4), torch.tensor([5]))
    with pytest.raises(ValueError, match="channels and strides"):
        AllConvNet(2, 4, channels=[4], strides=[1, 2])
    with pytest.raises(ValueError, match="odd"):
        LteCNN(2, 4, widths=(2,))
