#!/usr/bin/env python3
"""apidoc.py: writes docs/api.md, the public API reference, from the public headers' comments.

usage: tools/apidoc.py            regenerate docs/api.md
       tools/apidoc.py --check    exit 1 (with a diff) if docs/api.md differs from what the
                                  headers give; the `apidoc` meson test runs this
       tools/apidoc.py --stdout   print the page instead of writing it
       tools/apidoc.py --undocumented
                                  list public declarations without a comment of their own

Reads runtime/include/weft/**/*.hpp and net/include/weft/**/*.hpp (of weft/detail/ only what
is declared outside namespace weft::detail, such as weft::closed_channel). A small
scanner, not a C++ parser, that relies on the house style of those headers:
  - a declaration's doc comment is the block of `//` lines right above it; a trailing `// ...`
    on the same line belongs to it too;
  - declarations that follow one another with no blank line and no comment of their own share
    the comment above the first (overloads, lock/unlock pairs);
  - skipped: namespace detail, private and protected members, friends, forward declarations,
    static_asserts, out-of-class definitions (`A::f`), full specializations (`template <>`),
    anything outside namespace weft, and declarations whose comment says "not a public API";
  - function bodies and constructors' member-initializer lists are dropped (`{ ... }` becomes
    `;`); class bodies are kept with their public members; enums are kept whole.
"""
import difflib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "api.md"
HEADER_DIRS = [ROOT / "runtime" / "include", ROOT / "net" / "include"]

# The order the page presents the headers in: the umbrella first, then by topic.
ORDER = ["weft/weft.hpp", "weft/chan.hpp", "weft/detail/chan.hpp", "weft/sync.hpp",
         "weft/time.hpp", "weft/context.hpp", "weft/net.hpp", "weft/net/dial.hpp",
         "weft/net/conn.hpp", "weft/net/addr.hpp", "weft/net/errors.hpp"]


def headers():
    found = {}
    for d in HEADER_DIRS:
        for p in sorted(d.rglob("*.hpp")):
            found[p.relative_to(d).as_posix()] = p
    names = [n for n in ORDER if n in found] + sorted(n for n in found if n not in ORDER)
    return [(n, found[n]) for n in names]


class Entry:
    """One documented declaration (or an overload group) and, for a class, its members."""

    def __init__(self, kind, name, comment, text):
        self.kind = kind          # "class", "enum", "decl"
        self.name = name          # unqualified name(s)
        self.comment = comment    # list of comment lines (without "//")
        self.text = text          # the declaration as it is shown
        self.members = []         # class members: Entry
        self.close = ""           # a class's closing line ("};")
        self.grouped = []         # further declarations sharing this comment
        self.trailing = False     # documented by a comment on its own line


