/* SPDX-License-Identifier: MIT
 * pol_classify.c — classification levels: connector defaults and content detectors.
 *
 * Detectors can only raise a level. They are hand-written scanners, not regular expressions:
 * one pass over the text, and at each candidate position a lookahead bounded by a constant
 * (the longest pattern), so the cost is linear in the input whatever it contains and nothing is
 * allocated. Levels: e-mail addresses and phone numbers are internal (contact data is routine in
 * business mail, but not public); payment cards (Luhn + issuer prefix), national ids (US SSN
 * without its never-issued ranges, UK National Insurance numbers, Canadian SINs with Luhn) and
 * API keys are confidential; private keys are restricted. To resist false positives, numbers
 * need their usual separators (a bare 9-digit run is not an SSN, a bare 10-digit run is not a
 * phone number), dates and short order numbers never match, and cards need a valid checksum.
 */
#include "base/prelude.h"
#include "policy/policy_int.h"

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_UPPER(c) ((c) >= 'A' && (c) <= 'Z')
#define IS_LOWER(c) ((c) >= 'a' && (c) <= 'z')
#define IS_ALPHA(c) (IS_UPPER(c) || IS_LOWER(c))
#define IS_ALNUM(c) (IS_ALPHA(c) || IS_DIGIT(c))

static const char *const det_names[] = {"email",       "phone",   "payment_card",
                                        "national_id", "api_key", "private_key"};
static const enum pol_level det_levels[] = {POL_LEVEL_INTERNAL,     POL_LEVEL_INTERNAL,
                                            POL_LEVEL_CONFIDENTIAL, POL_LEVEL_CONFIDENTIAL,
                                            POL_LEVEL_CONFIDENTIAL, POL_LEVEL_RESTRICTED};

const char *pol_detector_name(enum pol_detector d)
{
    return (unsigned)d < POL_DET__COUNT ? det_names[d] : "unknown";
}

enum pol_level pol_detector_level(enum pol_detector d)
{
    return (unsigned)d < POL_DET__COUNT ? det_levels[d] : POL_LEVEL_RESTRICTED;
}

enum pol_level pol_level_max(enum pol_level a, enum pol_level b)
{
    return a > b ? a : b;
}

struct scan {
    const char *t;
    size_t n;
};

static char at(const struct scan *s, size_t i)
{
    return i < s->n ? s->t[i] : '\0';
}

