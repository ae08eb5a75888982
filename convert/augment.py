"""Training augmentation that imitates real cameras (and never mirrors left into right)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class AugmentSettings:
    """How strongly each camera effect is applied (recorded in the model's json)."""

    brightness: float = 0.25  # ± fraction of full scale
    contrast: float = 0.3  # factor in [1-c, 1+c]
    saturation: float = 0.3
    hue: float = 0.04
    rotation_deg: float = 12.0  # small: a larger turn would change up into left
    zoom: float = 0.15
    shift: float = 0.1
    blur_probability: float = 0.3
    horizontal_flip: bool = False  # only with a left/right swap (see `flip_swap`)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_augmenter(settings: AugmentSettings, seed: int) -> Any:
    """A function (images float32 0..255 (B,H,W,3)) -> augmented images, for tf.data.map."""
    import keras
    import tensorflow as tf

    geometric = keras.Sequential(
        [
            keras.layers.RandomRotation(settings.rotation_deg / 360.0, fill_mode="reflect"),
            keras.layers.RandomZoom(settings.zoom, fill_mode="reflect"),
            keras.layers.RandomTranslation(settings.shift, settings.shift, fill_mode="reflect"),
        ],
        name="camera_geometry",
    )
    blur_kernel = tf.constant([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16.0
    blur_kernel = tf.tile(blur_kernel[:, :, None, None], [1, 1, 3, 1])
    gen = tf.random.Generator.from_seed(seed)

    def augment(images: Any) -> Any:
        x = geometric(images, training=True) / 255.0
        batch = tf.shape(x)[0]
        x = x + gen.uniform([batch, 1, 1, 1], -settings.brightness, settings.brightness)
        mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
        factor = gen.uniform([batch, 1, 1, 1], 1 - settings.contrast, 1 + settings.contrast)
        x = (x - mean) * factor + mean
        x = tf.clip_by_value(x, 0.0, 1.0)
        x = tf.image.adjust_saturation(
            x, gen.uniform([], 1 - settings.saturation, 1 + settings.saturation)
        )
        x = tf.image.adjust_hue(x, gen.uniform([], -settings.hue, settings.hue))
        blurred = tf.nn.depthwise_conv2d(x, blur_kernel, [1, 1, 1, 1], "SAME")
        use_blur = tf.cast(gen.uniform([batch, 1, 1, 1]) < settings.blur_probability, x.dtype)
        x = use_blur * blurred + (1 - use_blur) * x
        return tf.clip_by_value(x, 0.0, 1.0) * 255.0

    return augment


def flip_swap(labels: list[str]) -> list[int] | None:
    """For a horizontal flip: the class index each class becomes (left<->right), or None.

    Returns None when a label has a mirror-sensitive name without its partner, so flipping
    would be wrong for it.
    """
    index = {name: i for i, name in enumerate(labels)}
    mapping = list(range(len(labels)))
    for a, b in (("left", "right"),):
        if (a in index) != (b in index):
            return None
        if a in index:
            mapping[index[a]], mapping[index[b]] = index[b], index[a]
    return mapping
