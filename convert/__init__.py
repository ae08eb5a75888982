"""gesturepilot workstation side: train, evaluate, quantize and report gesture models."""