static bool luhn(const unsigned char *d, size_t n)
{
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = d[n - 1 - i];
        if (i % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

/* --- private keys ------------------------------------------------------------------------- */

static size_t m_private_key(const struct scan *s, size_t i)
{
    static const char begin[] = "-----BEGIN ";
    if (s->n - i < sizeof(begin) - 1 || memcmp(s->t + i, begin, sizeof(begin) - 1) != 0)
        return 0;
    static const char tail[] = "PRIVATE KEY";
    size_t j = i + sizeof(begin) - 1, lim = GW_MIN(s->n, j + 48);
    for (; j + sizeof(tail) - 1 <= lim; j++) {
        char c = s->t[j];
        if (c == '\n' || c == '-')
            break;
        if (memcmp(s->t + j, tail, sizeof(tail) - 1) == 0)
            return j + sizeof(tail) - 1;
    }
    return 0;
}

/* --- API keys ------------------------------------------------------------------------------ */

static size_t run(const struct scan *s, size_t j, size_t max, bool (*ok)(char))
{
    size_t k = 0;
    while (k < max && j + k < s->n && ok(s->t[j + k]))
        k++;
    return k;
}

static bool c_key(char c)
{
    return IS_ALNUM(c) || c == '_' || c == '-';
}
static bool c_alnum(char c)
{
    return IS_ALNUM(c);
}
static bool c_upper_digit(char c)
{
    return IS_UPPER(c) || IS_DIGIT(c);
}
static bool c_alnum_us(char c)
{
    return IS_ALNUM(c) || c == '_';
}
static bool c_alnum_dash(char c)
{
    return IS_ALNUM(c) || c == '-';
}
static bool c_secret(char c)
{
    return IS_ALNUM(c) || c == '_' || c == '-' || c == '+' || c == '/' || c == '=' || c == '.';
}

static bool prefix(const struct scan *s, size_t i, const char *p)
{
    size_t n = strlen(p);
    return s->n - i >= n && memcmp(s->t + i, p, n) == 0;
}

static bool prefix_ci(const struct scan *s, size_t i, const char *p)
{
    size_t n = strlen(p);
    if (s->n - i < n)
        return false;
    for (size_t k = 0; k < n; k++) {
        char c = s->t[i + k];
        if (IS_UPPER(c))
            c = (char)(c - 'A' + 'a');
        if (c != p[k])
            return false;
    }
    return true;
}

static size_t m_api_key(const struct scan *s, size_t i)
{
    size_t k;
    char c = s->t[i];
    if (c == 's' && prefix(s, i, "sk-") && (k = run(s, i + 3, 200, c_key)) >= 20)
        return i + 3 + k;
    if ((prefix(s, i, "AKIA") || prefix(s, i, "ASIA")) && run(s, i + 4, 17, c_upper_digit) == 16)
        return i + 20;
    if (c == 'g' && s->n - i > 4 && prefix(s, i, "gh") && strchr("pousr", at(s, i + 2)) &&
        at(s, i + 3) == '_' && run(s, i + 4, 37, c_alnum) == 36)
        return i + 40;
    if (c == 'g' && prefix(s, i, "github_pat_") && (k = run(s, i + 11, 255, c_alnum_us)) >= 22)
        return i + 11 + k;
    if (c == 'g' && prefix(s, i, "glpat-") && (k = run(s, i + 6, 64, c_key)) >= 20)
        return i + 6 + k;
    if (c == 'x' && prefix(s, i, "xox") && strchr("abpr", at(s, i + 3)) && at(s, i + 3) &&
        at(s, i + 4) == '-' && (k = run(s, i + 5, 255, c_alnum_dash)) >= 10)
        return i + 5 + k;
    if (c == 'A' && prefix(s, i, "AIza") && run(s, i + 4, 36, c_key) == 35)
        return i + 39;
    /* generic: <keyword> [quote] [spaces] (=|:) [spaces] [quote] <value of >= 16 diverse chars> */
    static const char *const kw[] = {"api_key",    "apikey",        "api-key",      "access_key",
                                     "secret_key", "client_secret", "access_token", "auth_token",
                                     "secret",     "token",         "password"};
    char lc = IS_UPPER(c) ? (char)(c - 'A' + 'a') : c;
    for (size_t w = 0; w < GW_ARRAY_LEN(kw); w++) {
        if (kw[w][0] != lc || !prefix_ci(s, i, kw[w]))
            continue;
        size_t j = i + strlen(kw[w]);
        if (at(s, j) == '"' || at(s, j) == '\'')
            j++;
        while (at(s, j) == ' ')
            j++;
        if (at(s, j) != '=' && at(s, j) != ':')
            return 0;
        j++;
        while (at(s, j) == ' ')
            j++;
        if (at(s, j) == '"' || at(s, j) == '\'')
            j++;
        size_t v = run(s, j, 256, c_secret);
        if (v < 16)
            return 0;
        bool letter = false, digit = false;
        unsigned char seen[128] = {0};
        size_t distinct = 0;
        for (size_t q = 0; q < v && q < 64; q++) {
            unsigned char ch = (unsigned char)s->t[j + q];
            letter |= IS_ALPHA(ch);
            digit |= IS_DIGIT(ch);
            if (ch < 128 && !seen[ch]++)
                distinct++;
        }
        /* character diversity as a cheap entropy estimate: 10+ distinct symbols, mixed */
        return letter && digit && distinct >= 10 ? j + v : 0;
    }
    return 0;
}

/* --- numbers ------------------------------------------------------------------------------- */

/* digits of d-groups separated by exactly sep (one char) at i; returns end or 0 */
static size_t groups(const struct scan *s, size_t i, const int *sizes, size_t ng, const char *seps,
                     unsigned char *digits)
{
    size_t j = i, nd = 0;
    char used = 0;
    for (size_t g = 0; g < ng; g++) {
        if (g) {
            char c = at(s, j);
            if (!c || !strchr(seps, c) || (used && c != used))
                return 0;
            used = c;
            j++;
        }
        for (int k = 0; k < sizes[g]; k++, j++) {
            if (!IS_DIGIT(at(s, j)))
                return 0;
            digits[nd++] = (unsigned char)(s->t[j] - '0');
        }
    }
    /* the number must end here: no digit, and no separator followed by a digit */
    char c = at(s, j);
    if (IS_ALNUM(c) || ((c == '-' || c == '.' || c == '/') && IS_DIGIT(at(s, j + 1))))
        return 0;
    return j;
}

static size_t m_ssn(const struct scan *s, size_t i)
{
    static const int sz[] = {3, 2, 4};
    unsigned char d[9];
    size_t e = groups(s, i, sz, 3, "-", d);
    if (!e)
        return 0;
    int area = d[0] * 100 + d[1] * 10 + d[2], grp = d[3] * 10 + d[4];
    int serial = d[5] * 1000 + d[6] * 100 + d[7] * 10 + d[8];
    if (area == 0 || area == 666 || area >= 900 || grp == 0 || serial == 0)
        return 0;
    return e;
}

static size_t m_sin(const struct scan *s, size_t i)
{
    static const int sz[] = {3, 3, 3};
    unsigned char d[9];
    size_t e = groups(s, i, sz, 3, "- ", d);
    if (!e || d[0] == 0 || d[0] == 8 || !luhn(d, 9))
        return 0;
    return e;
}

static bool iin_ok(const unsigned char *d, size_t n)
{
    int p2 = d[0] * 10 + d[1], p3 = p2 * 10 + d[2], p4 = p3 * 10 + d[3];
    if (d[0] == 4)
        return n == 13 || n == 16 || n == 19;
    if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
        return n == 16;
    if (p2 == 34 || p2 == 37)
        return n == 15;
    if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649) || p2 == 62 || p2 == 35)
        return n >= 16;
    if (p2 == 36 || p2 == 38 || p2 == 39 || (p3 >= 300 && p3 <= 305))
        return n >= 14;
    return false;
}

