/* SPDX-License-Identifier: MIT
 * cli_editline.c — the lines `openclaw chat` reads: libedit (line editing, history) on a
 * terminal, plain reads from a pipe or a file.
 *
 * On a terminal, arrow keys, Ctrl-R and the rest of libedit's emacs bindings edit the line
 * instead of reaching the model as escape sequences, and earlier messages come back from a
 * history file (cli_history_path(): 0600 in a 0700 directory, at most CLI_HISTORY_ENTRIES
 * lines, none longer than CLI_HISTORY_MAX_LINE; rewritten through a private temporary file).
 * Ctrl-C is caught (no SA_RESTART) so that a read at the prompt returns and a transfer in
 * progress sees cli_interrupted: it discards the line being typed or cancels the answer being
 * streamed, and the session goes on. Without a terminal nothing changes from a plain reader.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <sys/stat.h>
#include <unistd.h>

volatile sig_atomic_t cli_interrupted;

static struct sigaction saved_sigint;
static bool catching;

static void on_sigint(int sig)
{
    (void)sig;
    cli_interrupted = 1;
}

void cli_sigint_catch(bool on)
{
    if (on == catching)
        return;
    if (on) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_sigint;
        sigemptyset(&sa.sa_mask);
        (void)sigaction(SIGINT, &sa, &saved_sigint);
    } else {
        (void)sigaction(SIGINT, &saved_sigint, NULL);
    }
    catching = on;
}

struct cli_lines {
    EditLine *el;  /* NULL: plain reads */
    History *hist; /* NULL: no history file */
    char *prompt;
    char *history;     /* the history file */
    bool warned;       /* the history could not be saved (said once) */
    struct gw_buf buf; /* plain reads */
};

char *cli_history_path(void)
{
    char *dir = cli_xdg_dir();
    char *p = gw_xasprintf("%s/chat_history", dir);
    free(dir);
    return p;
}

static char *prompt_of(EditLine *el)
{
    struct cli_lines *l = NULL;
    el_get(el, EL_CLIENTDATA, &l);
    return l->prompt;
}

/* Loads the history file when it is a regular file of ours and not oversized. */
static void history_load(struct cli_lines *l)
{
    HistEvent ev;
    struct stat st;
    if (lstat(l->history, &st) != 0)
        return;
    if (!S_ISREG(st.st_mode) || st.st_uid != getuid() ||
        (size_t)st.st_size > CLI_HISTORY_MAX_FILE) {
        fprintf(stderr,
                "warning: %s is not a history file of yours under %zu MiB; it is not "
                "read\n",
                l->history, CLI_HISTORY_MAX_FILE >> 20);
        return;
    }
    (void)history(l->hist, &ev, H_LOAD, l->history);
}

/* Writes the history to a private temporary file and renames it over the old one. */
static void history_save(struct cli_lines *l)
{
    HistEvent ev;
    char err[320];
    char *tmp = gw_xasprintf("%s.%ld.tmp", l->history, (long)getpid());
    bool ok = false;
    if (cli_private_dir(l->history, err, sizeof(err)) == GW_OK) {
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!f && fd >= 0)
            close(fd);
        if (f) {
            ok = history(l->hist, &ev, H_SAVE_FP, f) >= 0;
            ok = fclose(f) == 0 && ok && rename(tmp, l->history) == 0;
        }
        if (!ok)
            snprintf(err, sizeof(err), "%s: %s", l->history, strerror(errno));
        if (!ok && f)
            (void)unlink(tmp);
    }
    if (!ok && !l->warned)
        fprintf(stderr, "warning: the chat history is not saved (%s)\n", err);
    l->warned = l->warned || !ok;
    free(tmp);
}

struct cli_lines *cli_lines_open(const char *prompt, bool keep_history)
{
    struct cli_lines *l = gw_xcalloc(1, sizeof(*l));
    l->prompt = gw_xstrdup(prompt);
    gw_buf_init(&l->buf, CLI_MAX_STDIN_MESSAGE + 1);
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return l;
    l->el = el_init("openclaw", stdin, stdout, stderr);
    if (!l->el)
        return l;
    el_set(l->el, EL_CLIENTDATA, l);
    el_set(l->el, EL_PROMPT, prompt_of);
    el_set(l->el, EL_EDITOR, "emacs");
    (void)el_source(l->el, NULL); /* the user's ~/.editrc, as every libedit program */
    if (!keep_history)
        return l;
    l->hist = history_init();
    if (!l->hist)
        return l;
    HistEvent ev;
    (void)history(l->hist, &ev, H_SETSIZE, CLI_HISTORY_ENTRIES);
    (void)history(l->hist, &ev, H_SETUNIQUE, 1);
    el_set(l->el, EL_HIST, history, l->hist);
    l->history = cli_history_path();
    history_load(l);
    return l;
}

bool cli_lines_interactive(const struct cli_lines *l)
{
    return l->el != NULL;
}

static int read_plain(struct cli_lines *l, size_t max, const char **line)
{
    if (isatty(STDIN_FILENO)) {
        fputs(l->prompt, stdout);
        fflush(stdout);
    }
    gw_buf_reset(&l->buf);
    int c;
    bool too_long = false;
    while ((c = getchar()) != EOF && c != '\n') {
        if (l->buf.len >= max || gw_buf_append(&l->buf, &(char){(char)c}, 1) != GW_OK)
            too_long = true;
    }
    if (c == EOF && l->buf.len == 0 && !too_long)
        return 0;
    *line = l->buf.data ? l->buf.data : "";
    return too_long ? -2 : 1;
}

int cli_lines_read(struct cli_lines *l, size_t max, const char **line)
{
    if (!l->el)
        return read_plain(l, max, line);
    cli_interrupted = 0;
    int n = 0;
    const char *s = el_gets(l->el, &n);
    if (cli_interrupted) { /* Ctrl-C at the prompt: start a fresh line */
        cli_interrupted = 0;
        fputc('\n', stdout);
        return -1;
    }
    if (!s || n <= 0)
        return 0;
    size_t len = (size_t)n;
    if (len && s[len - 1] == '\n')
        len--;
    if (len > max)
        return -2;
    gw_buf_reset(&l->buf);
    (void)gw_buf_append(&l->buf, s, len);
    *line = l->buf.data ? l->buf.data : "";
    return 1;
}

void cli_lines_remember(struct cli_lines *l, const char *line)
{
    if (!l->hist || strlen(line) > CLI_HISTORY_MAX_LINE)
        return;
    HistEvent ev;
    (void)history(l->hist, &ev, H_ENTER, line);
    history_save(l);
}

void cli_lines_close(struct cli_lines *l)
{
    if (!l)
        return;
    if (l->el)
        el_end(l->el);
    if (l->hist)
        history_end(l->hist);
    free(l->history);
    free(l->prompt);
    gw_buf_release(&l->buf);
    free(l);
}
