#!/usr/bin/env python3
"""The expected size of the deliveryhub image, computed from the runtime files on this machine.

No Docker engine runs on the development machines, so the image is never built here. Its runtime
stage is debian:12-slim plus the Debian packages that the Dockerfile installs plus one binary, and
all three can be measured here, on the same Debian 12 that the build stage runs:

  - the base image: debian:12-slim's reported size (BASE_IMAGE_MB, with its source below);
  - the packages: the Dockerfile's runtime `apt-get install` list, closed over Depends and
    Pre-Depends as apt resolves them (--no-install-recommends), less the packages the base image
    already has (BASE_PACKAGES); each counted at its dpkg Installed-Size, Debian's own estimate of
    the disk space it takes. This is an upper estimate: the slim image's dpkg configuration leaves
    out /usr/share/doc, man pages and locales, so the same packages' files without those paths are
    printed too;
  - what ca-certificates' postinst generates (the bundle in /etc/ssl/certs), measured here;
  - the binary: the file that the Dockerfile copies, build/release/src/app/deliveryhub.

The shared libraries that `ldd` resolves for the binary are listed with their package and size.
They are inside the packages' figures, not added twice. A library from a package that the image
would not have is an error (exit 1), as is a total over the budget.

Usage: scripts/image-size.py [--binary PATH] [--dockerfile PATH] [--budget-mb MB] [--json]
Sizes are in MB = 10^6 bytes, as docker reports them. Stdlib only; needs dpkg-query, dpkg and ldd.
"""
import argparse
import json
import os
import pathlib
import re
import shlex
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_BINARY = ROOT / "build/release/src/app/deliveryhub"
DEFAULT_DOCKERFILE = ROOT / "Dockerfile"
BUDGET_MB = 100.0

BASE_IMAGE = "debian:12-slim"
# debian:12-slim (= bookworm-slim), linux/amd64, as docker-library/repo-info records it in
# repos/debian/local/bookworm-slim.md for the image of 2026-09-18: "Virtual Size: ~ 74.83 Mb
# (total size of all layers on-disk)", in MB of 10^6 bytes (repo-info's scan divides docker
# inspect's Size by 1000 * 1000). The same file lists the image's packages, copied below.
# Both change a little with each point release; the assumption is that they stay this close.
BASE_IMAGE_MB = 74.83
BASE_PACKAGES = frozenset("""
    adduser apt base-files base-passwd bash bsdutils coreutils dash debconf
    debian-archive-keyring debianutils diffutils dpkg e2fsprogs findutils gcc-12-base gpgv grep
    gzip hostname init-system-helpers libacl1 libapt-pkg6.0 libattr1 libaudit-common libaudit1
    libblkid1 libbz2-1.0 libc-bin libc6 libcap-ng0 libcap2 libcom-err2 libcrypt1 libdb5.3
    libdebconfclient0 libext2fs2 libffi8 libgcc-s1 libgcrypt20 libgmp10 libgnutls30
    libgpg-error0 libhogweed6 libidn2-0 liblz4-1 liblzma5 libmd0 libmount1 libnettle8
    libp11-kit0 libpam-modules libpam-modules-bin libpam-runtime libpam0g libpcre2-8-0
    libseccomp2 libselinux1 libsemanage-common libsemanage2 libsepol2 libsmartcols1 libss2
    libstdc++6 libsystemd0 libtasn1-6 libtinfo6 libudev1 libunistring2 libuuid1 libxxhash0
    libzstd1 login logsave mawk mount ncurses-base ncurses-bin passwd perl-base sed
    sysvinit-utils tar tzdata usr-is-merged util-linux util-linux-extra zlib1g
""".split())
# The slim images' dpkg path-excludes: documentation, man pages, locales (copyright files stay).
SLIM_EXCLUDED = re.compile(r"^/usr/share/(doc|man|groff|info|lintian|linda|locale)/")
SLIM_KEPT = re.compile(r"^/usr/share/doc/[^/]+/copyright$|^/usr/share/locale/locale\.alias$")
# Sanitizer runtimes: linked by the asan and fuzz builds only, never by the release build.
SANITIZER_RUNTIME = re.compile(r"^lib(asan|ubsan|tsan|lsan|hwasan)\.so")
GENERATED_FILES = {"ca-certificates": ["/etc/ssl/certs/ca-certificates.crt"]}