static size_t m_card(const struct scan *s, size_t i)
{
    unsigned char d[20];
    size_t n = 0, j = i;
    char sep = 0;
    while (j < s->n && n < 20) {
        char c = s->t[j];
        if (IS_DIGIT(c)) {
            d[n++] = (unsigned char)(c - '0');
            j++;
            continue;
        }
        if ((c == ' ' || c == '-') && IS_DIGIT(at(s, j + 1)) && (!sep || sep == c)) {
            sep = c;
            j++;
            continue;
        }
        break;
    }
    if (n < 13 || n > 19 || IS_ALNUM(at(s, j)))
        return 0;
    return iin_ok(d, n) && luhn(d, n) ? j : 0;
}

static size_t m_phone_us(const struct scan *s, size_t i)
{
    size_t j = i;
    if (at(s, j) == '+' && at(s, j + 1) == '1')
        j += 2;
    else if (at(s, j) == '1' && strchr("-. ", at(s, j + 1)) && at(s, j + 1))
        j += 1;
    if (j != i) {
        if (at(s, j) == '-' || at(s, j) == '.' || at(s, j) == ' ')
            j++;
        else if (at(s, j) != '(')
            return 0;
    }
    unsigned char d[10];
    size_t nd = 0;
    if (at(s, j) == '(') {
        for (int k = 1; k <= 3; k++)
            if (!IS_DIGIT(at(s, j + k)))
                return 0;
        if (at(s, j + 4) != ')')
            return 0;
        for (int k = 1; k <= 3; k++)
            d[nd++] = (unsigned char)(s->t[j + k] - '0');
        j += 5;
        if (at(s, j) == ' ')
            j++;
        static const int sz[] = {3, 4};
        size_t e = groups(s, j, sz, 2, "-. ", d + nd);
        if (!e)
            return 0;
        j = e;
    } else {
        static const int sz[] = {3, 3, 4};
        size_t e = groups(s, j, sz, 3, "-. ", d);
        if (!e)
            return 0;
        j = e;
    }
    if (d[0] < 2 || d[3] < 2) /* NANP: area code and exchange start with 2-9 */
        return 0;
    return j;
}

