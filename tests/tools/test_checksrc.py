# SPDX-License-Identifier: MIT
"""tools/checksrc against small trees in a temporary directory: each house rule is caught on a
file that breaks it (and only there), a clean tree passes, --warn lists without failing, and the
symbol check reads a static library compiled here. The rule tables come from a CONVENTIONS.md
written by the test, except in test_repository_tables, which reads the repository's own."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHECKSRC = os.path.join(REPO, "tools", "checksrc")

CONVENTIONS = """# Conventions (test copy)

<!-- checksrc: banned -->
| function | use instead | why | allowed in |
|---|---|---|---|
| `strcpy`, `strcat` | `snprintf` | unbounded | |
| `atoi` | `strtol` | no errors | |
| `malloc` | `gw_xmalloc` | one place | `src/base/` |

<!-- checksrc: prefixes -->
| directory | prefix | tolerated for now | owns |
|---|---|---|---|
| `src/base` | `gw_` | | base |
| `src/store` | `store_` | `audit_row_release`, `audit_checkpoint_release` | store |

<!-- checksrc: layers -->
| directory | may not include | except in | why |
|---|---|---|---|
| `src` | `core/` | `src/core`, `src/main` | the root |
| `src/api` | `store/` | | adapters |
"""


def head(name):
    """The first four lines of a conforming .c file."""
    return ("/* SPDX-License-Identifier: MIT\n * " + name + " — a file of the test tree.\n */\n"
            '#include "base/prelude.h"\n')


CLEAN_C = head("clean.c") + """
/* strcpy(a, b) in a comment is not a call; neither is the string "atoi(x)". */
int gw_clean(const char *s)
{
    struct {
        int (*atoi)(const char *);
    } t = {0};
    return s[0] == 'x' && t.atoi ? t.atoi("1") : 0; /* a member named like a banned function */
}
"""

CLEAN_H = """/* SPDX-License-Identifier: MIT
 * clean.h — a header of the test tree.
 */
#ifndef GW_CLEAN_H
#define GW_CLEAN_H

#include "base/prelude.h"

int gw_clean(const char *s);

#endif
"""


class CheckSrc(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="checksrc-")
        self.addCleanup(shutil.rmtree, self.root)
        self.write("docs/CONVENTIONS.md", CONVENTIONS)
        self.write("src/base/clean.c", CLEAN_C)
        self.write("src/base/clean.h", CLEAN_H)

    def write(self, path, text):
        full = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)

    def run_tool(self, *args):
        p = subprocess.run([sys.executable, CHECKSRC, "--root", self.root] + list(args),
                           capture_output=True, text=True)
        self.assertNotIn("Traceback", p.stderr)
        return p.returncode, p.stdout.splitlines()

    def assert_findings(self, want, *args, status=1):
        """want: the exact findings as (path, line, rule)."""
        rc, out = self.run_tool(*args)
        got = [tuple(l.split(": ", 2)[0].rsplit(":", 1)) + (l.split(": ", 2)[1],) for l in out]
        got = [(p, int(n), r) for p, n, r in got]
        self.assertEqual(sorted(got), sorted(want), "\n".join(out))
        self.assertEqual(rc, status, "\n".join(out))
        return out

    def test_layers(self):
        self.write("src/api/a.c", head("a.c") + '#include "store/store.h" /* no */\n'
                   '#include "core/gwd.h"\n#include "auth/auth.h"\n/* #include "store/x.h" */\n')
        self.write("src/main/m.c", head("m.c") + '#include "core/gwd.h"\n')
        self.write("src/core/c.c", head("c.c") + '#include "core/gwd_int.h"\n'
                   '#include "store/store.h"\n')
        self.assert_findings([("src/api/a.c", 5, "layer"), ("src/api/a.c", 6, "layer")])

    def test_clean_tree_passes(self):
        self.assert_findings([], status=0)

    def test_banned_calls(self):
        self.write("src/base/bad.c", head("bad.c") + """
void gw_bad(char *d, const char *s)
{
    strcpy(d, s);
    int n = atoi (s) + 1;
    strcat(d, "x"); char *m = malloc(4);
    (void)n; (void)m;
}
""")
        self.write("src/api/api_bad.c", head("api_bad.c") + """