class Scanner:
    """Walks one header's text and collects Entries by scope."""

    def __init__(self, src):
        self.s = src
        self.i = 0
        self.n = len(src)

    # ---- low-level reading ----

    def skip_ws(self):
        """Skips whitespace; returns the number of newlines crossed."""
        nl = 0
        while self.i < self.n and self.s[self.i] in " \t\r\n":
            if self.s[self.i] == "\n":
                nl += 1
            self.i += 1
        return nl

    def read_line(self):
        j = self.s.find("\n", self.i)
        if j < 0:
            j = self.n
        line = self.s[self.i:j]
        self.i = j
        return line

    def code(self, j):
        """Yields (index, char) of the code from j on, skipping string and character literals
        and // comments; the caller may stop at any point."""
        while j < self.n:
            c = self.s[j]
            if c in "\"'":
                q = c
                j += 1
                while j < self.n and self.s[j] != q:
                    j += 2 if self.s[j] == "\\" else 1
                j += 1
                continue
            if self.s.startswith("//", j):
                k = self.s.find("\n", j)
                j = self.n if k < 0 else k
                continue
            yield j, c
            j += 1

    def match_brace(self, j):
        """j at '{': returns the index after its matching '}'."""
        depth = 0
        for j, c in self.code(j):
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return j + 1
        raise SyntaxError("unbalanced braces")

    def read_statement(self):
        """From self.i, reads up to the first ';' or '{' outside parentheses. Returns (head,
        terminator) with the position on the terminator."""
        paren = 0
        for j, c in self.code(self.i):
            if c in "([":
                paren += 1
            elif c in ")]":
                paren -= 1
            elif paren == 0 and c in ";{":
                head = self.s[self.i:j]
                self.i = j
                return head, c
        raise SyntaxError("unterminated statement")

    # ---- scopes ----

    def scope(self, public, in_weft):
        """Reads declarations until the scope's '}' (or the end of the file). Returns Entries."""
        entries = []
        comment = []       # comment lines waiting for a declaration
        last = None        # the entry a following uncommented declaration joins
        access_public = public
        while True:
            nl = self.skip_ws()
            if nl >= 2:  # a blank line ends comments and groups
                comment = []
                last = None
            if self.i >= self.n:
                return merge_redeclarations(entries)
            c = self.s[self.i]
            if self.s.startswith("//", self.i):
                line = self.read_line()
                text = re.sub(r"^//( ?)", "", line.strip())
                if nl == 0 and last is not None and not comment:
                    # A trailing comment documents the declaration on its line.
                    if last.grouped:
                        last.grouped[-1] += "  " + line.strip()
                    else:
                        last.text += "  " + line.strip()
                        last.trailing = True
                    continue
                comment.append(text)
                last = None
                continue
            if c == "#":
                while True:
                    line = self.read_line()
                    if not line.rstrip().endswith("\\"):
                        break
                    self.i += 1
                comment = []
                continue
            if c == "}":
                self.i += 1
                return merge_redeclarations(entries)
            m = re.match(r"(public|private|protected)\s*:(?!:)", self.s[self.i:])
            if m:
                self.i += m.end()
                access_public = m.group(1) == "public"
                comment = []
                last = None
                continue
            start = self.i
            head, term = self.read_statement()
            head_s = " ".join(head.split())
            if term == "{":
                ns = re.match(r"^namespace\s+([\w:]*)$", head_s)
                if ns:
                    name = ns.group(1)
                    self.i += 1
                    inner = in_weft or name.startswith("weft")
                    if name.split("::")[-1] == "detail" or not inner:
                        self.i = self.match_brace(self.i - 1)
                    else:
                        entries += self.scope(True, True)
                    comment = []
                    last = None
                    continue
                cls = re.match(r"^(template\s*<.*>\s*)?(class|struct|union|enum class|enum)\s+"
                               r"(\w+)[^()]*$", head_s)
                if cls:
                    kind = cls.group(2)
                    name = cls.group(3)
                    end = self.match_brace(self.i)
                    keep = (in_weft and access_public and not head_s.startswith("template <>")
                            and not not_public(comment))
                    if kind.startswith("enum"):
                        body = self.s[self.i:end]
                        self.i = end
                        self.eat_semicolon()
                        if keep:
                            e = Entry("enum", name, comment,
                                      dedent(head.strip() + " " + body + ";", self.column(start)))
                            entries.append(e)
                            last = None
                    else:
                        self.i += 1
                        members = self.scope(kind != "class", in_weft)
                        self.eat_semicolon()
                        if keep:
                            e = Entry("class", name, comment, head.strip() + " {")
                            e.members = members
                            e.close = "};"
                            entries.append(e)
                        last = None
                    comment = []
                    continue
                # A brace initializer (`T x{0};`) or a function body.
                end = self.match_brace(self.i)
                k = end
                while k < self.n and self.s[k] in " \t":
                    k += 1
                if k < self.n and self.s[k] in ";,":
                    # `int x{0};`: the statement runs on to its ';'
                    self.i = end
                    self.read_statement()
                    decl = self.s[start:self.i]
                    self.i += 1
                else:
                    decl = drop_initializers(head.rstrip())
                    self.i = end
                    self.eat_semicolon()
                decl = decl.rstrip() + ";"
            else:
                self.i += 1
                decl = head.rstrip() + ";"
            last = self.add_decl(entries, decl, comment, last, in_weft, access_public, start)
            comment = []

    def eat_semicolon(self):
        j = self.i
        while j < self.n and self.s[j] in " \t":
            j += 1
        if j < self.n and self.s[j] == ";":
            self.i = j + 1

    def column(self, pos):
        return pos - (self.s.rfind("\n", 0, pos) + 1)

    def add_decl(self, entries, decl, comment, last, in_weft, access_public, start):
        """Adds a declaration (or joins it to `last`'s group); returns the entry that a next
        uncommented declaration would join, or None."""
        flat = " ".join(decl.split())
        skip = (not in_weft or not access_public
                or re.match(r"^(friend|static_assert|using namespace)\b", flat)
                or flat.startswith("template <>")
                or re.match(r"^(class|struct|union|enum)\s+[\w:]+;$", flat)
                or qualified_name(flat)
                or not_public(comment))
        if skip:
            return None
        name = decl_name(flat)
        text = dedent(decl.strip("\n"), self.column(start))
        if not comment and last is not None:
            last.grouped.append(text)
            if name and name not in last.name.split(", "):
                last.name += ", " + name
            return last
        e = Entry("decl", name, comment, text)
        entries.append(e)
        return e


