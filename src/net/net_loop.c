/* SPDX-License-Identifier: MIT
 * net_loop.c — the "net-io" thread: one epoll set for every outbound transfer.
 *
 * The loop waits in epoll on the transfers' sockets (libcurl's socket interface), so the cost
 * of an event does not grow with the number of transfers in flight, and on an eventfd through
 * which other threads hand it work: tasks and submitted calls (lists under the loop's lock) or
 * a source's own queue. A burst of posts costs one wake-up: the first poster after the loop
 * took its lists writes the eventfd, the others see the flag set. Each turn: take the lists,
 * run the tasks and start the calls in posting order, run the sources, fire curl's timer, wait.
 * Only the loop thread touches the multi handle, the easy handles and the live calls.
 */
#include "base/prelude.h"
#include "net/net_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "base/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define SPARE_HANDLES 256 /* reset easy handles kept for reuse (saves their set-up) */

struct net_loop {
    pthread_t thread;
    CURLM *multi;
    int epfd;                  /* the transfers' sockets and wakefd */
    int wakefd;                /* eventfd */
    atomic_bool woken;         /* wakefd written since the loop took its lists */
    pthread_mutex_t lock;      /* tasks, incoming, stop, egress */
    struct net_task *tasks;    /* newest first */
    struct net_call *incoming; /* newest first */
    bool stop;
    struct net_egress *egress;
    /* loop thread only (or its joiner) */
    bool stopped;        /* the thread left its loop: nothing starts any more */
    int64_t curl_due_ms; /* curl's timer (monotonic ms), -1 when none */
    struct net_source *sources;
    struct net_call *live;
    CURL *spare[SPARE_HANDLES];
    size_t n_spare;
    bool *parked; /* parked[fd]: in the epoll set, curl not watching it */
    size_t n_parked;
};

static int64_t now_ms(void)
{
    return gw_mono_ns() / 1000000;
}

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void net_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_init_once);
}

void net_cleanup(void)
{
    curl_global_cleanup();
}

/* --- pieces for net_http.c -------------------------------------------------------------------- */

CURLM *net_loop_multi(struct net_loop *l)
{
    return l->multi;
}

CURL *net_loop_easy(struct net_loop *l)
{
    return l->n_spare ? l->spare[--l->n_spare] : curl_easy_init();
}

void net_loop_easy_release(struct net_loop *l, CURL *e)
{
    curl_multi_remove_handle(l->multi, e);
    if (l->n_spare < SPARE_HANDLES) {
        curl_easy_reset(e);
        l->spare[l->n_spare++] = e;
    } else {
        curl_easy_cleanup(e);
    }
}

void net_loop_link(struct net_loop *l, struct net_call *c)
{
    c->prev = NULL;
    c->next = l->live;
    if (l->live)
        l->live->prev = c;
    l->live = c;
}

