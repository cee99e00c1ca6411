/* SPDX-License-Identifier: MIT
 * cli_export.c — a download of an export (the audit trail, a conversation) to a file or to
 * standard output, streamed without holding it in memory.
 *
 * A file is created 0600 under a temporary name next to it (never following a symlink), synced,
 * and renamed over the target only when the whole transfer arrived, so a failed export never
 * leaves a truncated file that looks complete.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* Finishes the temporary file: synced, closed and renamed when rc is ok; else removed. */
static int finish_file(FILE *sink, const char *tmp, const char *output, int rc,
                       const struct cli_response *rs)
{
    bool ok = rc == CLI_EXIT_OK;
    if (fflush(sink) != 0 || (ok && fsync(fileno(sink)) != 0))
        ok = false;
    if (fclose(sink) != 0)
        ok = false;
    if (ok && rename(tmp, output) != 0) {
        fprintf(stderr, "error: cannot rename %s to %s: %s\n", tmp, output, strerror(errno));
        ok = false;
    } else if (!ok && rc == CLI_EXIT_OK) {
        fprintf(stderr, "error: writing %s failed: %s\n", tmp, strerror(errno));
    }
    if (ok)
        return rc;
    unlink(tmp);
    fprintf(stderr, "error: %s%s was not written\n", rs->streamed ? "export incomplete; " : "",
            output);
    return rc == CLI_EXIT_OK ? CLI_EXIT_FAIL : rc;
}

int cli_export_get(struct cli_ctx *ctx, const char *url, const char *output, json_t *summary)
{
    if (output && (!*output || !strcmp(output, "-")))
        output = NULL;
    char *tmp = NULL;
    FILE *sink = stdout;
    if (output) {
        tmp = gw_xasprintf("%s.partial.%d", output, (int)getpid());
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 || !(sink = fdopen(fd, "wb"))) {
            fprintf(stderr, "error: cannot create %s: %s\n", tmp, strerror(errno));
            if (fd >= 0)
                close(fd);
            free(tmp);
            json_decref(summary);
            return CLI_EXIT_FAIL;
        }
    }
    struct cli_response rs;
    cli_response_init(&rs);
    struct cli_request rq = {.method = "GET", .url = url, .auth = true, .sink = sink};
    int rc = cli_http(ctx, &rq, &rs);
    if (output) {
        rc = finish_file(sink, tmp, output, rc, &rs);
        if (rc == CLI_EXIT_OK && ctx->json) {
            json_object_set_new(summary, "output", json_string(output));
            json_object_set_new(summary, "bytes", json_integer((json_int_t)rs.streamed));
            cli_print_json(summary);
        } else if (rc == CLI_EXIT_OK) {
            fprintf(stderr, "Exported %llu bytes to %s\n", (unsigned long long)rs.streamed, output);
        }
    } else if (rc != CLI_EXIT_OK && rs.streamed) {
        fprintf(stderr, "error: export incomplete (%llu bytes written)\n",
                (unsigned long long)rs.streamed);
    }
    free(tmp);
    json_decref(summary);
    cli_response_release(&rs);
    return rc;
}
