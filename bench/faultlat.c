/*
 * faultlat — how long one first touch of fresh memory (one minor page fault) takes on this
 * machine, for reading bench/latency.py's long loop turns against (README, "Latency").
 *
 *   build/bench/faultlat [MiB]     (default 1024)
 *
 * Maps MiB of anonymous memory and writes one byte per 4 KiB page, timing each write with
 * CLOCK_MONOTONIC and the thread's CPU clock. In a VM whose host backs guest memory lazily (or
 * takes it back: free page reporting, ballooning), the guest kernel's zeroing of the new page
 * can wait for the host, and that wait counts as the faulting thread's CPU time. Prints one line
 * per touch over 0.5 ms and a summary:
 *
 *   faultlat: 1024 MiB, 262144 touches in 812 ms: <10us 250000, 10-100us 12000, 0.1-0.5ms 144,
 *   0.5-1ms 0, 1-5ms 0, >5ms 0; worst 0.34 ms wall, 0.34 ms thread CPU
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 4096

static int64_t clock_ns(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int bucket_of(int64_t ns)
{
    static const int64_t upper[] = {10000, 100000, 500000, 1000000, 5000000};
    int b = 0;
    while (b < 5 && ns >= upper[b])
        b++;
    return b;
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
    size_t len = mib << 20;
    volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mib == 0 || p == MAP_FAILED) {
        fprintf(stderr, "usage: faultlat [MiB > 0] (mmap failed?)\n");
        return 2;
    }
    long long hist[6] = {0};
    int64_t worst = 0, worst_cpu = 0, start = clock_ns(CLOCK_MONOTONIC);
    for (size_t off = 0; off < len; off += PAGE) {
        int64_t t0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        p[off] = 1;
        int64_t wall = clock_ns(CLOCK_MONOTONIC) - t0, cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
        worst = wall > worst ? wall : worst;
        worst_cpu = cpu > worst_cpu ? cpu : worst_cpu;
        hist[bucket_of(wall)]++;
        if (wall > 500000)
            printf("faultlat: touch at %zu MiB: %.2f ms wall, %.2f ms thread CPU\n", off >> 20,
                   wall / 1e6, cpu / 1e6);
    }
    printf("faultlat: %zu MiB, %zu touches in %.0f ms: <10us %lld, 10-100us %lld, 0.1-0.5ms %lld, "
           "0.5-1ms %lld, 1-5ms %lld, >5ms %lld; worst %.2f ms wall, %.2f ms thread CPU\n",
           mib, len / PAGE, (clock_ns(CLOCK_MONOTONIC) - start) / 1e6, hist[0], hist[1], hist[2],
           hist[3], hist[4], hist[5], worst / 1e6, worst_cpu / 1e6);
    return 0;
}
