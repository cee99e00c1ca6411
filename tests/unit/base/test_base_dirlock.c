/* SPDX-License-Identifier: MIT
 * test_base_dirlock.c — the data directory's lock (base/dirlock.h): a second process is refused
 * and told the holder's PID, the lock goes with its holder (also when it is killed), and the
 * lock file names the holder.
 */
#include "base/prelude.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "test_tmp.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/dirlock.h"
#include "base/mem.h"
#include "base/util.h"

/* A child that takes the lock, says so on the pipe and waits to be killed. */
static pid_t holder(const char *dir)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct gw_dirlock *l = NULL;
        pid_t who = 0;
        char ok = gw_dirlock_acquire(dir, &l, &who) == GW_OK ? 'y' : 'n';
        if (write(p[1], &ok, 1) != 1)
            _exit(2);
        pause();
        _exit(0);
    }
    close(p[1]);
    char ok = 0;
    assert_int_equal(read(p[0], &ok, 1), 1);
    close(p[0]);
    assert_int_equal(ok, 'y');
    return pid;
}

static void test_second_process_refused(void **state)
{
    (void)state;
    char dir[64];
    assert_true(test_tmpdir(dir, sizeof dir, "test_dirlock"));
    pid_t child = holder(dir);
    struct gw_dirlock *l = NULL;
    pid_t who = 0;
    assert_int_equal(gw_dirlock_acquire(dir, &l, &who), GW_ECONFLICT);
    assert_null(l);
    assert_int_equal(who, child);
    char *path = gw_xasprintf("%s/gateway.lock", dir), *text = NULL;
    assert_int_equal(gw_file_read(path, 64, &text, NULL), GW_OK);
    assert_int_equal(strtol(text, NULL, 10), child);
    free(text);
    /* kill -9: the kernel drops the lock with its holder */
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_int_equal(gw_dirlock_acquire(dir, &l, &who), GW_OK);
    assert_non_null(l);
    assert_int_equal(gw_file_read(path, 64, &text, NULL), GW_OK);
    assert_int_equal(strtol(text, NULL, 10), getpid());
    free(text);
    gw_dirlock_release(l);
    free(path);
    test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_process_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
