"""Keeps the docs true (`make docs-check`, CI): in README.md and docs/*.md, every relative
link resolves to a file of the repository (and its #anchor to a heading there, as GitHub
makes anchors), and every `make <target>` in code names a target of the Makefile.

    python3 scripts/check_docs.py [FILE.md ...]

Prints one line per problem and exits 1 if there is one.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"(?<!\!)\[[^\]\n]*\]\(([^)\s]+)\)|^\[[^\]\n]+\]:\s*(\S+)", re.M)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]+`")
MAKE = re.compile(r"(?:^|[\s;&|(`$])make\s+((?:[A-Z_]+=\S*\s+)*)([a-z][a-z0-9-]*)")


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower-case, punctuation dropped, spaces to '-', repeats numbered."""
    seen: dict[str, int] = {}
    out = set()
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    for line in text.splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        title = re.sub(r"`|\*\*|__|\[([^\]]*)\]\([^)]*\)", lambda g: g.group(1) or "", m.group(1))
        slug = re.sub(r"[^\w\- ]", "", title.lower(), flags=re.U).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    for m in re.finditer(r'<a\s+(?:name|id)="([^"]+)"', text):
        out.add(m.group(1))
    return out


def targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z0-9-]*):", (ROOT / "Makefile").read_text(), re.M))


def code_spans(text: str) -> list[str]:
    return [m.group(0) for m in FENCE.finditer(text)] + [m.group(0) for m in INLINE_CODE.finditer(FENCE.sub("", text))]


def check(path: Path, make_targets: set[str]) -> list[str]:
    problems = []
    text = path.read_text(encoding="utf-8")
    rel = path.relative_to(ROOT)
    prose = FENCE.sub("", text)
    for m in LINK.finditer(prose):
        target = m.group(1) or m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            problems.append(f"{rel}: link {target}: {file_part} does not exist")
            continue
        if not str(dest).startswith(str(ROOT)):
            problems.append(f"{rel}: link {target} leaves the repository")
            continue
        if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            problems.append(f"{rel}: link {target}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    for code in code_spans(text):
        for m in MAKE.finditer(code):
            if m.group(2) not in make_targets:
                problems.append(f"{rel}: `make {m.group(2)}`: the Makefile has no such target")
    return problems


def main() -> int:
    files = [Path(a).resolve() for a in sys.argv[1:]] or [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    make_targets = targets()
    problems = [p for f in files for p in check(f, make_targets)]
    for p in problems:
        print(p)
    print(f"docs-check: {len(files)} files, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
