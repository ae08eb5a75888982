"""The model layer: the artefact's json, the TFLite runtime, the int8 interpreter, crops."""