def merge_redeclarations(entries):
    """A declaration without a comment (`int run(F&&, Config = {});` ahead of its use) and a
    later one of the same name with a comment (its definition): one entry, the first's text
    (it has the default arguments) with the second's comment."""
    out = []
    for e in entries:
        if e.kind == "decl" and e.comment:
            earlier = [o for o in out if o.kind == "decl" and o.name == e.name and not o.comment
                       and not o.grouped]
            if earlier:
                earlier[0].comment = e.comment
                continue
        out.append(e)
    return out


def not_public(comment):
    return any("not a public API" in line for line in comment)


def qualified_name(flat):
    """True for an out-of-class or out-of-namespace definition such as `R A::f(...)`."""
    pre = flat.split("(")[0]
    words = re.sub(r"<[^<>]*>", "", re.sub(r"<[^<>]*>", "", pre)).split()
    return bool(words) and "::" in words[-1] and not flat.startswith("using ")


def decl_name(flat):
    m = re.match(r"^using\s+(\w+)\s*=", flat)
    if m:
        return m.group(1)
    for m in re.finditer(r"(operator\s*(?:\(\)|[^\s(]+)|~?\w+)\s*\(", flat):
        if m.group(1) not in ("decltype", "requires", "noexcept", "sizeof", "alignof"):
            return m.group(1).replace(" ", "")
    m = re.search(r"(\w+)\s*(?:=.*|\{.*\})?;$", flat)
    return m.group(1) if m else flat


def drop_initializers(sig):
    """Removes a constructor's member-initializer list: `X(...) noexcept : a_(b)` -> `X(...)
    noexcept`."""
    depth = 0
    close = -1
    for k, c in enumerate(sig):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                close = k
                break
    if close < 0:
        return sig
    m = re.match(r"(\s*(?:const\s*)?(?:noexcept\s*)?):(?!:)", sig[close + 1:])
    if m:
        return sig[:close + 1] + m.group(1).rstrip()
    return sig


def dedent(text, col):
    """Removes the statement's own indentation (its first line began at column col)."""
    lines = text.split("\n")
    out = [lines[0].strip()]
    for l in lines[1:]:
        lead = len(l) - len(l.lstrip())
        out.append(l[min(lead, col):])
    return "\n".join(out)


# ---- rendering ----

def md_escape(text):
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]])", r"\\\1", text)


def file_comment(src):
    """The comment at the top of a header, before its first non-comment line."""
    out = []
    for line in src.split("\n"):
        s = line.strip()
        if not s.startswith("//"):
            break
        out.append(re.sub(r"^//( ?)", "", s))
    return out


def prose(lines):
    """Comment lines as Markdown: paragraphs joined, indented lines as a code block."""
    out, para, code = [], [], []

    def flush():
        if para:
            out.append(md_escape(" ".join(para)))
            out.append("")
            para.clear()
        if code:
            out.append("```cpp")
            out.extend(code)
            out.append("```")
            out.append("")
            code.clear()

    for line in lines:
        if not line.strip():
            flush()
        elif line.startswith("  "):
            if para:
                flush()
            code.append(line[2:])
        else:
            if code:
                flush()
            para.append(line.strip())
    flush()
    return out


