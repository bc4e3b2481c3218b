"""The fast colouring of fields gives exactly the levels of the table lookup it replaced."""

from __future__ import annotations

import numpy as np
import pytest

from any2img.imaging import _lut, field_to_rgb, fields_to_rgb


def _reference(unit: np.ndarray, cmap: str) -> np.ndarray:
    return _lut(cmap)[np.round(np.clip(unit, 0.0, 1.0) * 255).astype(np.uint8)]


@pytest.mark.parametrize("cmap", ["grey", "viridis", "turbo"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_field_to_rgb_equals_the_table_lookup(cmap, dtype):
    rng = np.random.default_rng(0)
    unit = rng.uniform(-0.2, 1.2, (5, 17, 23)).astype(dtype)
    unit[0, 0, :4] = np.array([0.5, 1.5, 2.5, 253.5]) / 255  # halves round to even, as numpy does
    out = field_to_rgb(unit, cmap)
    assert out.dtype == np.uint8 and out.shape == (5, 17, 23, 3) and out.flags.c_contiguous
    np.testing.assert_array_equal(out, _reference(unit, cmap))
    if cmap == "grey":
        assert out[0, 0, :4, 0].tolist() == [0, 2, 2, 254]


def test_field_to_rgb_takes_one_dimensional_and_integer_input():
    assert field_to_rgb(np.zeros(1), "grey").tolist() == [[0, 0, 0]]
    assert field_to_rgb(np.array([0, 1, 2]), "grey")[:, 0].tolist() == [0, 255, 255]


def test_fields_to_rgb_rounds_each_channel():
    r, g, b = (np.full((2, 3), v, np.float32) for v in (0.0, 0.5, 2.0))
    out = fields_to_rgb(r, g, b)
    assert out.shape == (2, 3, 3) and out[0, 0].tolist() == [0, 128, 255]
