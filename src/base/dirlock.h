/* SPDX-License-Identifier: MIT
 * dirlock.h — an exclusive lock on a data directory, so that two gateways never share one.
 *
 * Two processes appending to one audit trail would each keep their own chain heads and reuse
 * each other's sequence numbers. The lock is a POSIX record lock on <dir>/gateway.lock, held
 * for the life of the process (the kernel drops it when the process dies, kill -9 included);
 * the file holds the owner's PID for people, and a refused start names the holder as the
 * kernel reports it (F_GETLK), not as the file says.
 */
#ifndef GW_DIRLOCK_H
#define GW_DIRLOCK_H

#include "base/prelude.h"
#include "base/err.h"

#include <sys/types.h>

struct gw_dirlock;

/* Takes the lock of dir. GW_ECONFLICT when another process holds it: *holder is its PID (0
 * when the kernel did not say); GW_EIO when the lock file cannot be opened. */
gw_err gw_dirlock_acquire(const char *dir, struct gw_dirlock **out, pid_t *holder);
/* Releases the lock (NULL is a no-op). */
void gw_dirlock_release(struct gw_dirlock *l);

#endif
