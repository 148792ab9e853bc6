/* Native streaming-read yardstick for bench/lib/read-bandwidth.mjs: sums a buffer of `mib` MiB of 32-bit
 * words as one sequential stream and as 4 streams a quarter of the buffer apart (the compiler vectorises both
 * with the widest registers -march=native allows), 7 passes each, and prints the best GB/s of each form:
 *   read-stream <mib> [cpu]   ->   {"one": GB/s, "four": GB/s, "sum": checksum}
 * Times are wall-clock, or with "cpu" this thread's CPU time (as bench/matvec.mjs times the Wasm kernels,
 * since other jobs may share the cores).
 * Built by the benchmark with gcc -O3 -march=native; never part of the package. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void) {
  struct timespec t;
  clock_gettime(clock_id, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint32_t sum_one(const uint32_t *a, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i < n; i++) s += a[i];
  return s;
}

static uint32_t sum_four(const uint32_t *a, size_t n) {
  const size_t q = n / 4;
  const uint32_t *b = a + q, *c = a + 2 * q, *d = a + 3 * q;
  uint32_t s = 0;
  for (size_t i = 0; i < q; i++) s += a[i] + b[i] + c[i] + d[i];
  return s;
}

int main(int argc, char **argv) {
  const size_t bytes = (size_t)(argc > 1 ? atoi(argv[1]) : 256) << 20, n = bytes / 4;
  if (argc > 2 && strcmp(argv[2], "cpu") == 0) clock_id = CLOCK_THREAD_CPUTIME_ID;
  uint32_t *a = aligned_alloc(64, bytes);
  if (!a) return 1;
  for (size_t i = 0; i < n; i++) a[i] = (uint32_t)(i * 2654435761u);
  double best1 = 1e30, best4 = 1e30;
  uint32_t check = 0;
  for (int pass = 0; pass < 7; pass++) {
    double t0 = now();
    check += sum_one(a, n);
    double t1 = now();
    check += sum_four(a, n);
    double t2 = now();
    if (t1 - t0 < best1) best1 = t1 - t0;
    if (t2 - t1 < best4) best4 = t2 - t1;
  }
  printf("{\"one\": %.3f, \"four\": %.3f, \"sum\": %u}\n", bytes / best1 / 1e9, bytes / best4 / 1e9, check);
  free(a);
  return 0;
}
