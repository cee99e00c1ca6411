/* SPDX-License-Identifier: MIT
 * sys_cost.c — what the machine charges for the kernel work every proxied request does: one
 * trivial system call, and one wake-up round trip between two threads over eventfds (two
 * context switches), on the same core and across cores. Printed as key=value lines by the
 * benchmark scripts, because on a paravirtualized VM these cost an order of magnitude more than
 * on bare metal, which the gateway's per-request figures inherit.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { CALLS = 200000, TRIPS = 20000 };

static int to_peer, to_main;

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *peer(void *arg)
{
    pin((int)(intptr_t)arg);
    uint64_t v;
    for (int i = 0; i < TRIPS; i++)
        if (read(to_peer, &v, sizeof v) != sizeof v || write(to_main, &v, sizeof v) != sizeof v)
            break;
    return NULL;
}

static double round_trip_us(int main_cpu, int peer_cpu)
{
    pthread_t t;
    pin(main_cpu);
    pthread_create(&t, NULL, peer, (void *)(intptr_t)peer_cpu);
    uint64_t v = 1;
    double t0 = now_us();
    for (int i = 0; i < TRIPS; i++)
        if (write(to_peer, &v, sizeof v) != sizeof v || read(to_main, &v, sizeof v) != sizeof v)
            break;
    double us = (now_us() - t0) / TRIPS;
    pthread_join(t, NULL);
    return us;
}

int main(void)
{
    double t0 = now_us();
    for (int i = 0; i < CALLS; i++)
        syscall(SYS_getppid);
    printf("syscall_us=%.3f\n", (now_us() - t0) / CALLS);
    to_peer = eventfd(0, 0);
    to_main = eventfd(0, 0);
    printf("wakeup_round_trip_same_core_us=%.2f\n", round_trip_us(0, 0));
    if (sysconf(_SC_NPROCESSORS_ONLN) > 1)
        printf("wakeup_round_trip_cross_core_us=%.2f\n", round_trip_us(0, 1));
    return 0;
}
