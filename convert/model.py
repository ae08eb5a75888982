"""A compact depthwise-separable image CNN sized for a Raspberry Pi."""

from __future__ import annotations

from typing import Any

BN_MOMENTUM = 0.9  # 0.999 (the Keras default) stalls on small datasets


def build_model(
    size: int, n_classes: int, width: int = 32, blocks: int = 4, dropout: float = 0.3
) -> Any:
    """Build the classifier. Its input is raw 0..255 RGB pixels (Rescaling is inside).

    Raw pixels as the input make the int8 input quantization exact: scale 1, zero point -128.

    Args:
        size: input height = width in pixels (96-128 suits a Pi).
        n_classes: softmax outputs.
        width: channels of the first block; each further block doubles them (capped at 8×).
        blocks: depthwise-separable stages, each halving the resolution.
        dropout: before the classifier.

    Returns:
        An uncompiled `keras.Model`.
    """
    import keras
    from keras import layers

    inputs = keras.Input((size, size, 3), name="pixels")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs)
    x = layers.Conv2D(width, 3, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = layers.ReLU(6.0)(x)
    channels = width
    for i in range(blocks):
        channels = min(width * 2 ** (i + 1), width * 8)
        for stride in (1, 2):
            x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
            x = layers.ReLU(6.0)(x)
            x = layers.Conv2D(channels, 1, use_bias=False)(x)
            x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
            x = layers.ReLU(6.0)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="gesture_cnn")
