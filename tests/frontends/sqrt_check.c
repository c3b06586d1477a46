/* Reads uint64 values on stdin, writes tinyflow_fixed_sqrt64 of each as uint32 on stdout. */
#include <stdint.h>
#include <stdio.h>

#include "tinyflow/frontend.h"

int main(void) {
  uint64_t v;
  while (fread(&v, sizeof v, 1, stdin) == 1) {
    const uint32_t r = tinyflow_fixed_sqrt64(v);
    fwrite(&r, sizeof r, 1, stdout);
  }
  return 0;
}
