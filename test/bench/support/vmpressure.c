// The kernel's vmpressure arithmetic (mm/vmpressure.c, Linux 6.x), transcribed to plain C for the
// engine-vs-c benchmark: vmpressure(), vmpressure_prio(), vmpressure_calc_level(),
// vmpressure_work_fn() and vmpressure_event(), with the kernel's window, thresholds and modes. The
// kernel's locks, gfp mask and eventfds have no work to do in one thread: eventfd_signal() is a
// counter per registration, schedule_work() appends to a FIFO that the driver runs once per tick
// (as a kworker would, later), and jiffies are milliseconds advanced by the driver.
//
// The driver generates the same pseudo-random workload as test/bench/engine-vs-c.js (xorshift32),
// runs it `rounds` times, and prints one JSON line: the best nanoseconds per operation and the
// events counted per registration and level, which the JavaScript side compares with its own.
//
// Built by test/bench/support/vmpressure-c.js with `cc -O2` into the OS temporary directory.

#define _POSIX_C_SOURCE 199309L
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SWAP_CLUSTER_MAX 32UL
#define HZ 1000UL

static const unsigned long vmpressure_win = SWAP_CLUSTER_MAX * 16;
static const unsigned int vmpressure_level_med = 60;
static const unsigned int vmpressure_level_critical = 95;
static const int vmpressure_level_critical_prio = 3; // ilog2(100 / 10)

enum vmpressure_levels { VMPRESSURE_LOW = 0, VMPRESSURE_MEDIUM, VMPRESSURE_CRITICAL, VMPRESSURE_NUM_LEVELS };
enum vmpressure_modes { VMPRESSURE_NO_PASSTHROUGH = 0, VMPRESSURE_HIERARCHY, VMPRESSURE_LOCAL };

struct vmpressure_event {
  unsigned long *efd; // eventfd counters, one per level (the kernel's efd counts signals)
  enum vmpressure_levels level;
  enum vmpressure_modes mode;
  struct vmpressure_event *next;
};

struct vmpressure {
  unsigned long scanned;
  unsigned long reclaimed;
  unsigned long tree_scanned;
  unsigned long tree_reclaimed;
  struct vmpressure_event *events;
  bool work_pending;
  struct vmpressure *parent; // parent_mem_cgroup()
  bool is_root;
  unsigned long socket_pressure; // memcg->socket_pressure, in jiffies
};

#define MAX_NODES 64
#define MAX_EVENTS 64
static struct vmpressure nodes[MAX_NODES];
static struct vmpressure_event events[MAX_EVENTS];
static unsigned long counters[MAX_EVENTS][VMPRESSURE_NUM_LEVELS];
static struct vmpressure *workqueue[MAX_NODES];
static int workqueue_length;
static unsigned long jiffies;

static enum vmpressure_levels vmpressure_level(unsigned long pressure) {
  if (pressure >= vmpressure_level_critical) return VMPRESSURE_CRITICAL;
  else if (pressure >= vmpressure_level_med) return VMPRESSURE_MEDIUM;
  return VMPRESSURE_LOW;
}

static enum vmpressure_levels vmpressure_calc_level(unsigned long scanned, unsigned long reclaimed) {
  unsigned long scale = scanned + reclaimed;
  unsigned long pressure = 0;

  // reclaimed can be greater than scanned for things such as reclaimed slab pages.
  if (reclaimed >= scanned) goto out;
  pressure = scale - (reclaimed * scale / scanned);
  pressure = pressure * 100 / scale;
out:
  return vmpressure_level(pressure);
}

static bool vmpressure_event(struct vmpressure *vmpr, const enum vmpressure_levels level, bool ancestor,
                             bool signalled) {
  struct vmpressure_event *ev;
  bool ret = false;

  for (ev = vmpr->events; ev; ev = ev->next) {
    if (ancestor && ev->mode == VMPRESSURE_LOCAL) continue;
    if (signalled && ev->mode == VMPRESSURE_NO_PASSTHROUGH) continue;
    if (level < ev->level) continue;
    ev->efd[level]++; // eventfd_signal(ev->efd)
    ret = true;
  }
  return ret;
}

