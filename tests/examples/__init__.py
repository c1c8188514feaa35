"""Tests of the example scripts in examples/: each runs end to end in --quick mode."""
