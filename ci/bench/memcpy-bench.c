// SPDX-License-Identifier: GPL-2.0
/*
 * Memory-copy ceiling of the machine the LOOPBACK benchmark runs on.
 *
 * For each size given on the command line, copies a buffer of that many
 * bytes again and again for a fixed time and prints the rate, so that
 * loopback throughput can be reported as a fraction of what a plain copy
 * of the same amount of data reaches on the same (virtual) machine.
 *
 * Output, one line per size: "# memcpy: bytes=N,seconds=S,mbps=R"
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUN_SECONDS	0.25

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int measure(size_t bytes)
{
	/* Read the clock about once per MiB copied, not once per copy */
	unsigned long long batch = bytes < (1 << 20) ? (1 << 20) / bytes : 1;
	unsigned long long copies = 0, i;
	double start, elapsed;
	char *src, *dst;

	src = malloc(bytes);
	dst = malloc(bytes);
	if (!src || !dst) {
		fprintf(stderr, "memcpy-bench: cannot allocate 2 x %zu bytes\n", bytes);
		free(src);
		free(dst);
		return -1;
	}
	memset(src, 0x5a, bytes);
	memcpy(dst, src, bytes);	/* fault the pages in */

	start = now();
	do {
		for (i = 0; i < batch; i++) {
			memcpy(dst, src, bytes);
			/* Keep the compiler from eliding the copies */
			__asm__ __volatile__("" : : "r" (dst) : "memory");
		}
		copies += batch;
		elapsed = now() - start;
	} while (elapsed < RUN_SECONDS);

	printf("# memcpy: bytes=%zu,seconds=%.6f,mbps=%.1f\n", bytes, elapsed,
	       copies * (double)bytes / elapsed / 1e6);
	free(src);
	free(dst);
	return 0;
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: memcpy-bench BYTES...\n");
		return 2;
	}

	for (i = 1; i < argc; i++) {
		char *end;
		unsigned long long bytes;

		errno = 0;
		bytes = strtoull(argv[i], &end, 10);
		if (errno || *end || !bytes) {
			fprintf(stderr, "memcpy-bench: not a byte count: '%s'\n", argv[i]);
			return 2;
		}
		if (measure(bytes))
			return 1;
	}

	return 0;
}