def render_entry(e, indent=""):
    out = []
    for c in e.comment:
        out.append(indent + ("// " + c if c else "//"))
    for t in [e.text] + e.grouped:
        out.extend(indent + l for l in t.split("\n"))
    if e.kind == "class":
        if re.match(r"^(template\s*<.*>\s*)?class\b", " ".join(e.text.split())):
            out.append(indent + " public:")
        for k, m in enumerate(e.members):
            if k > 0 and (m.comment or e.members[k - 1].comment):
                out.append("")
            out.extend(render_entry(m, indent + "  "))
        out.append(indent + e.close)
    return out


class Slugs:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to '-', repeats -1..."""

    def __init__(self):
        self.seen = {}

    def __call__(self, heading):
        s = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        n = self.seen.get(s, 0)
        self.seen[s] = n + 1
        return s if n == 0 else f"{s}-{n}"


def render():
    slug = Slugs()
    parts = []
    toc = []
    for rel, path in headers():
        src = path.read_text()
        sc = Scanner(src)
        entries = sc.scope(False, False)
        detail = "/detail/" in rel
        if detail and not entries:
            continue
        ns = "weft::net::" if rel.startswith("weft/net/") or rel == "weft/net.hpp" else "weft::"
        h = f"<{rel}>"
        anchor = slug(f"`{h}`")
        src_path = path.relative_to(ROOT).as_posix()
        toc.append(f"- [`{h}`](#{anchor})" + (": " + ", ".join(
            f"`{e.name.split(', ')[0]}`" for e in entries) if entries else ""))
        parts.append(f"## `{h}`")
        parts.append("")
        parts.append(f"Source: [{src_path}](../{src_path})")
        parts.append("")
        if detail:
            parts.append("A header for the templates' needs, included by the public ones; only "
                         "what it declares in namespace `weft` itself is public.")
            parts.append("")
        else:
            parts.extend(prose(file_comment(src)))
        for e in entries:
            names = ", ".join(ns + n for n in e.name.split(", "))
            parts.append(f"### `{names}`")
            slug(f"`{names}`")
            parts.append("")
            parts.append("```cpp")
            parts.extend(render_entry(e))
            parts.append("```")
            parts.append("")
    head = [
        "# weft API reference",
        "",
        "<!-- Generated by tools/apidoc.py from the public headers: do not edit by hand. -->",
        "",
        "Every public declaration of weft's headers with its comment, generated from the headers "
        "by `tools/apidoc.py` (the `apidoc` test fails when this page is out of date: run "
        "`tools/apidoc.py` after changing a header). Function bodies, private members and "
        "`weft::detail` are left out. `#include <weft/weft.hpp>` brings in the runtime, "
        "channels, sync, timers and contexts; `#include <weft/net.hpp>` the network package. "
        "The guides: [architecture](architecture.md), [porting from Go](porting-from-go.md), "
        "[embedding](embedding.md), [net](net.md), [debugging](debugging.md).",
        "",
    ]
    return "\n".join(head + toc + [""] + parts).rstrip() + "\n"


def undocumented():
    out = []
    for rel, path in headers():
        sc = Scanner(path.read_text())

        def walk(es, outer=""):
            for e in es:
                if not e.comment and not e.trailing:
                    out.append(f"{rel}: {outer}{e.name}")
                walk(e.members, outer + e.name + "::")

        walk(sc.scope(False, False))
    return out


def main():
    args = sys.argv[1:]
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    page = render()
    if "--stdout" in args:
        sys.stdout.write(page)
        return 0
    if "--undocumented" in args:
        for line in undocumented():
            print(line)
        return 0
    if "--check" in args:
        old = OUT.read_text() if OUT.exists() else ""
        if old == page:
            print("docs/api.md is up to date with the headers")
            return 0
        sys.stdout.writelines(difflib.unified_diff(
            old.splitlines(True), page.splitlines(True), "docs/api.md", "headers"))
        print("docs/api.md is stale: run tools/apidoc.py and commit the result")
        return 1
    OUT.write_text(page)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
