"""Simulated boards, one module per machine: tflm (a Python device over the TFLM reference),
host (the firmware built for this computer, on a pseudo-terminal), qemu_m4 (the ARM firmware on
QEMU). Each takes its model or built firmware as data and only runs it; tinyflow.targets.sim
maps sim:// names to these modules and checks their URL options.
"""
