/* Fake TFLM (see README.md): present in TFLM until 2023-07 (#2073), like the pinned library. */
