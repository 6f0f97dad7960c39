"""govserve benchmarks: each module exposes ``main() -> dict`` and records its figures in README.md."""
