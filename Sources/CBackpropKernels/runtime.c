// Runtime settings and the parallel loop. Parallel kernels run on the OpenMP threads oneDNN already
// uses (libgomp's GOMP_parallel, looked up at run time), never on a second pool: two pools spinning
// on two cores slowed training several times (PLATFORM.md).
#include "internal.h"
#include <dlfcn.h>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

void bp_enable_flush_denormals(void) {
#if defined(__x86_64__)
    _mm_setcsr(_mm_getcsr() | 0x8040); // FTZ (bit 15) | DAZ (bit 6)
#endif
}

int bp_flush_denormals_enabled(void) {
#if defined(__x86_64__)
    return (_mm_getcsr() & 0x8040) == 0x8040;
#else
    return 0;
#endif
}

typedef void (*gomp_parallel_fn)(void (*)(void *), void *, unsigned, unsigned);
typedef int (*omp_int_fn)(void);

static gomp_parallel_fn gomp_parallel;
static omp_int_fn omp_thread_num, omp_num_threads, omp_max_threads, omp_in_parallel_fn;
static int runtime_resolved;

static void resolve_runtime(void) {
    if (__atomic_load_n(&runtime_resolved, __ATOMIC_ACQUIRE)) return;
    gomp_parallel = (gomp_parallel_fn)dlsym(RTLD_DEFAULT, "GOMP_parallel");
    omp_thread_num = (omp_int_fn)dlsym(RTLD_DEFAULT, "omp_get_thread_num");
    omp_num_threads = (omp_int_fn)dlsym(RTLD_DEFAULT, "omp_get_num_threads");
    omp_max_threads = (omp_int_fn)dlsym(RTLD_DEFAULT, "omp_get_max_threads");
    omp_in_parallel_fn = (omp_int_fn)dlsym(RTLD_DEFAULT, "omp_in_parallel");
    if (!omp_thread_num || !omp_num_threads || !omp_max_threads || !omp_in_parallel_fn) gomp_parallel = 0;
    __atomic_store_n(&runtime_resolved, 1, __ATOMIC_RELEASE);
}

int bp_thread_count(void) {
    resolve_runtime();
    return gomp_parallel ? omp_max_threads() : 1;
}

typedef struct {
    bp_range_fn fn;
    void *context;
    int64_t n;
} parallel_job;

static void run_slice(void *data) {
    parallel_job *job = (parallel_job *)data;
    bp_enable_flush_denormals();
    int64_t threads = omp_num_threads(), id = omp_thread_num();
    // Slices rounded to 16 floats keep each thread on its own cache lines.
    int64_t chunk = ((job->n + threads - 1) / threads + 15) & ~(int64_t)15;
    int64_t begin = id * chunk, end = begin + chunk < job->n ? begin + chunk : job->n;
    if (begin < end) job->fn(job->context, begin, end);
}

// Set on helper threads (the data loader's prefetch thread): a parallel region opened there would
// start a second OpenMP pool beside the training thread's.
static _Thread_local int serial_thread;

void bp_set_serial_thread(int serial) { serial_thread = serial; }

void bp_parallel_for(int64_t n, int64_t grain, bp_range_fn fn, void *context) {
    if (n <= 0) return;
    resolve_runtime();
    // Inside a parallel region (a slice of bp_parallel_slices) the loop runs on its own thread.
    if (serial_thread || !gomp_parallel || n < grain || omp_max_threads() < 2 || omp_in_parallel_fn()) {
        fn(context, 0, n);
        return;
    }
    parallel_job job = {fn, context, n};
    gomp_parallel(run_slice, &job, 0, 0);
}

static _Thread_local int thread_mode;

int bp_thread_mode(void) { return thread_mode; }
void bp_set_thread_mode(int mode) { thread_mode = mode; }

typedef void (*omp_set_fn)(int);

int bp_set_thread_count(int count) {
    resolve_runtime();
    omp_set_fn set = (omp_set_fn)dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    if (!set || count < 1) return 0;
    set(count);
    return 1;
}

// MARK: Interruption (SIGINT, SIGTERM, SIGQUIT)
//
// The first signal only sets a flag that the training loop reads after each step, so a run ends
// between steps with its state consistent; a second signal, or any signal while no training runs,
// ends the process at once. Only async-signal-safe calls (write, _exit) happen in the handler.
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t training_active;

static void write_text(const char *text) {
    ssize_t ignored = write(STDERR_FILENO, text, strlen(text));
    (void)ignored;
}

static void on_stop_signal(int number) {
    if (!training_active || stop_signal) {
        write_text(stop_signal ? "\nInterrupted again: exiting now.\n" : "\nInterrupted.\n");
        _exit(128 + number);
    }
    stop_signal = number;
    write_text("\nInterrupt received: stopping after the current step (send it again to quit at once).\n");
}

void bp_install_stop_handlers(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, 0);
    sigaction(SIGTERM, &action, 0);
    sigaction(SIGQUIT, &action, 0);
    // A parent may start us with these blocked (Foundation's Process does): unblock them, or
    // they would stay pending and the run could not be stopped at all.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGQUIT);
    pthread_sigmask(SIG_UNBLOCK, &set, 0);
}

int bp_stop_signal(void) { return stop_signal; }
void bp_clear_stop_signal(void) { stop_signal = 0; }
void bp_set_training_active(int active) { training_active = active; }

void bp_parallel_slices(int64_t n, void (*fn)(void *context, int64_t begin, int64_t end), void *context) {
    bp_parallel_for(n, 1, fn, context);
}
