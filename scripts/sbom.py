#!/usr/bin/env python3
"""The image's SBOM and the record of the last time the image was built and tested.

scripts/image.sh --test calls the first three; ctest `deploy.dockerfile` runs the checks of
tests/deploy/test_image_record.py, which import this file.

  sbom.py generate ROOTFS OUT --version V [--build-root B]
                                           the SBOM of a mounted image: cdxgen (OWASP CycloneDX
                                           generator, pinned in tools/sbom; its trivy plugin reads
                                           the image's dpkg database), CycloneDX 1.6 JSON; with the
                                           mounted build stage B, also the binary and the packages
                                           whose headers were compiled into it
  sbom.py check SBOM --base-packages FILE  the SBOM's policy (check_sbom below); exit 1 on problems
  sbom.py record OUT --sbom S --binary B --base-packages FILE --size-podman N [--size-docker N]
                 --tests SUMMARY           writes tests/image/last-verified.json: what the image
                                           was built from (IMAGE_INPUTS' digests, the libraries
                                           the binary loads), its base's packages, sizes, tests
  sbom.py verify [--binary B]              the record against the tree: exit 1 when an input
                                           changed since (check_record below)

The record is how "no change to the Dockerfile, scripts/install-deps.sh or the runtime libraries
lands without the image test" is enforced where the image cannot be built (CI: no root, no
podman; docs/adr/0039-the-image-test-runs-before-image-changes-land.md).
"""
import argparse
import datetime
import hashlib
import importlib.util
import json
import pathlib
import re
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
RECORD = REPO / "tests/image/last-verified.json"
SBOM_DIR = REPO / "sbom"
CDXGEN_DIR = REPO / "tools/sbom"
# What the image is made of besides the source tree: a change to any of them needs a new image
# test (the tree itself is compiled by the same CMake preset that CI tests).
IMAGE_INPUTS = ("Dockerfile", ".dockerignore", "scripts/install-deps.sh")

_spec = importlib.util.spec_from_file_location("image_size", REPO / "scripts/image-size.py")
image_size = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(image_size)

# Packages that exist only to build: headers and static libraries, debug symbols, compilers,
# linkers and build systems. None belongs in the runtime image.
BUILD_ONLY = re.compile(r"(-dev|-dbg|-dbgsym)$|^(build-essential|gcc|g\+\+|cpp|clang|llvm|binutils"
                        r"|cmake|ninja-build|make|pkgconf|pkg-config|ccache|mold|git|dpkg-dev"
                        r"|libc6-dev|linux-libc-dev)(-[0-9.]+)?$")
# glibc's libraries other than libc.so.6 come and go with compiler flags (the sanitizer build
# links libm); all are libc6, in every image.
GLIBC_EXTRAS = re.compile(r"^lib(m|pthread|dl|rt|resolv|util)\.so\.\d+$")


def project_version(repo=REPO) -> str:
    text = (repo / "CMakeLists.txt").read_text()
    return re.search(r"^project\(deliveryhub VERSION ([0-9.]+)", text, re.M).group(1)


def sbom_path(version: str) -> pathlib.Path:
    return SBOM_DIR / f"deliveryhub-{version}.cdx.json"


# --- Reading an SBOM -------------------------------------------------------------------------

def _property(component: dict, name: str) -> str | None:
    return next((p["value"] for p in component.get("properties", []) if p["name"] == name), None)


def installed_packages(sbom: dict) -> dict[str, dict]:
    """The Debian packages installed in the image (trivy's PkgType debian), by name. cdxgen also
    lists their source packages (tagged `source`); those are not installed."""
    return {c["name"]: c for c in sbom.get("components", [])
            if _property(c, "aquasecurity:trivy:PkgType") == "debian"}


