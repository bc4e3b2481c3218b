"""Parameter checks: the rule and the value appear in every message."""

from __future__ import annotations

import pytest

from any2img.errors import ParameterError
from any2img.validation import check_choice, check_float, check_int, check_range, check_size


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: check_int("image_size", 0, low=1), "'image_size' must be an int >= 1 (got 0)."),
        (lambda: check_int("n_bins", 2.5, low=2), "'n_bins' must be an int >= 2 (got 2.5)."),
        (lambda: check_int("n", True), "'n' must be an int (got True)."),
        (lambda: check_int("k", 9, low=1, high=8), "'k' must be an int in [1, 8] (got 9)."),
        (lambda: check_float("p", float("nan"), low=0, high=1), "'p' must be a finite number in [0, 1] (got nan)."),
        (lambda: check_float("lr", 0, low=0, low_open=True), "'lr' must be a finite number > 0 (got 0)."),
        (lambda: check_choice("mode", "x", ["a", "b"]), "'mode' must be one of 'a', 'b' (got 'x')."),
        (lambda: check_size("image_size", (0, 3)),
         "'image_size' must be an int >= 1 or a pair (height, width) of ints >= 1 (got (0, 3))."),
        (lambda: check_range("sample_range", (1, -1)),
         "'sample_range' must be a pair (low, high) of numbers with low < high (got (1, -1))."),
    ],
)
def test_bad_values_have_exact_messages(call, message):
    with pytest.raises(ParameterError) as info:
        call()
    assert str(info.value) == message


def test_good_values_pass_through():
    assert check_int("n", 3, low=1) == 3
    assert check_size("s", 64) == (64, 64)
    assert check_size("s", [32, 48]) == (32, 48)
    assert check_range("r", [-1, 1]) == (-1.0, 1.0)
    assert check_float("x", 1, low=0, high=1) == 1.0