static size_t m_phone_intl(const struct scan *s, size_t i)
{
    if (at(s, i) != '+' || !IS_DIGIT(at(s, i + 1)))
        return 0;
    size_t j = i + 1, nd = 0, end = 0;
    bool prev_sep = false;
    while (j < s->n && j - i < 32) {
        char c = s->t[j];
        if (IS_DIGIT(c)) {
            nd++;
            prev_sep = false;
            j++;
            end = j;
            continue;
        }
        if ((c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') && !prev_sep) {
            prev_sep = c != ')';
            j++;
            if (c == ')')
                end = j;
            continue;
        }
        break;
    }
    if (nd < 8 || nd > 15 || IS_ALNUM(at(s, end)))
        return 0;
    return end;
}

/* UK National Insurance number: AB123456C or AB 12 34 56 C. */
static size_t m_nino(const struct scan *s, size_t i)
{
    char a = at(s, i), b = at(s, i + 1);
    if (!IS_UPPER(a) || !IS_UPPER(b) || strchr("DFIQUV", a) || strchr("DFIOQUV", b))
        return 0;
    static const char *const bad[] = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"};
    for (size_t k = 0; k < GW_ARRAY_LEN(bad); k++)
        if (a == bad[k][0] && b == bad[k][1])
            return 0;
    size_t j = i + 2;
    bool spaced = at(s, j) == ' ';
    for (int g = 0; g < 3; g++) {
        if (spaced && at(s, j++) != ' ')
            return 0;
        if (!IS_DIGIT(at(s, j)) || !IS_DIGIT(at(s, j + 1)))
            return 0;
        j += 2;
    }
    if (spaced && at(s, j++) != ' ')
        return 0;
    char c = at(s, j);
    if (c < 'A' || c > 'D' || IS_ALNUM(at(s, j + 1)))
        return 0;
    return j + 1;
}

/* --- e-mail ------------------------------------------------------------------------------- */

static bool c_local(char c)
{
    return IS_ALNUM(c) || (c && strchr("._%+-", c));
}

/* at is the index of '@'; returns [start,end) or 0 */
static size_t m_email(const struct scan *s, size_t at_i, size_t floor, size_t *start)
{
    size_t b = at_i;
    while (b > floor && at_i - b < 64 && c_local(s->t[b - 1]))
        b--;
    if (b == at_i || s->t[b] == '.')
        return 0;
    size_t j = at_i + 1, label = 0, dots = 0, tld_alpha = 0, last_dot = 0;
    while (j < s->n && j - at_i <= 253) {
        char c = s->t[j];
        if (IS_ALNUM(c) || c == '-') {
            label++;
            tld_alpha = IS_ALPHA(c) ? tld_alpha + 1 : 0;
        } else if (c == '.' && label > 0 && IS_ALNUM(at(s, j + 1))) {
            dots++;
            label = 0;
            tld_alpha = 0;
            last_dot = j;
        } else {
            break;
        }
        j++;
    }
    if (!dots || label == 0 || tld_alpha < 2 || tld_alpha != j - last_dot - 1)
        return 0;
    *start = b;
    return j;
}

/* --- scanner ------------------------------------------------------------------------------ */

enum pol_level pol_classify_scan(const char *text, size_t len, pol_finding_fn *fn, void *arg)
{
    struct scan s = {.t = text ? text : "", .n = text ? len : 0};
    enum pol_level level = POL_LEVEL_PUBLIC;
    size_t floor = 0; /* e-mail local parts never reach back before the last finding */
#define FOUND(det, from, to)                                                                       \
    do {                                                                                           \
        if (fn)                                                                                    \
            fn(arg, det, from, (to) - (from));                                                     \
        level = pol_level_max(level, det_levels[det]);                                             \
        i = floor = (to);                                                                          \
        goto next;                                                                                 \
    } while (0)
    for (size_t i = 0; i < s.n;) {
        char c = s.t[i];
        char prev = i ? s.t[i - 1] : ' ';
        size_t e;
        if (c == '-' && (e = m_private_key(&s, i)))
            FOUND(POL_DET_PRIVATE_KEY, i, e);
        if (c == '@') {
            size_t st;
            if ((e = m_email(&s, i, floor, &st)))
                FOUND(POL_DET_EMAIL, st, e);
        }
        if (!IS_ALNUM(prev) && prev != '_') {
            if (IS_ALPHA(c)) {
                if ((e = m_api_key(&s, i)))
                    FOUND(POL_DET_API_KEY, i, e);
                if ((e = m_nino(&s, i)))
                    FOUND(POL_DET_NATIONAL_ID, i, e);
            }
            bool num_start = !(prev == '-' || prev == '.') || i < 2 || !IS_DIGIT(s.t[i - 2]);
            if (IS_DIGIT(c) && num_start) {
                if ((e = m_ssn(&s, i)))
                    FOUND(POL_DET_NATIONAL_ID, i, e);
                if ((e = m_sin(&s, i)))
                    FOUND(POL_DET_NATIONAL_ID, i, e);
                if ((e = m_card(&s, i)))
                    FOUND(POL_DET_CARD, i, e);
            }
            if ((IS_DIGIT(c) || c == '(' || c == '+') && num_start) {
                if ((e = m_phone_us(&s, i)))
                    FOUND(POL_DET_PHONE, i, e);
                if ((e = m_phone_intl(&s, i)))
                    FOUND(POL_DET_PHONE, i, e);
            }
        }
        /* skip the rest of an alphanumeric token: detectors start at token boundaries, so a
         * long token is looked at once, not once per character (keeps the scan linear) */
        if (IS_ALNUM(c)) {
            size_t j = i + 1;
            while (j < s.n && IS_ALNUM(s.t[j]))
                j++;
            /* but an '@' right after the token must still be seen */
            i = j;
            continue;
        }
        i++;
next:;
    }
#undef FOUND
    return level;
}

enum pol_level pol_classify_text(const char *text, size_t len)
{
    return pol_classify_scan(text, len, NULL, NULL);
}

enum pol_level pol_classify_raise(enum pol_level base, const char *text, size_t len)
{
    return pol_level_max(base, pol_classify_text(text, len));
}

enum pol_level pol_classify_connector(const char *connector, enum pol_visibility vis)
{
    if (connector && strcmp(connector, "github") == 0)
        return vis == POL_VIS_PUBLIC ? POL_LEVEL_PUBLIC : POL_LEVEL_INTERNAL;
    /* gmail, gcal, jira, gdrive and anything unknown */
    return POL_LEVEL_INTERNAL;
}
