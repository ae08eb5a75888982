"""gesturepilot device side: camera -> hand -> gesture -> command -> MQTT (no TensorFlow here)."""

__version__ = "0.1.0"