void net_loop_unlink(struct net_loop *l, struct net_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else if (l->live == c)
        l->live = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* --- policy, tasks, sources ------------------------------------------------------------------- */

void net_loop_set_egress(struct net_loop *l, struct net_egress *e)
{
    net_egress_ref(e);
    pthread_mutex_lock(&l->lock);
    struct net_egress *old = l->egress;
    l->egress = e;
    pthread_mutex_unlock(&l->lock);
    net_egress_unref(old);
}

struct net_egress *net_loop_egress(struct net_loop *l)
{
    pthread_mutex_lock(&l->lock);
    struct net_egress *e = net_egress_ref(l->egress);
    pthread_mutex_unlock(&l->lock);
    return e;
}

bool net_loop_on_thread(const struct net_loop *l)
{
    return pthread_equal(pthread_self(), l->thread);
}

void net_loop_wake(struct net_loop *l)
{
    if (atomic_exchange(&l->woken, true))
        return; /* already woken: it takes everything posted before it runs */
    uint64_t one = 1;
    while (write(l->wakefd, &one, sizeof one) < 0 && errno == EINTR)
        continue;
}

void net_loop_post(struct net_loop *l, struct net_task *t)
{
    pthread_mutex_lock(&l->lock);
    t->next = l->tasks;
    l->tasks = t;
    pthread_mutex_unlock(&l->lock);
    net_loop_wake(l);
}

struct sync_task {
    struct net_task task;
    void (*fn)(void *arg);
    void *arg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
};

static void sync_run(struct net_task *t)
{
    struct sync_task *s = (struct sync_task *)t;
    s->fn(s->arg);
    pthread_mutex_lock(&s->mu);
    s->done = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void net_loop_call(struct net_loop *l, void (*fn)(void *arg), void *arg)
{
    if (net_loop_on_thread(l)) {
        fn(arg);
        return;
    }
    struct sync_task s = {.task.fn = sync_run, .fn = fn, .arg = arg};
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    net_loop_post(l, &s.task);
    pthread_mutex_lock(&s.mu);
    while (!s.done)
        pthread_cond_wait(&s.cv, &s.mu);
    pthread_mutex_unlock(&s.mu);
    pthread_mutex_destroy(&s.mu);
    pthread_cond_destroy(&s.cv);
}

void net_loop_add_source(struct net_loop *l, struct net_source *s)
{
    s->next = l->sources;
    l->sources = s;
}

void net_loop_remove_source(struct net_loop *l, struct net_source *s)
{
    for (struct net_source **pp = &l->sources; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            s->next = NULL;
            return;
        }
    }
}

void net_call_submit(struct net_loop *l, struct net_call *call, const struct net_request *req)
{
    memset(call, 0, sizeof *call);
    call->loop = l;
    call->req = req;
    pthread_mutex_lock(&l->lock);
    call->next = l->incoming;
    l->incoming = call;
    pthread_mutex_unlock(&l->lock);
    net_loop_wake(l);
}

/* --- curl's socket interface on epoll --------------------------------------------------------- */

static bool is_parked(const struct net_loop *l, int fd)
{
    return fd >= 0 && (size_t)fd < l->n_parked && l->parked[fd];
}

static void set_parked(struct net_loop *l, int fd, bool parked)
{
    if (fd < 0 || (!parked && (size_t)fd >= l->n_parked))
        return;
    if ((size_t)fd >= l->n_parked) {
        size_t n = GW_MAX((size_t)fd + 1, 2 * l->n_parked);
        l->parked = gw_xrealloc(l->parked, n * sizeof *l->parked);
        memset(l->parked + l->n_parked, 0, (n - l->n_parked) * sizeof *l->parked);
        l->n_parked = n;
    }
    l->parked[fd] = parked;
}

/* curl's socket interface. A socket curl stops watching (a kept-alive connection between two
 * requests) stays in the epoll set, parked: taking it back for the next request is one MOD
 * instead of a DEL now and an ADD then. A closed socket leaves the set by itself; a parked one
 * that fires (the server closed the connection) is removed then. */
static int on_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *socketp)
{
    GW_UNUSED(e);
    struct net_loop *l = arg;
    if (what == CURL_POLL_REMOVE) {
        set_parked(l, fd, true);
        return 0;
    }
    struct epoll_event ev = {.data.fd = fd};
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
    int op = socketp || is_parked(l, fd) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    int rc = epoll_ctl(l->epfd, op, fd, &ev);
    if (rc != 0 && errno == ENOENT) /* parked, then closed: its number came back */
        rc = epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
    else if (rc != 0 && errno == EEXIST)
        rc = epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
    set_parked(l, fd, false);
    if (rc == 0 && !socketp)
        curl_multi_assign(l->multi, fd, l); /* marks it as added */
    return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *arg)
{
    GW_UNUSED(m);
    struct net_loop *l = arg;
    l->curl_due_ms = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    return 0;
}

static void finish_transfers(struct net_loop *l)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(l->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct net_call *c = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        if (c)
            net_call_finished(c, m->data.result);
    }
}

/* --- the loop --------------------------------------------------------------------------------- */

/* Takes the posted tasks and calls and runs them in posting order; returns the stop flag. */
static bool take_posted(struct net_loop *l)
{
    atomic_store(&l->woken, false); /* before reading the lists: no post is missed */
    pthread_mutex_lock(&l->lock);
    struct net_task *tasks = l->tasks;
    struct net_call *calls = l->incoming;
    l->tasks = NULL;
    l->incoming = NULL;
    bool stop = l->stop;
    pthread_mutex_unlock(&l->lock);
    struct net_task *trev = NULL;
    while (tasks) {
        struct net_task *n = tasks->next;
        tasks->next = trev;
        trev = tasks;
        tasks = n;
    }
    struct net_call *crev = NULL;
    while (calls) {
        struct net_call *n = calls->next;
        calls->next = crev;
        crev = calls;
        calls = n;
    }
    for (struct net_task *t = trev, *n; t; t = n) {
        n = t->next;
        t->fn(t);
    }
    for (struct net_call *c = crev, *n; c; c = n) {
        n = c->next;
        c->next = NULL;
        net_call_start_submitted(l, c);
    }
    return stop;
}