def depends_on(sbom: dict) -> dict[str, set[str]]:
    """Package name -> the names of the packages it depends on (the SBOM's dependency graph)."""
    name_of = {c["bom-ref"]: c["name"] for c in sbom.get("components", []) if "bom-ref" in c}
    graph: dict[str, set[str]] = {}
    for entry in sbom.get("dependencies", []):
        if entry["ref"] in name_of:
            graph.setdefault(name_of[entry["ref"]], set()).update(
                name_of[d] for d in entry.get("dependsOn", []) if d in name_of)
    return graph


def reachable(roots, graph: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph.get(name, ()))
    return seen


def install_script_build_packages(install_deps_text: str) -> set[str]:
    block = re.search(r"^build_packages=\((.*?)^\)", install_deps_text, re.S | re.M)
    return set(block.group(1).split()) if block else set()


# --- The policy ------------------------------------------------------------------------------

def check_sbom(sbom: dict, dockerfile_text: str, install_deps_text: str, base_packages: set[str],
               version: str) -> list[str]:
    """What is wrong with the image the SBOM describes: not a CycloneDX SBOM of deliveryhub
    VERSION; a runtime package the Dockerfile names missing; a package needed only for building
    (BUILD_ONLY, or in install-deps.sh's build set while neither the Dockerfile nor the base
    needs it); or a package beyond the base that no runtime package depends on, directly or not."""
    problems = []
    if sbom.get("bomFormat") != "CycloneDX":
        problems.append("not a CycloneDX document")
    subject = sbom.get("metadata", {}).get("component", {})
    if (subject.get("name"), subject.get("version")) != ("deliveryhub", version):
        problems.append(f"describes {subject.get('name')} {subject.get('version')}, not deliveryhub {version}")
    compiled = compiled_in_packages(sbom)
    if not compiled:
        problems.append("lists no packages compiled into the binary (the build stage's headers)")
    elif not any(name.startswith("libboost") for name in compiled) or "nlohmann-json3-dev" not in compiled:
        problems.append("the binary's compiled-in packages miss Boost or nlohmann-json, which every build uses")
    installed = installed_packages(sbom)
    if not installed:
        return problems + ["lists no installed Debian package (was the image's dpkg database read?)"]
    runtime = set(image_size.runtime_packages(dockerfile_text))
    for name in sorted(runtime - installed.keys()):
        problems.append(f"{name}: the Dockerfile installs it, the SBOM does not list it")
    build_set = install_script_build_packages(install_deps_text)
    for name in sorted(installed):
        if BUILD_ONLY.search(name):
            problems.append(f"{name}: a package for building only, in the runtime image")
        elif name in build_set and name not in runtime and name not in base_packages:
            problems.append(f"{name}: installed for the build (scripts/install-deps.sh build), in the runtime image")
    needed = reachable(runtime & installed.keys(), depends_on(sbom))
    for name in sorted(installed.keys() - base_packages - needed):
        problems.append(f"{name}: not in the base image and no runtime package depends on it")
    return problems


# --- The record of the last image test -------------------------------------------------------

def input_digests(repo=REPO) -> dict[str, str]:
    return {path: hashlib.sha256((repo / path).read_bytes()).hexdigest() for path in IMAGE_INPUTS}


def needed_libraries(binary) -> list[str]:
    """The shared libraries the binary names (DT_NEEDED), less sanitizer runtimes and glibc's
    extras: the same list for the release binary in the image and CI's sanitizer build."""
    out = subprocess.run(["readelf", "-d", str(binary)], check=True, capture_output=True, text=True).stdout
    names = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
    return sorted(n for n in names if not image_size.SANITIZER_RUNTIME.match(n) and not GLIBC_EXTRAS.match(n))


