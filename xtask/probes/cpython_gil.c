/*
 * CPython 3.11's GIL hand-off, in C, without the interpreter: a reference
 * for the simulation's GIL model (web/src/engine/gil.rs).
 *
 * take_gil/drop_gil follow Python/ceval_gil.h line for line (FORCE_SWITCHING
 * on), on the C library's mutex and condition variables as CPython's are;
 * the drop request is read where CPython's eval breaker would be, in the
 * busy loops. Ten threads run counter-race.py's gil-read-then-write loop: 1000
 * times read a shared counter, compute 1 us, write it back plus one, compute
 * 10 us. They wait at a gate first, which the main thread opens holding the
 * GIL as `Event.set()` does (a waiter released every 7 us), then lets go of
 * the GIL as `join()` does. Each thread logs when each iteration starts.
 *
 * It prints, over its runs: lost updates (median, mean), and how many other
 * threads' turns a thread waited before it was back (the fidelity harness's
 * "back after" table: 1, 2, 3, 4, 12 or more), for threads switched out in a
 * run's first two turns and for all. Compare with CPython's turns from
 * xtask/fidelity.py's HANDOFF_CPYTHON loop.
 *
 *   cc -O2 -pthread xtask/probes/cpython_gil.c -o /tmp/cpython_gil
 *   /tmp/cpython_gil 400
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define THREADS 10
#define ITERS 1000
#define MAIN_THREAD 100
#define INTERVAL_NS 5000000LL

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER, switch_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond, switch_cond;
static atomic_int locked, drop_request;
static long switch_number;
static atomic_long last_holder = -1;
static sem_t gate[THREADS];
static volatile long hits;
static long long starts[THREADS][ITERS];

static long long now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void take_gil(long me) {
    pthread_mutex_lock(&mutex);
    while (atomic_load(&locked)) {
        long saved = switch_number;
        long long deadline = now() + INTERVAL_NS;
        struct timespec d = {deadline / 1000000000LL, deadline % 1000000000LL};
        int timed_out = pthread_cond_timedwait(&cond, &mutex, &d) != 0;
        /* Timed out, and nobody took it meanwhile: ask the holder to drop it. */
        if (timed_out && atomic_load(&locked) && switch_number == saved)
            atomic_store(&drop_request, 1);
    }
    pthread_mutex_lock(&switch_mutex);
    atomic_store(&locked, 1);
    if (me != atomic_load(&last_holder)) {
        atomic_store(&last_holder, me);
        ++switch_number;
    }
    pthread_cond_signal(&switch_cond);
    pthread_mutex_unlock(&switch_mutex);
    atomic_store(&drop_request, 0);
    pthread_mutex_unlock(&mutex);
}

static void drop_gil(long me) {
    pthread_mutex_lock(&mutex);
    atomic_store(&locked, 0);
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&mutex);
    /* FORCE_SWITCHING: dropped on request, wait until another thread has it. */
    if (atomic_load(&drop_request)) {
        pthread_mutex_lock(&switch_mutex);
        if (atomic_load(&last_holder) == me) {
            atomic_store(&drop_request, 0);
            pthread_cond_wait(&switch_cond, &switch_mutex);
        }
        pthread_mutex_unlock(&switch_mutex);
    }
}

/* Computes for `ns`, at an eval-breaker point every turn of the loop. */
static void compute(long me, long long ns) {
    long long end = now() + ns;
    while (now() < end) {
        if (atomic_load_explicit(&drop_request, memory_order_relaxed)) {
            drop_gil(me);
            take_gil(me);
        }
    }
}

static void *worker(void *arg) {
    long me = (long)arg;
    sem_wait(&gate[me]); /* Event.wait(): blocked without the GIL */
    take_gil(me);
    for (int i = 0; i < ITERS; i++) {
        starts[me][i] = now();
        long seen = hits;
        compute(me, 1000);
        hits = seen + 1;
        compute(me, 10000);
    }
    drop_gil(me);
    return NULL;
}

static int by_value(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 100;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cond, &attr);
    pthread_cond_init(&switch_cond, NULL);
    long long *lost = calloc(runs, sizeof *lost);
    /* back[first two turns or all][others' turns waited, 12 = 12 or more] */
    long back[2][13] = {{0}};
    static int seq[THREADS * ITERS];
    for (int r = 0; r < runs; r++) {
        hits = 0;
        switch_number = 0;
        atomic_store(&last_holder, -1);
        atomic_store(&drop_request, 0);
        atomic_store(&locked, 0);
        for (int i = 0; i < THREADS; i++) sem_init(&gate[i], 0, 0);
        take_gil(MAIN_THREAD);
        pthread_t threads[THREADS];
        for (long i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, worker, (void *)i);
        /* Let them all reach the gate. */
        drop_gil(MAIN_THREAD);
        struct timespec pause = {0, 3000000};
        nanosleep(&pause, NULL);
        take_gil(MAIN_THREAD);
        for (int i = 0; i < THREADS; i++) {
            long long from = now();
            sem_post(&gate[i]);
            while (now() - from < 7000) {}
        }
        drop_gil(MAIN_THREAD);
        for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
        lost[r] = (long long)THREADS * ITERS - hits;

        /* Turns: runs of one thread's iterations, in time order. */
        int at[THREADS] = {0}, turns = 0;
        for (;;) {
            int next = -1;
            for (int i = 0; i < THREADS; i++)
                if (at[i] < ITERS && (next < 0 || starts[i][at[i]] < starts[next][at[next]])) next = i;
            if (next < 0) break;
            at[next]++;
            if (turns == 0 || seq[turns - 1] != next) seq[turns++] = next;
        }
        for (int t = 0; t < turns; t++)
            for (int u = t + 1; u < turns; u++)
                if (seq[u] == seq[t]) {
                    int waited = u - t - 1 < 12 ? u - t - 1 : 12;
                    if (t < 2) back[0][waited]++;
                    back[1][waited]++;
                    break;
                }
    }
    qsort(lost, runs, sizeof *lost, by_value);
    double sum = 0;
    for (int r = 0; r < runs; r++) sum += lost[r];
    printf("runs %d, lost updates: median %lld, mean %.0f\n", runs, lost[runs / 2], sum / runs);
    const char *label[2] = {"switched out in turns 0-1", "all"};
    for (int k = 0; k < 2; k++) {
        long n = 0;
        for (int w = 1; w <= 12; w++) n += back[k][w];
        printf("back after (%s, %ld returns): 1 %.3f, 2 %.3f, 3 %.3f, 4 %.3f, 12+ %.3f\n", label[k], n,
               (double)back[k][1] / n, (double)back[k][2] / n, (double)back[k][3] / n, (double)back[k][4] / n,
               (double)back[k][12] / n);
    }
    free(lost);
    return 0;
}