static void vmpressure_work_fn(struct vmpressure *vmpr) {
  unsigned long scanned;
  unsigned long reclaimed;
  enum vmpressure_levels level;
  bool ancestor = false;
  bool signalled = false;

  scanned = vmpr->tree_scanned;
  if (!scanned) return;
  reclaimed = vmpr->tree_reclaimed;
  vmpr->tree_scanned = 0;
  vmpr->tree_reclaimed = 0;

  level = vmpressure_calc_level(scanned, reclaimed);

  do {
    if (vmpressure_event(vmpr, level, ancestor, signalled)) signalled = true;
    ancestor = true;
  } while ((vmpr = vmpr->parent));
}

static void schedule_work(struct vmpressure *vmpr) {
  if (vmpr->work_pending) return;
  vmpr->work_pending = true;
  workqueue[workqueue_length++] = vmpr;
}

static void run_workqueue(void) {
  for (int i = 0; i < workqueue_length; i++) {
    workqueue[i]->work_pending = false;
    vmpressure_work_fn(workqueue[i]);
  }
  workqueue_length = 0;
}

static void vmpressure(struct vmpressure *vmpr, bool tree, unsigned long scanned, unsigned long reclaimed) {
  // No gfp mask in user space: every call is reclaim that userland can help with.
  if (!scanned) return;

  if (tree) {
    scanned = vmpr->tree_scanned += scanned;
    vmpr->tree_reclaimed += reclaimed;
    if (scanned < vmpressure_win) return;
    schedule_work(vmpr);
  } else {
    enum vmpressure_levels level;

    // For now, no users for root-level efficiency
    if (vmpr->is_root) return;

    scanned = vmpr->scanned += scanned;
    reclaimed = vmpr->reclaimed += reclaimed;
    if (scanned < vmpressure_win) return;
    vmpr->scanned = vmpr->reclaimed = 0;

    level = vmpressure_calc_level(scanned, reclaimed);
    if (level > VMPRESSURE_LOW) vmpr->socket_pressure = jiffies + HZ;
  }
}

static void vmpressure_prio(struct vmpressure *vmpr, int prio) {
  if (prio > vmpressure_level_critical_prio) return;
  vmpressure(vmpr, true, vmpressure_win, 0);
}

