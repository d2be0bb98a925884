/*
 * Calibration workload, run inside a memory cgroup by test/calibration/calibrate.js. Written in C
 * so that what the group holds is what the options say: a Node process would add tens of MiB of
 * its own heap and mapped binary, which a scenario would then have to guess.
 *
 *   workload [--hold MiB] [--grow MiB/s] [--file PATH [--rate MiB/s]] [--hot PATH --hot-share N]
 *            [--duration ms]
 *
 * --hold      anonymous memory allocated and written (every page charged) before anything else.
 * --grow      then keep allocating anonymous memory at this rate (until the OOM killer ends it).
 * --file      read this file in a loop, 1 MiB per read(), start to end and around again.
 * --rate      limit those reads to this throughput (default: as fast as they go).
 * --hot       a second file read in a loop as well: a working set the workload keeps coming back to.
 * --hot-share of every 8 MiB read, this many MiB come from the hot file (default 4).
 * Prints "ready" once --hold is held, then "t <ms> read <bytes> anon <bytes>" every 100 ms on stdout
 * (cumulative since ready), so the harness measures the throughput the kernel allowed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024L * 1024L)

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Maps and writes `mib` MiB: every page is charged to the group when written, not when mapped. */
static void allocate(long mib) {
  if (mib <= 0) return;
  char *memory = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    perror("workload: mmap");
    exit(2);
  }
  for (long i = 0; i < mib * MIB; i += 4096) memory[i] = (char)(i >> 12 | 1);
}

/* Reads 1 MiB at `*position` of `fd`, wrapping at the end of the file. Returns the bytes read. */
static long read_chunk(int fd, off_t *position, char *buffer) {
  ssize_t got = pread(fd, buffer, MIB, *position);
  if (got < 0) {
    perror("workload: read");
    exit(2);
  }
  if (got == 0) {
    *position = 0;
    return 0;
  }
  *position += got;
  return got;
}

static int open_file(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    fprintf(stderr, "workload: cannot open %s: %s\n", path, strerror(errno));
    exit(2);
  }
  return fd;
}

int main(int argc, char **argv) {
  long hold = 0, hot_share = 4;
  double grow = 0, rate = 0, duration = 1e18;
  const char *file = NULL, *hot = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--hold") && i + 1 < argc) hold = atol(argv[++i]);
    else if (!strcmp(argv[i], "--grow") && i + 1 < argc) grow = atof(argv[++i]);
    else if (!strcmp(argv[i], "--file") && i + 1 < argc) file = argv[++i];
    else if (!strcmp(argv[i], "--rate") && i + 1 < argc) rate = atof(argv[++i]);
    else if (!strcmp(argv[i], "--hot") && i + 1 < argc) hot = argv[++i];
    else if (!strcmp(argv[i], "--hot-share") && i + 1 < argc) hot_share = atol(argv[++i]);
    else if (!strcmp(argv[i], "--duration") && i + 1 < argc) duration = atof(argv[++i]);
    else {
      fprintf(stderr, "workload: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  allocate(hold);
  printf("ready\n");
  int fd = file ? open_file(file) : -1;
  int hot_fd = hot ? open_file(hot) : -1;
  char *buffer = malloc(MIB);
  off_t position = 0, hot_position = 0;
  long read_bytes = 0, grown = 0, chunk = 0;
  double start = now_ms(), next_report = start + 100;
  for (;;) {
    double t = now_ms();
    if (t - start >= duration) break;
    if (t >= next_report) {
      printf("t %.0f read %ld anon %ld\n", t - start, read_bytes, (hold + grown) * MIB);
      next_report += 100;
    }
    if (grow > 0 && grown < (long)(grow * (t - start) / 1e3)) {
      allocate(1);
      grown++;
      continue;
    }
    if (fd < 0) {
      usleep(1000);
      continue;
    }
    if (rate > 0 && read_bytes > rate * MIB * (t - start) / 1e3) {
      usleep(1000);
      continue;
    }
    if (hot_fd >= 0 && chunk++ % 8 < hot_share) read_bytes += read_chunk(hot_fd, &hot_position, buffer);
    else read_bytes += read_chunk(fd, &position, buffer);
  }
  return 0;
}
