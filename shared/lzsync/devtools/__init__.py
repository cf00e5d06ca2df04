"""Tools for tests, the demo and benchmarks: emulator harness, sample landing zone, local stack.

Never imported by a deployed function.
"""