void *api_bad(void) { return malloc(4); }
""")
        out = self.assert_findings([("src/base/bad.c", 8, "banned"), ("src/base/bad.c", 9, "banned"),
                                    ("src/base/bad.c", 10, "banned"),
                                    ("src/api/api_bad.c", 6, "banned")])
        self.assertIn("src/base/bad.c:8: banned: strcpy() is banned: use snprintf", "\n".join(out))

    def test_lines_tabs_and_trailing_space(self):
        fits = "int gw_fits_exactly = 1; /* "
        fits += "x" * (100 - len(fits) - 3) + " */"
        self.assertEqual(len(fits), 100)
        self.write("src/base/lines.c", head("lines.c") + "\n".join([
            fits,                                           # 5: 100 columns: fine
            "/* " + "é" * 95 + " */",                       # 6: 101 characters, more bytes
            "int gw_tab;\t/* tab */",                       # 7
            "int gw_trailing; ",                            # 8
        ]) + "\n")
        self.assert_findings([("src/base/lines.c", 6, "long-line"), ("src/base/lines.c", 7, "tab"),
                              ("src/base/lines.c", 8, "trailing-space")])

    def test_warn_lists_without_failing(self):
        self.write("src/base/long.c", head("long.c") + "/* " + "y" * 120 + " */\n")
        out = self.assert_findings([("src/base/long.c", 5, "long-line")], "--warn", "long-line",
                                   status=0)
        self.assertIn("warning only", out[0])
        self.assert_findings([("src/base/long.c", 5, "long-line")], "--warn", "tab", status=1)

    def test_file_header_and_prelude(self):
        self.write("src/base/nospdx.c", "/* nospdx.c — no licence line.\n */\n"
                   "#include \"base/prelude.h\"\n")
        self.write("src/base/nodesc.c", "/* SPDX-License-Identifier: MIT\n */\n"
                   "#include \"base/prelude.h\"\n")
        self.write("src/base/late.c", head("late.c").replace(
            
            '#include "base/prelude.h"', '#include <stdio.h>\n#include "base/prelude.h"'))
        self.write("src/base/noinclude.c", "/* SPDX-License-Identifier: MIT\n * noinclude.c — x.\n */\n"
                   "int gw_noinclude;\n")
        self.assert_findings([("src/base/nospdx.c", 1, "spdx"),
                              ("src/base/nodesc.c", 1, "header-comment"),
                              ("src/base/late.c", 4, "prelude"),
                              ("src/base/noinclude.c", 1, "prelude")])

    def test_header_guard_and_first_include(self):
        self.write("src/base/wrong_guard.h", CLEAN_H.replace("GW_CLEAN_H", "GW_OTHER_H"))
        self.write("src/base/sys_first.h", CLEAN_H.replace("GW_CLEAN_H", "GW_SYS_FIRST_H").replace(
            '#include "base/prelude.h"', "#include <stdio.h>"))
        self.write("src/base/via_other.h", CLEAN_H.replace("GW_CLEAN_H", "GW_VIA_OTHER_H").replace(
            '#include "base/prelude.h"', '#include "base/clean.h"'))
        self.write("src/store/sqlite/sqlite_int.h", CLEAN_H.replace("GW_CLEAN_H",
                                                                    "GW_STORE_SQLITE_INT_H"))
        self.write("src/store/sqlite/sqlite_db.h", CLEAN_H.replace("GW_CLEAN_H",
                                                                   "GW_STORE_SQLITE_INT_H"))
        self.assert_findings([("src/base/wrong_guard.h", 4, "guard"),
                              ("src/base/sys_first.h", 7, "prelude"),
                              ("src/store/sqlite/sqlite_db.h", 4, "guard")])

    def test_only_tracked_files_in_a_work_tree(self):
        if not shutil.which("git"):
            self.skipTest("git is not installed")
        git = ["git", "-C", self.root, "-c", "user.name=t", "-c", "user.email=t@t"]
        subprocess.run(git + ["init", "-q"], check=True)
        subprocess.run(git + ["add", "src"], check=True)
        self.write("src/base/untracked.c", "int x;\n")
        self.assert_findings([], status=0)
        subprocess.run(git + ["add", "src"], check=True)
        self.assert_findings([("src/base/untracked.c", 1, "spdx"),
                              ("src/base/untracked.c", 1, "prelude")])

    def build_lib(self, sources):
        """Compiles sources (paths in the tree) into lib/libt.a, object names like CMake's."""
        cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
        if not cc or not shutil.which("ar") or not shutil.which("nm"):
            self.fail("the symbol check needs a C compiler, ar and nm (scripts/deps.sh installs them)")
        os.makedirs(os.path.join(self.root, "lib"), exist_ok=True)
        objs = []
        for s in sources:
            obj = os.path.join(self.root, "lib", os.path.basename(s) + ".o")
            subprocess.run([cc, "-c", "-I", os.path.join(self.root, "src"), "-o", obj,
                            os.path.join(self.root, s)], check=True)
            objs.append(obj)
        lib = os.path.join(self.root, "lib", "libt.a")
        if os.path.exists(lib):
            os.unlink(lib)  # ar would keep the members of the previous build
        subprocess.run(["ar", "rcs", lib] + objs, check=True)
        return lib

    def test_symbol_prefixes(self):
        self.write("src/base/prelude.h", "#pragma once\n")  # the compiler needs it; not tracked
        self.write("src/base/syms.c", head("syms.c") + """
static int helper(void) { return 1; }   /* static: no prefix needed */
int gw_table[2];
int gw_ok(void) { return helper(); }
int unprefixed(void) { return 2; }
const char bare_string[] = "x";
""")
        self.write("src/store/store.c", head("store.c") + """
void store_close(void) {}
void audit_row_release(void) {}
""")
        self.write("src/newdir/newdir.c", head("newdir.c") + "int newdir_x;\n")
        # generated in the build directory: any registered prefix will do
        self.write("build/gen_table.c", "int store_generated; int gw_generated; int loose;\n")
        lib = self.build_lib(["src/base/clean.c", "src/base/syms.c", "src/store/store.c",
                              "src/newdir/newdir.c", "build/gen_table.c"])
        files = ["src/base/clean.c", "src/base/syms.c", "src/store/store.c", "src/newdir/newdir.c"]
        out = self.assert_findings([("src/base/syms.c", 9, "prefix"),
                                    ("src/base/syms.c", 10, "prefix"),
                                    ("src/store/store.c", 7, "prefix"),
                                    ("docs/CONVENTIONS.md", 14, "prefix"),
                                    ("src/newdir/newdir.c", 1, "prefix"),
                                    (lib + "(gen_table.c.o)", 1, "prefix")],
                                   "--lib", lib, *files)
        text = "\n".join(out)
        self.assertIn("unprefixed does not start with gw_", text)
        self.assertIn("audit_row_release does not start with store_ (warning only", text)
        self.assertIn("audit_checkpoint_release is listed as an exception", text)
        self.assertIn("newdir_x: no prefix registered", text)
        self.assertIn("loose (a generated source) starts with none of the prefixes", text)
        self.assertNotIn("_generated", text)
        self.assertNotIn("helper", text)
        self.assertNotIn("gw_ok", text)
        # the tolerated symbol alone does not fail
        self.write("src/base/syms.c", head("syms.c") + "int gw_ok(void) { return 1; }\n")
        lib = self.build_lib(["src/base/syms.c", "src/store/store.c"])
        self.assert_findings([("src/store/store.c", 7, "prefix"), ("docs/CONVENTIONS.md", 14, "prefix")],
                             "--lib", lib, "src/base/syms.c", "src/store/store.c", status=0)

    def test_repository_tables(self):
        """The repository's own docs/CONVENTIONS.md: its tables parse and ban what the brief
        names; a file calling each of those is caught once per call."""
        shutil.copy(os.path.join(REPO, "docs", "CONVENTIONS.md"),
                    os.path.join(self.root, "docs", "CONVENTIONS.md"))
        names = ["strcpy", "strcat", "strncpy", "sprintf", "vsprintf", "gets", "strtok", "atoi",
                 "atol", "sscanf", "rand", "tmpnam", "gmtime", "system", "alloca", "malloc"]
        body = "".join(f"    (void){n}(0);\n" for n in names)
        self.write("src/api/api_calls.c", head("api_calls.c")
                   + "void api_calls(void)\n{\n" + body + "}\n")
        self.assert_findings([("src/api/api_calls.c", 7 + i, "banned") for i in range(len(names))])
        self.assert_findings([], "src/base/clean.c", status=0)


if __name__ == "__main__":
    unittest.main(verbosity=1)