class Problem(Exception):
    """Something this script cannot measure (a missing tool, package or file)."""


# --- The Dockerfile ---------------------------------------------------------------------------

def instructions(text):
    """(KEYWORD, arguments, line number) for each instruction: continuations joined, comments out."""
    result, buffer, start = [], "", 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not buffer):
            continue  # a comment line, also inside a continued instruction, as docker reads it
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        buffer += stripped
        keyword, _, arguments = buffer.partition(" ")
        result.append((keyword.upper(), arguments.strip(), start))
        buffer = ""
    if buffer:
        keyword, _, arguments = buffer.partition(" ")
        result.append((keyword.upper(), arguments.strip(), start))
    return result


def stages(text):
    """The build stages: [{"image", "name", "line", "instructions": [(KEYWORD, args, line)]}]."""
    result = []
    for keyword, arguments, line in instructions(text):
        if keyword == "FROM":
            words = [w for w in arguments.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            result.append({"image": words[0] if words else "", "name": name, "line": line, "instructions": []})
        elif result:
            result[-1]["instructions"].append((keyword, arguments, line))
    return result


def shell_commands(arguments):
    """The simple commands of a RUN's shell form, split at &&, || and ;, as word lists."""
    commands = []
    for part in re.split(r"&&|\|\||;", arguments):
        try:
            words = shlex.split(part)
        except ValueError:
            words = part.split()
        while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            words = words[1:]  # VAR=value before the command
        if words:
            commands.append(words)
    return commands


def runtime_packages(text):
    """The packages that the last stage (the image) installs with apt-get install, in order."""
    all_stages = stages(text)
    if not all_stages:
        return []
    packages = []
    for keyword, arguments, _ in all_stages[-1]["instructions"]:
        if keyword != "RUN":
            continue
        for words in shell_commands(arguments):
            if words[0] in ("apt-get", "apt") and "install" in words[1:]:
                after = words[words.index("install") + 1:]
                packages += [w for w in after if not w.startswith("-")]
    return packages


# --- This machine's dpkg database -------------------------------------------------------------

def dpkg_database():
    """{package: {"installed", "version", "kib", "provides", "depends"}} for every known package."""
    fields = "${Package}\\t${db:Status-Abbrev}\\t${Version}\\t${Installed-Size}\\t${Provides}\\t${Pre-Depends}\\t${Depends}\\n"
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", fields], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise Problem(f"dpkg-query failed: {error}") from error
    database = {}
    for line in out.splitlines():
        name, status, version, kib, provides, pre_depends, depends = (line.split("\t") + [""] * 7)[:7]
        if not status.startswith("ii") and name in database:
            continue
        database[name] = {
            "installed": status.startswith("ii"),
            "version": version,
            "kib": int(kib) if kib.isdigit() else 0,
            "provides": [p.split()[0].split(":")[0] for p in provides.split(",") if p.strip()],
            "depends": [d for d in (pre_depends + "," + depends).split(",") if d.strip()],
        }
    return database


def closure(packages, database):
    """(every package apt installs for `packages`, without Recommends; names it cannot resolve)."""
    providers = {}
    for name, info in database.items():
        if info["installed"]:
            for virtual in info["provides"]:
                providers.setdefault(virtual, name)

    def resolve(atom):
        name = atom.split()[0].split(":")[0]
        if database.get(name, {}).get("installed"):
            return name
        return providers.get(name)

    seen, unresolved, todo = set(), [], list(packages)
    while todo:
        atom = todo.pop()
        name = resolve(atom)
        if name is None:
            unresolved.append(atom)
            continue
        if name in seen:
            continue
        seen.add(name)
        for dependency in database[name]["depends"]:
            alternatives = [a.strip() for a in dependency.split("|")]
            names = [a.split()[0].split(":")[0] for a in alternatives]
            if any(n in seen or n in BASE_PACKAGES for n in names):
                continue  # already there: apt takes it
            chosen = next((resolve(a) for a in alternatives if resolve(a)), None)
            if chosen is None:
                unresolved.append(dependency.strip())
            else:
                todo.append(chosen)
    return seen, unresolved


def package_files(package):
    """The regular files that dpkg installed for a package, with their sizes."""
    out = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True).stdout
    files = []
    for path in out.splitlines():
        if os.path.isfile(path) and not os.path.islink(path):
            files.append((path, os.path.getsize(path)))
    return files


