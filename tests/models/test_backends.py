"""The embedding backends' own rules, without loading a model."""

from __future__ import annotations

import pytest

from models.backends.onnx_int8_mixed import keeps_float32


@pytest.mark.parametrize(
    ("node", "stays_float32"),
    [
        ("/model/encoder/layer.3/output/dense/MatMul", True),  # feed-forward down-projection
        ("/model/encoder/layer.0/attention/self/query/MatMul", True),  # first layer
        ("/model/encoder/layer.0/intermediate/dense/MatMul", True),
        ("/model/encoder/layer.3/attention/output/dense/MatMul", False),  # attention output
        ("/model/encoder/layer.3/intermediate/dense/MatMul", False),
        ("/model/encoder/layer.10/attention/self/key/MatMul", False),  # not layer.0
    ],
)
def test_the_mixed_recipe_keeps_down_projections_and_the_first_layer_float32(
    node: str, stays_float32: bool
):
    assert keeps_float32(node) is stays_float32