static uint32_t xorshift32(uint32_t *state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

// CPU time, not wall time: on a shared machine the time other processes get does not count, as
// for the JavaScript side (process.cpuUsage()).
static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

// Usage: vmpressure SEED OPS REPEAT ROUNDS TICK PARENTS REGISTRATIONS
//   PARENTS: comma-separated parent index per node (-1 for the root), e.g. -1,0,1
//   REGISTRATIONS: comma-separated node:level:mode triples (numbers), e.g. 0:0:1,3:2:0
// The workload, per operation: see generate() in test/bench/engine-vs-c.js (kept identical).
int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: %s SEED OPS REPEAT ROUNDS TICK PARENTS REGISTRATIONS\n", argv[0]);
    return 2;
  }
  uint32_t seed = (uint32_t)strtoul(argv[1], NULL, 10);
  long ops = strtol(argv[2], NULL, 10);
  long repeat = strtol(argv[3], NULL, 10);
  int rounds = atoi(argv[4]);
  long tick = strtol(argv[5], NULL, 10);

  int node_count = 0;
  for (char *p = argv[6]; *p && node_count < MAX_NODES;) {
    long parent = strtol(p, &p, 10);
    nodes[node_count].parent = parent < 0 ? NULL : &nodes[parent];
    nodes[node_count].is_root = parent < 0;
    node_count++;
    if (*p == ',') p++;
  }
  int event_count = 0;
  for (char *p = argv[7]; *p && event_count < MAX_EVENTS;) {
    long node = strtol(p, &p, 10);
    long level = strtol(p + 1, &p, 10);
    long mode = strtol(p + 1, &p, 10);
    struct vmpressure_event *ev = &events[event_count];
    ev->efd = counters[event_count];
    ev->level = (enum vmpressure_levels)level;
    ev->mode = (enum vmpressure_modes)mode;
    // Appended, like list_add_tail in vmpressure_register_event.
    struct vmpressure_event **tail = &nodes[node].events;
    while (*tail) tail = &(*tail)->next;
    *tail = ev;
    event_count++;
    if (*p == ',') p++;
  }

  // The workload (see generate() in engine-vs-c.js): node, tree, scanned, reclaimed, priority.
  uint8_t *op_node = malloc(ops);
  uint8_t *op_kind = malloc(ops);
  uint16_t *op_scanned = malloc(ops * sizeof(uint16_t));
  uint16_t *op_reclaimed = malloc(ops * sizeof(uint16_t));
  uint32_t state = seed;
  uint32_t efficiency[MAX_NODES];
  for (int n = 0; n < node_count; n++) efficiency[n] = xorshift32(&state) % 577;
  for (long i = 0; i < ops; i++) {
    uint32_t r = xorshift32(&state);
    uint32_t node = r % node_count;
    uint32_t kind = (r >> 8) & 31; // 0: priority, 1-6: tree = false, else tree = true
    uint32_t scanned = (r >> 13) & 255;
    if (((r >> 21) & 63) == 0) efficiency[node] = xorshift32(&state) % 577;
    uint32_t reclaimed = ((scanned * efficiency[node]) >> 9) + ((r >> 27) & 3);
    op_node[i] = (uint8_t)node;
    op_kind[i] = kind == 0 ? 2 : kind <= 6 ? 0 : 1;
    op_scanned[i] = (uint16_t)(kind == 0 ? (r >> 13) & 15 : scanned);
    op_reclaimed[i] = (uint16_t)reclaimed;
  }

  double best = 1e300;
  unsigned long socket = 0;
  for (int round = 0; round < rounds; round++) {
    for (int n = 0; n < node_count; n++) {
      nodes[n].scanned = nodes[n].reclaimed = nodes[n].tree_scanned = nodes[n].tree_reclaimed = 0;
      nodes[n].work_pending = false;
      nodes[n].socket_pressure = 0;
    }
    for (int e = 0; e < event_count; e++)
      for (int l = 0; l < VMPRESSURE_NUM_LEVELS; l++) counters[e][l] = 0;
    workqueue_length = 0;
    jiffies = 1; // socket_pressure 0 is "never asserted"
    socket = 0;

    double start = now_ns();
    long countdown = tick;
    for (long r = 0; r < repeat; r++) {
      for (long i = 0; i < ops; i++) {
        struct vmpressure *vmpr = &nodes[op_node[i]];
        if (op_kind[i] == 2) vmpressure_prio(vmpr, op_scanned[i]);
        else vmpressure(vmpr, op_kind[i], op_scanned[i], op_reclaimed[i]);
        if (--countdown == 0) {
          countdown = tick;
          run_workqueue();
          jiffies++;
          for (int n = 0; n < node_count; n++)
            if (jiffies < nodes[n].socket_pressure) socket++;
        }
      }
    }
    run_workqueue();
    double elapsed = now_ns() - start;
    if (elapsed < best) best = elapsed;
  }

  printf("{\"nsPerOp\":%.4f,\"socket\":%lu,\"counts\":[", best / ((double)ops * repeat), socket);
  for (int e = 0; e < event_count; e++)
    printf("%s[%lu,%lu,%lu]", e ? "," : "", counters[e][0], counters[e][1], counters[e][2]);
  printf("]}\n");
  return 0;
}
