/* SPDX-License-Identifier: MIT
 * cli_loopback.c — the browser side of `openclaw auth login` (RFC 8252 native-app flow): the
 * PKCE pair, and the one-request listener on 127.0.0.1 that the browser comes back to.
 *
 * The listener takes a random port on 127.0.0.1 only, reads a bounded request head within a
 * per-connection wait, and takes nothing but GET /callback?code=&state= (other requests, a
 * favicon, get 404); the browser tab is answered with fixed texts only. The browser is
 * $BROWSER, xdg-open or --browser-command, run with the URL as $1 (never parsed by the
 * shell). --no-browser reads the pasted code from standard input instead. Kept apart from the
 * commands (cli_auth.c) so that what the browser sends is handled, and tested, on its own.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/mem.h"
#include "base/util.h"
#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_REQUEST_HEAD 8192 /* what the loopback listener reads of a browser request */
#define CONN_WAIT_MS 10000    /* per browser connection */
#define MAX_PASTED_CODE 512

void cli_pkce_pair(char verifier[44], char challenge[44])
{
    unsigned char raw[32], h[GW_SHA256_LEN];
    char b64[48];
    gw_random(raw, sizeof(raw));
    gw_b64url(raw, sizeof(raw), b64);
    memcpy(verifier, b64, 44);
    gw_sha256(verifier, strlen(verifier), h);
    gw_b64url(h, sizeof(h), b64);
    memcpy(challenge, b64, 44);
    explicit_bzero(raw, sizeof(raw));
}

void cli_callback_release(struct cli_callback *cb)
{
    cli_wipe_free(cb->code);
    free(cb->state);
    free(cb->error);
    memset(cb, 0, sizeof(*cb));
}

/* One decoded form value ('+' is a space); NULL when malformed or holding a NUL. */
static char *form_value(const char *s, size_t len)
{
    char *raw = gw_xstrndup(s, len);
    for (char *p = raw; *p; p++)
        if (*p == '+')
            *p = ' ';
    char *out = net_url_unescape(raw, len, NULL);
    explicit_bzero(raw, len);
    free(raw);
    return out;
}

int cli_callback_parse(const char *target, struct cli_callback *cb)
{
    memset(cb, 0, sizeof(*cb));
    if (strncmp(target, "/callback", 9) != 0 || (target[9] && target[9] != '?'))
        return -1;
    const char *p = target[9] ? target + 10 : "";
    while (*p) {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        char **slot = klen == 4 && !memcmp(p, "code", 4)    ? &cb->code
                      : klen == 5 && !memcmp(p, "state", 5) ? &cb->state
                      : klen == 5 && !memcmp(p, "error", 5) ? &cb->error
                                                            : NULL;
        if (slot) {
            char *v = eq ? form_value(eq + 1, len - klen - 1) : gw_xstrdup("");
            if (!v || *slot) { /* malformed, or given twice */
                cli_wipe_free(v);
                cli_callback_release(cb);
                return -2;
            }
            *slot = v;
        }
        p += len + (p[len] == '&');
    }
    return 0;
}

