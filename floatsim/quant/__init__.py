"""floatsim.quant: quantizers built on the core verbs (see docs/quantization.md)."""
