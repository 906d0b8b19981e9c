"""README.md stays true to the tree and to itself.

- Its layout section ("## Layout …", the first fenced block in it) describes every top-level folder
  that git tracks, each on a line of its own (`name/   description`), and names no folder that git
  does not track. Lines starting at column 0 are entries; their first word is a folder path,
  where `<x>` stands for any one folder (`src/modules/<m>/`). Indented lines continue an entry.
- Every in-page link (`[text](#anchor)`), the table of contents' included, points to a heading
  that exists, with GitHub's anchors; and the table of contents (the list after `**Contents**`)
  links every `##` section.

Each checker is also run on a synthetic README that breaks it, to show that it can fail.
Standard library and pytest only: `python3 -m pytest -q -p no:cacheprovider tests/docs`.
"""
import pathlib
import re
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
README = REPO / "README.md"

FENCE = re.compile(r"^(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
IN_PAGE_LINK = re.compile(r"\[([^\]]*)\]\(#([^)\s]*)\)")
PLACEHOLDER = re.compile(r"^<[^<>/]+>$")


# --- Reading the tree ----------------------------------------------------------------------------

def tracked_folders(repo=REPO):
    """Every folder that holds a file git tracks (`a`, `a/b`, …), as '/'-joined paths."""
    try:
        out = subprocess.run(["git", "-C", str(repo), "ls-files", "-z"], check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"not a git checkout ({error}): the layout is checked against git's files")
    folders = set()
    for path in out.decode("utf-8", "surrogateescape").split("\0"):
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folders.add("/".join(parts[:depth]))
    return folders


def top_level(folders):
    return {f for f in folders if "/" not in f}


# --- Reading the README --------------------------------------------------------------------------

def outside_fences(text):
    """(line number, line) of every line not inside a fenced code block."""
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            inside = not inside
            continue
        if not inside:
            yield number, line


def headings(text):
    """(level, title) of every Markdown heading outside code blocks."""
    found = []
    for _, line in outside_fences(text):
        match = HEADING.match(line)
        if match:
            found.append((len(match.group(1)), match.group(2)))
    return found


def github_slug(title):
    """The anchor GitHub gives a heading: its text without Markdown, lowercased, punctuation
    dropped except '-' and '_', each space a '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", title)  # a link keeps its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)  # \w is Unicode: letters, digits and '_' stay
    return text.replace(" ", "-")


def anchors(text):
    """Every heading's anchor, a repeated one suffixed -1, -2, … as GitHub does."""
    seen = {}
    result = set()
    for _, title in headings(text):
        slug = github_slug(title)
        if slug in seen:
            seen[slug] += 1
            slug = f"{slug}-{seen[slug]}"
        else:
            seen[slug] = 0
        result.add(slug)
    return result


def layout_section(text):
    """The first fenced block of the "## Layout …" section, as its lines; None when missing."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(r"^## +Layout\b", line)), None)
    if start is None:
        return None
    block, inside = [], False
    for line in lines[start + 1:]:
        if not inside and re.match(r"^#{1,2} ", line):
            break  # the next section, and no block in this one
        if FENCE.match(line):
            if inside:
                return block
            inside = True
            continue
        if inside:
            block.append(line)
    return None


# --- The checkers --------------------------------------------------------------------------------

def folder_exists(path, folders):
    """Whether `path` (components, `<x>` matching any folder) names a folder in `folders`."""
    candidates = {""}
    for part in path.split("/"):
        following = set()
        for prefix in candidates:
            below = {f for f in folders if f.startswith(prefix) and "/" not in f[len(prefix):]}
            if PLACEHOLDER.match(part):
                following |= {f + "/" for f in below}
            elif prefix + part in folders:
                following.add(prefix + part + "/")
        candidates = following
        if not candidates:
            return False
    return True


def layout_problems(text, folders):
    """What the README's layout block gets wrong about `folders` (git's), as sentences."""
    block = layout_section(text)
    if block is None:
        return ["README.md has no '## Layout …' section with a fenced block of folders"]
    problems = []
    described = []
    for line in block:
        if not line.strip() or line[0].isspace():
            continue  # a blank line or a description's continuation
        path = line.split()[0]
        if not path.endswith("/"):
            problems.append(f"layout line {line.strip()!r} does not start with a folder (`name/`)")
            continue
        path = path.strip("/")
        if path.startswith("./"):
            path = path[2:]
        if path in described:
            problems.append(f"layout describes {path}/ twice")
        described.append(path)
        if not folder_exists(path, folders):
            problems.append(f"layout describes {path}/, which is not a folder git tracks")
    for folder in sorted(top_level(folders)):
        if folder not in described:
            problems.append(f"top-level folder {folder}/ is tracked by git but not described in the layout")
    return problems


def toc_problems(text):
    """In-page links to no heading, and `##` sections the table of contents leaves out."""
    known = anchors(text)
    problems = []
    for number, line in outside_fences(text):
        for label, anchor in IN_PAGE_LINK.findall(line):
            if anchor not in known:
                problems.append(f"line {number}: [{label}](#{anchor}) points to no heading")
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == "**Contents**"), None)
    if start is None:
        return problems + ["README.md has no table of contents (a list after a '**Contents**' line)"]
    listed = set()
    for line in lines[start + 1:]:
        if not line.strip():
            if listed:
                break
            continue
        if not re.match(r"^\s*[-*] ", line):
            break
        listed.update(anchor for _, anchor in IN_PAGE_LINK.findall(line))
    for level, title in headings(text):
        if level == 2 and github_slug(title) not in listed:
            problems.append(f"section '## {title}' is not in the table of contents")
    return problems


# --- This repository -----------------------------------------------------------------------------

def test_the_layout_describes_every_tracked_top_level_folder_and_nothing_else():
    assert layout_problems(README.read_text(encoding="utf-8"), tracked_folders()) == []


def test_every_table_of_contents_link_reaches_a_heading():
    assert toc_problems(README.read_text(encoding="utf-8")) == []


# --- The checkers fail when they should ----------------------------------------------------------

FOLDERS = {".ci", "docs", "docs/adr", "src", "src/modules", "src/modules/orders", "src/modules/orders/include"}

SYNTHETIC = """# project