def owners(paths):
    """{path: package} for the paths that dpkg knows, trying each path and its resolved form."""
    result = {}
    wanted = {}
    for path in paths:
        for candidate in (path, os.path.realpath(path)):
            wanted.setdefault(candidate, path)
    if not wanted:
        return result
    out = subprocess.run(["dpkg", "-S", *wanted], capture_output=True, text=True).stdout
    for line in out.splitlines():
        package, _, path = line.partition(": ")
        if path in wanted and wanted[path] not in result:
            result[wanted[path]] = package.split(",")[0].split(":")[0].strip()
    return result


# --- The binary -------------------------------------------------------------------------------

def ldd(binary):
    """[(soname, resolved path or None)] for every shared library the dynamic loader maps."""
    try:
        out = subprocess.run(["ldd", str(binary)], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise Problem(f"ldd {binary} failed: {error}") from error
    libraries = []
    for line in out.splitlines():
        line = line.strip()
        match = re.match(r"^(\S+) => (\S+|not found)", line)
        if match:
            soname, path = match.groups()
            libraries.append((soname, None if path == "not found" else path))
        elif re.match(r"^/\S+ \(0x", line):  # the loader itself
            path = line.split()[0]
            libraries.append((os.path.basename(path), path))
        # linux-vdso.so.1 is the kernel's, not a file
    return libraries


def library_report(binary, packages, database):
    """Each library ldd resolves: its package, and whether the image has it (base or installed)."""
    installed, _ = closure(packages, database)
    libraries = ldd(binary)
    owner = owners([path for _, path in libraries if path])
    report = []
    for soname, path in libraries:
        package = owner.get(path) if path else None
        if SANITIZER_RUNTIME.match(soname):
            where = "sanitizer runtime (not in a release build)"
        elif path is None:
            where = "not found by ldd"
        elif package is None:
            where = "no Debian package owns it"
        elif package in BASE_PACKAGES:
            where = "base image"
        elif package in installed:
            where = "installed"
        else:
            where = "MISSING from the image"
        report.append({
            "soname": soname, "path": path, "package": package, "where": where,
            "bytes": os.path.getsize(os.path.realpath(path)) if path else 0,
        })
    return report


def uncovered(report):
    """The libraries of a library_report that the image would not have."""
    return [entry for entry in report if entry["where"] not in ("base image", "installed")
            and not entry["where"].startswith("sanitizer runtime")]


# --- The estimate -----------------------------------------------------------------------------

def estimate(binary, dockerfile_text, budget_mb=BUDGET_MB):
    all_stages = stages(dockerfile_text)
    if not all_stages:
        raise Problem("the Dockerfile has no FROM")
    base = all_stages[-1]["image"]
    if base != BASE_IMAGE:
        raise Problem(f"the runtime stage is FROM {base}; this script knows the size of {BASE_IMAGE} only")
    packages = runtime_packages(dockerfile_text)
    if not packages:
        raise Problem("the runtime stage installs no package with apt-get install")
    database = dpkg_database()
    missing = [p for p in packages if not database.get(p, {}).get("installed")]
    if missing:
        raise Problem("not installed on this machine, so not measurable: " + " ".join(missing)
                      + " (scripts/install-deps.sh build installs the -dev packages that pull them in)")
    installed, unresolved = closure(packages, database)
    if unresolved:
        raise Problem("cannot resolve dependencies: " + "; ".join(sorted(set(unresolved))))
    added = sorted(p for p in installed if p not in BASE_PACKAGES)
    rows = []
    for package in added:
        files = package_files(package)
        slim_bytes = sum(size for path, size in files
                         if not SLIM_EXCLUDED.match(path) or SLIM_KEPT.match(path))
        generated = sum(os.path.getsize(p) for p in GENERATED_FILES.get(package, []) if os.path.isfile(p))
        rows.append({"package": package, "version": database[package]["version"],
                     "installed_size_bytes": database[package]["kib"] * 1024 + generated,
                     "slim_files_bytes": slim_bytes + generated, "generated_bytes": generated})
    binary = pathlib.Path(binary)
    if not binary.is_file():
        raise Problem(f"no binary at {binary} (build it: cmake --preset release && cmake --build --preset release)")
    binary_bytes = binary.stat().st_size
    libraries = library_report(binary, packages, database)
    mb = 1e6
    packages_mb = sum(r["installed_size_bytes"] for r in rows) / mb
    total_mb = BASE_IMAGE_MB + packages_mb + binary_bytes / mb
    slim_total_mb = BASE_IMAGE_MB + sum(r["slim_files_bytes"] for r in rows) / mb + binary_bytes / mb
    return {
        "base_image": BASE_IMAGE, "base_image_mb": BASE_IMAGE_MB,
        "runtime_packages": packages, "added_packages": rows, "packages_mb": packages_mb,
        "binary": str(binary), "binary_mb": binary_bytes / mb,
        "sanitizer_build": any(e["where"].startswith("sanitizer") for e in libraries),
        "libraries": libraries, "uncovered_libraries": uncovered(libraries),
        "total_mb": total_mb, "total_slim_files_mb": slim_total_mb,
        "budget_mb": budget_mb, "within_budget": total_mb <= budget_mb,
    }


def print_report(result, out=sys.stdout):
    w = out.write
    w(f"Expected deliveryhub image size ({result['base_image']} + runtime packages + binary; MB = 10^6 bytes)\n\n")
    w(f"  {'base image ' + result['base_image'] + ' (amd64, reported size)':<62}{result['base_image_mb']:>9.2f} MB\n")
    w(f"  {'runtime packages not in the base (dpkg Installed-Size)':<62}{result['packages_mb']:>9.2f} MB\n")
    for row in result["added_packages"]:
        note = " (+ generated files)" if row["generated_bytes"] else ""
        w(f"      {row['package'] + ' ' + row['version'] + note:<58}{row['installed_size_bytes'] / 1e6:>9.2f} MB\n")
    w(f"  {'binary ' + result['binary']:<62}{result['binary_mb']:>9.2f} MB\n")
    w(f"  {'-' * 73}\n")
    verdict = "within" if result["within_budget"] else "OVER"
    w(f"  {'total':<62}{result['total_mb']:>9.2f} MB   ({verdict} the {result['budget_mb']:g} MB budget)\n")
    w(f"  {'  the same packages without docs/man/locales (slim excludes)':<62}{result['total_slim_files_mb']:>9.2f} MB\n\n")
    w("  Shared libraries the binary loads (ldd), inside the figures above:\n")
    for entry in result["libraries"]:
        w(f"      {entry['soname']:<32}{entry['bytes'] / 1e6:>7.2f} MB  {entry['package'] or '-':<28}{entry['where']}\n")
    if result["sanitizer_build"]:
        w("\n  Note: this binary links sanitizer runtimes; the image holds the release build, which does not.\n")
    for entry in result["uncovered_libraries"]:
        w(f"\nimage-size: {entry['soname']} ({entry['path']}, {entry['package']}): {entry['where']}\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=os.environ.get("DELIVERYHUB_IMAGE_BINARY", str(DEFAULT_BINARY)),
                        help="the binary the image holds (default: the release build)")
    parser.add_argument("--dockerfile", default=str(DEFAULT_DOCKERFILE))
    parser.add_argument("--budget-mb", type=float, default=BUDGET_MB)
    parser.add_argument("--json", action="store_true", help="print the breakdown as JSON")
    args = parser.parse_args(argv)
    try:
        result = estimate(args.binary, pathlib.Path(args.dockerfile).read_text(), args.budget_mb)
    except (Problem, OSError) as error:
        print(f"image-size: {error}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_report(result)
    return 0 if result["within_budget"] and not result["uncovered_libraries"] else 1


if __name__ == "__main__":
    sys.exit(main())