def check_record(record: dict, digests: dict[str, str], needed: list[str] | None, repo=REPO) -> list[str]:
    """Why the last image test no longer speaks for this tree: an input changed, the binary loads
    other libraries (needed None: not checked), or the SBOM it made is missing or for another
    version."""
    problems = []
    for path, digest in digests.items():
        if record.get("inputs", {}).get(path) != digest:
            problems.append(f"{path} changed since the image was last built and tested")
    if needed is not None and needed != record.get("needed_libraries"):
        added = sorted(set(needed) - set(record.get("needed_libraries", [])))
        removed = sorted(set(record.get("needed_libraries", [])) - set(needed))
        problems.append(f"the binary's libraries changed since the image was last tested (added {added}, removed {removed})")
    sbom = repo / record.get("sbom", "-")
    if not sbom.is_file():
        problems.append(f"the SBOM {record.get('sbom')} is not in the tree")
    elif sbom.name != sbom_path(project_version(repo)).name:
        problems.append(f"the SBOM {record.get('sbom')} is not this version's ({project_version(repo)})")
    if problems:
        problems.append("run `sudo scripts/image.sh --test` and commit tests/image/last-verified.json and sbom/")
    return problems


# --- Commands --------------------------------------------------------------------------------

def generate(rootfs: str, out: str, version: str, build_root: str | None = None) -> None:
    """The SBOM of the mounted image `rootfs`; with `build_root` (the mounted build stage), the
    binary and the packages compiled into it as well (compiled_in_component)."""
    cdxgen = CDXGEN_DIR / "node_modules/.bin/cdxgen"
    if not cdxgen.exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CDXGEN_DIR, check=True)
    # cdxgen warns when it runs as root (it would run package managers' hooks): on an image's
    # root file system with --no-install-deps it runs none, only its trivy plugin over the files.
    subprocess.run([str(cdxgen), "-t", "rootfs", rootfs, "-o", out, "--no-install-deps",
                    "--component-type", "library", "--spec-version", "1.6", "--json-pretty",
                    "--project-name", "deliveryhub", "--project-version", version],
                   check=True, stdout=subprocess.DEVNULL)
    if build_root:
        sbom = json.loads(pathlib.Path(out).read_text())
        sbom["components"].append(compiled_in_component(pathlib.Path(build_root), version))
        pathlib.Path(out).write_text(json.dumps(sbom, indent=2) + "\n")
        validate(out)


# --- What the binary was compiled from ---------------------------------------------------------

BINARY_REF = "deliveryhub-binary"
COMPILED_IN = "deliveryhub:compiled-in-headers"


def compiled_in_component(build_root: pathlib.Path, version: str, build_dir: str = "src/build/release") -> dict:
    """The binary as a component of the SBOM, with the Debian packages whose headers (templates,
    inline code, header-only libraries: Boost, nlohmann-json, CLI11, …) the build stage compiled
    into it: the headers each object file read (ninja's deps log) mapped to the packages of the
    build stage's own dpkg database, with their versions. Those packages are not installed in the
    image; a vulnerability in one of them is one in the binary."""
    deps = subprocess.run(["ninja", "-C", str(build_root / build_dir), "-t", "deps"], check=True,
                          capture_output=True, text=True).stdout
    headers = sorted({line.strip() for line in deps.splitlines()
                      if line.startswith("    /usr/") and not line.strip().startswith("/usr/local/")})
    admindir = str(build_root / "var/lib/dpkg")
    owners: dict[str, int] = {}
    for i in range(0, len(headers), 500):
        found = subprocess.run(["dpkg-query", f"--admindir={admindir}", "-S", *headers[i:i + 500]],
                               capture_output=True, text=True).stdout
        for line in found.splitlines():
            package = line.split(":", 1)[0]
            if "," not in package:  # a path two packages share (diversions) says nothing
                owners[package] = owners.get(package, 0) + 1
    fields = subprocess.run(["dpkg-query", f"--admindir={admindir}", "-W", "-f",
                             "${Package}\t${Version}\t${Architecture}\n", *sorted(owners)],
                            check=True, capture_output=True, text=True).stdout
    components = []
    for line in fields.splitlines():
        name, package_version, arch = line.split("\t")
        purl = f"pkg:deb/debian/{name}@{package_version}?arch={arch}&distro=debian-12"
        components.append({"bom-ref": f"{BINARY_REF}/{name}", "type": "library", "name": name,
                           "version": package_version, "purl": purl, "scope": "required",
                           "properties": [{"name": COMPILED_IN, "value": str(owners[name])}]})
    return {"bom-ref": BINARY_REF, "type": "application", "name": "deliveryhub", "version": version,
            "properties": [{"name": "deliveryhub:path", "value": "/usr/local/bin/deliveryhub"},
                           {"name": "deliveryhub:built-by", "value": f"the Dockerfile's build stage, {build_dir}"}],
            "components": components}