int cli_listen_loopback(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        fprintf(stderr, "error: cannot listen on 127.0.0.1 for the browser: %s\n", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static int remaining_ms(int64_t deadline_ms)
{
    int64_t left = deadline_ms - gw_now_ms();
    return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

/* The request target of a GET from a browser connection (malloc'd), or NULL. */
static char *read_target(int fd, int64_t deadline_ms)
{
    char buf[MAX_REQUEST_HEAD + 1];
    size_t n = 0;
    buf[0] = '\0';
    while (n < MAX_REQUEST_HEAD && !strstr(buf, "\r\n\r\n") && !strstr(buf, "\n\n")) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int ms = remaining_ms(deadline_ms);
        if (ms == 0 || poll(&pf, 1, ms) <= 0)
            return NULL;
        ssize_t r = recv(fd, buf + n, MAX_REQUEST_HEAD - n, 0);
        if (r <= 0)
            return NULL;
        n += (size_t)r;
        buf[n] = '\0';
    }
    if (strncmp(buf, "GET ", 4) != 0)
        return NULL;
    size_t tlen = strcspn(buf + 4, " \r\n");
    return buf[4 + tlen] == ' ' ? gw_xstrndup(buf + 4, tlen) : NULL;
}

/* A small page for the browser tab (fixed texts only), then the connection is closed. */
void cli_answer_browser(int fd, int status, const char *title, const char *text)
{
    if (fd < 0)
        return;
    char body[1024], head[256];
    int bl = snprintf(body, sizeof(body),
                      "<!doctype html><html><head><meta charset=\"utf-8\">"
                      "<title>%s</title></head><body><h1>%s</h1><p>%s</p></body></html>\n",
                      title, title, text);
    int hl = snprintf(head, sizeof(head),
                      "HTTP/1.1 %d %s\r\nContent-Type: text/html; "
                      "charset=utf-8\r\nContent-Length: %d\r\nCache-Control: no-store\r\n"
                      "Connection: close\r\n\r\n",
                      status, status == 200 ? "OK" : "Error", bl);
    (void)!send(fd, head, (size_t)hl, MSG_NOSIGNAL);
    (void)!send(fd, body, (size_t)bl, MSG_NOSIGNAL);
    close(fd);
}

/* Runs the browser command with the URL as $1 (never parsed by the shell). */
pid_t cli_launch_browser(const char *cmd, const char *url)
{
    struct gw_buf script;
    gw_buf_init(&script, 65536);
    const char *p = cmd;
    const char *pct = strstr(p, "%s");
    if (!pct) {
        gw_buf_printf(&script, "%s \"$1\"", cmd);
    } else {
        for (; pct; p = pct + 2, pct = strstr(p, "%s"))
            gw_buf_printf(&script, "%.*s\"$1\"", (int)(pct - p), p);
        gw_buf_puts(&script, p);
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        dup2(2, 1); /* its chatter must not mix with our standard output */
        execl("/bin/sh", "sh", "-c", script.data, "openclaw-browser", url, (char *)NULL);
        _exit(127);
    }
    gw_buf_release(&script);
    return pid;
}

/* The browser command: --browser-command, else the first entry of $BROWSER, else xdg-open. */
char *cli_browser_command(const char *flag)
{
    if (flag && *flag)
        return gw_xstrdup(flag);
    const char *b = getenv("BROWSER");
    if (b && *b)
        return gw_xstrndup(b, strcspn(b, ":"));
    return gw_xstrdup("xdg-open");
}

/* Waits for GET /callback; other requests (a favicon) get 404. *conn is the browser's
 * connection, left open for the answer. 0 ok, -1 timeout, -2 malformed callback. */
int cli_wait_callback(int lfd, int64_t deadline_ms, pid_t browser, int *conn,
                      struct cli_callback *cb)
{
    bool browser_done = browser <= 0;
    for (;;) {
        int ms = remaining_ms(deadline_ms);
        if (ms == 0)
            return -1;
        struct pollfd pf = {.fd = lfd, .events = POLLIN};
        int pr = poll(&pf, 1, ms > 1000 ? 1000 : ms);
        int status = 0;
        if (!browser_done && waitpid(browser, &status, WNOHANG) == browser) {
            browser_done = true;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fprintf(stderr,
                        "The browser command failed (exit status %d): open the URL "
                        "above yourself.\n",
                        WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        }
        if (pr <= 0)
            continue;
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        int64_t conn_deadline = GW_MIN(deadline_ms, gw_now_ms() + CONN_WAIT_MS);
        char *target = read_target(c, conn_deadline);
        int r = target ? cli_callback_parse(target, cb) : -1;
        free(target);
        if (r == -1) {
            cli_answer_browser(c, 404, "Not found", "This is the openclaw CLI's sign-in listener.");
            continue;
        }
        *conn = c;
        return r;
    }
}

/* A line from standard input within the deadline (the pasted code), trimmed; NULL on
 * timeout or end of input. */
char *cli_read_pasted(int64_t deadline_ms)
{
    char buf[MAX_PASTED_CODE + 1];
    size_t n = 0;
    while (n < MAX_PASTED_CODE) {
        struct pollfd pf = {.fd = 0, .events = POLLIN};
        int ms = remaining_ms(deadline_ms);
        if (ms == 0 || poll(&pf, 1, ms) <= 0)
            return NULL;
        ssize_t r = read(0, buf + n, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || buf[n] == '\n')
            break;
        n++;
    }
    buf[n] = '\0';
    char *s = buf;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    char *out = len ? gw_xstrndup(s, len) : NULL;
    explicit_bzero(buf, sizeof(buf));
    return out;
}