static void *loop_main(void *arg)
{
    pthread_setname_np(pthread_self(), "net-io");
    struct net_loop *l = arg;
    struct epoll_event ev[64];
    int running = 0;
    while (!take_posted(l)) {
        int64_t now = now_ms(), timeout = 1000;
        for (struct net_source *s = l->sources, *n; s; s = n) {
            n = s->next; /* a source may remove itself */
            s->run(s->arg, now, &timeout);
        }
        now = now_ms();
        if (l->curl_due_ms >= 0 && l->curl_due_ms <= now) {
            l->curl_due_ms = -1;
            curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
            finish_transfers(l);
        }
        if (l->curl_due_ms >= 0 && l->curl_due_ms - now < timeout)
            timeout = l->curl_due_ms - now;
        int n = epoll_wait(l->epfd, ev, (int)GW_ARRAY_LEN(ev), (int)GW_MAX(timeout, 0));
        for (int i = 0; i < n; i++) {
            if (ev[i].data.fd == l->wakefd) {
                uint64_t v;
                while (read(l->wakefd, &v, sizeof v) < 0 && errno == EINTR)
                    continue;
                continue;
            }
            if (is_parked(l, ev[i].data.fd)) { /* an idle connection closed or spoke */
                epoll_ctl(l->epfd, EPOLL_CTL_DEL, ev[i].data.fd, NULL);
                set_parked(l, ev[i].data.fd, false);
                continue;
            }
            int flags = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                        (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                        (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(l->multi, ev[i].data.fd, flags, &running);
        }
        finish_transfers(l);
    }
    l->stopped = true;
    while (l->live)
        net_call_cancel(l->live, "the gateway is shutting down");
    return NULL;
}

bool net_loop_stopped(const struct net_loop *l)
{
    return l->stopped;
}

gw_err net_loop_start(struct net_loop **out)
{
    *out = NULL;
    net_init();
    struct net_loop *l = gw_xcalloc(1, sizeof *l);
    pthread_mutex_init(&l->lock, NULL);
    atomic_init(&l->woken, false);
    l->curl_due_ms = -1;
    struct net_egress_rules none = {.proxy = NULL};
    char msg[64];
    net_egress_new(&none, &l->egress, msg, sizeof msg);
    l->multi = curl_multi_init();
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event wev = {.events = EPOLLIN};
    wev.data.fd = l->wakefd;
    if (l->multi) {
        curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, 1024L);
        curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
        curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, on_timer);
        curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
    }
    if (!l->multi || l->epfd < 0 || l->wakefd < 0 ||
        epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &wev) != 0 ||
        pthread_create(&l->thread, NULL, loop_main, l) != 0) {
        if (l->epfd >= 0)
            close(l->epfd);
        if (l->wakefd >= 0)
            close(l->wakefd);
        if (l->multi)
            curl_multi_cleanup(l->multi);
        net_egress_unref(l->egress);
        pthread_mutex_destroy(&l->lock);
        free(l);
        return GW_EINTERNAL;
    }
    *out = l;
    return GW_OK;
}

void net_loop_stop(struct net_loop *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->lock);
    l->stop = true;
    pthread_mutex_unlock(&l->lock);
    atomic_store(&l->woken, false);
    net_loop_wake(l);
    pthread_join(l->thread, NULL);
    take_posted(l); /* what raced with the stop: tasks run, calls are refused (stopping) */
    while (l->live)
        net_call_cancel(l->live, "the gateway is shutting down");
    while (l->n_spare)
        curl_easy_cleanup(l->spare[--l->n_spare]);
    curl_multi_cleanup(l->multi);
    close(l->epfd);
    close(l->wakefd);
    net_egress_unref(l->egress);
    pthread_mutex_destroy(&l->lock);
    free(l->parked);
    free(l);
}