def compiled_in_packages(sbom: dict) -> dict[str, dict]:
    binary = next((c for c in sbom.get("components", []) if c.get("bom-ref") == BINARY_REF), {})
    return {c["name"]: c for c in binary.get("components", [])}


def validate(sbom_file: str) -> None:
    """Against CycloneDX 1.6's JSON schema, with cdxgen's cdx-validate (tools/sbom): exit 2 on a
    violation (--strict). Its compliance scorecards only inform (--fail-severity critical)."""
    result = subprocess.run([str(CDXGEN_DIR / "node_modules/.bin/cdx-validate"), "-i", sbom_file, "--strict",
                             "--no-deep", "--fail-severity", "critical"], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{sbom_file} is not a valid CycloneDX document:\n{result.stdout[-3000:]}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate")
    g.add_argument("rootfs")
    g.add_argument("out")
    g.add_argument("--version", default=project_version())
    g.add_argument("--build-root", help="the mounted build stage: add the binary and what it was compiled from")
    c = sub.add_parser("check")
    c.add_argument("sbom")
    c.add_argument("--base-packages", required=True)
    r = sub.add_parser("record")
    r.add_argument("out")
    for name in ("--sbom", "--binary", "--base-packages", "--size-podman", "--tests"):
        r.add_argument(name, required=True)
    r.add_argument("--size-docker")
    r.add_argument("--image", default="deliveryhub:dev")
    v = sub.add_parser("verify")
    v.add_argument("--binary")
    args = parser.parse_args(argv)

    if args.command == "generate":
        generate(args.rootfs, args.out, args.version, args.build_root)
        return 0
    if args.command == "check":
        problems = check_sbom(json.loads(pathlib.Path(args.sbom).read_text()), (REPO / "Dockerfile").read_text(),
                              (REPO / "scripts/install-deps.sh").read_text(),
                              set(pathlib.Path(args.base_packages).read_text().split()), project_version())
        print("\n".join(problems) or f"{args.sbom}: no build-only package, every package accounted for")
        return 1 if problems else 0
    if args.command == "record":
        sbom = json.loads(pathlib.Path(args.sbom).read_text())
        revision = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        # What this command writes does not count as a change to the tree it tested.
        dirty = subprocess.run(["git", "status", "--porcelain", "--", ".", ":!sbom", f":!{RECORD.relative_to(REPO)}"],
                               cwd=REPO, capture_output=True, text=True).stdout.strip()
        record = {
            "about": "The last build and test of the image (sudo scripts/image.sh --test); "
                     "ctest deploy.dockerfile fails when an input changed since.",
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "revision": revision + (" with uncommitted changes" if dirty else ""),
            "image": args.image,
            "size_bytes": {"podman": int(args.size_podman),
                           **({"docker_style": int(args.size_docker)} if args.size_docker else {})},
            "tests": args.tests,
            "inputs": input_digests(),
            "needed_libraries": needed_libraries(args.binary),
            "sbom": str(pathlib.Path(args.sbom).resolve().relative_to(REPO)),
            "installed_packages": len(installed_packages(sbom)),
            "base_packages": sorted(set(pathlib.Path(args.base_packages).read_text().split())),
        }
        pathlib.Path(args.out).write_text(json.dumps(record, indent=2) + "\n")
        return 0
    if args.command == "verify":
        record = json.loads(RECORD.read_text())
        problems = check_record(record, input_digests(), needed_libraries(args.binary) if args.binary else None)
        print("\n".join(problems) or "the image was built and tested from these inputs")
        return 1 if problems else 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