**Contents**

- [Start](#start)
- [Layout and documents](#layout-and-documents)

## Start

```sh
# not a heading: a comment in a code block
```

## Layout and documents

```
.ci/                 what CI runs
docs/                documents
                     (a continuation line)
src/                 the sources
src/modules/<m>/     one folder per module
```
"""


def test_the_synthetic_readme_passes():
    assert layout_problems(SYNTHETIC, FOLDERS) == []
    assert toc_problems(SYNTHETIC) == []


def test_a_tracked_folder_missing_from_the_layout_is_reported():
    problems = layout_problems(SYNTHETIC.replace("docs/                documents\n", ""), FOLDERS)
    assert problems == ["top-level folder docs/ is tracked by git but not described in the layout"]


def test_a_folder_that_does_not_exist_is_reported():
    text = SYNTHETIC.replace("src/                 the sources\n",
                             "src/                 the sources\nlib/                 gone\nsrc/app/             gone too\n")
    assert layout_problems(text, FOLDERS) == [
        "layout describes lib/, which is not a folder git tracks",
        "layout describes src/app/, which is not a folder git tracks",
    ]


def test_a_placeholder_needs_a_folder_to_stand_for():
    text = SYNTHETIC.replace("src/modules/<m>/", "src/modules/<m>/include/<m>/")
    assert layout_problems(text, FOLDERS) == [
        "layout describes src/modules/<m>/include/<m>/, which is not a folder git tracks"]


def test_a_layout_line_that_is_no_folder_and_a_missing_section_are_reported():
    assert layout_problems(SYNTHETIC.replace(".ci/ ", ".ci  "), FOLDERS) == [
        "layout line '.ci                  what CI runs' does not start with a folder (`name/`)",
        "top-level folder .ci/ is tracked by git but not described in the layout",
    ]
    assert layout_problems(SYNTHETIC.replace("## Layout", "## Files"), FOLDERS) == [
        "README.md has no '## Layout …' section with a fenced block of folders"]


def test_a_broken_toc_link_and_a_section_missing_from_it_are_reported():
    text = SYNTHETIC.replace("(#start)", "(#begin)")
    assert toc_problems(text) == ["line 5: [Start](#begin) points to no heading",
                                  "section '## Start' is not in the table of contents"]
    assert toc_problems(SYNTHETIC.replace("**Contents**", "Contents")) == [
        "README.md has no table of contents (a list after a '**Contents**' line)"]


@pytest.mark.parametrize("title, slug", [
    ("Quick start (Debian 12)", "quick-start-debian-12"),
    ("The whole flow: zone, product, courier → order → refund", "the-whole-flow-zone-product-courier--order--refund"),
    ("`--modules` and snake_case", "--modules-and-snake_case"),
    ("Layout and documents", "layout-and-documents"),
    ("A [link](https://example.com) inside", "a-link-inside"),
])
def test_github_slugs(title, slug):
    assert github_slug(title) == slug


def test_repeated_headings_get_numbered_anchors():
    assert anchors("## Notes\n\n## Notes\n\n## Notes\n") == {"notes", "notes-1", "notes-2"}
