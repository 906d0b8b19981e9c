"""The image's record and SBOM, checked where the image cannot be built (CI).

`sudo scripts/image.sh --test` builds the image, runs tests/image against it, makes its SBOM
(sbom/deliveryhub-VERSION.cdx.json) and writes tests/image/last-verified.json. Here:
  - the record still speaks for this tree: the Dockerfile, .dockerignore and
    scripts/install-deps.sh are the ones the image was built from, and the binary under test
    (DELIVERYHUB_BIN) loads the same libraries as the image's did; else the change has not had
    its image test (docs/adr/0039-the-image-test-runs-before-image-changes-land.md);
  - the committed SBOM passes the policy: deliveryhub's version, every runtime package the
    Dockerfile names, no package for building only, nothing beyond the base that no runtime
    package depends on.
Each check is also run on a record or an SBOM broken in exactly its way, and must complain.
"""
import copy
import importlib.util
import json
import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("sbom", REPO / "scripts/sbom.py")
sbom_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sbom_tool)

RECORD = json.loads(sbom_tool.RECORD.read_text())
DOCKERFILE = (REPO / "Dockerfile").read_text()
INSTALL_DEPS = (REPO / "scripts/install-deps.sh").read_text()
VERSION = sbom_tool.project_version()


def committed_sbom() -> dict:
    return json.loads((REPO / RECORD["sbom"]).read_text())


def binary_under_test():
    path = os.environ.get("DELIVERYHUB_BIN")
    return pathlib.Path(path) if path and pathlib.Path(path).is_file() else None


def policy(sbom: dict, base=None) -> list[str]:
    return sbom_tool.check_sbom(sbom, DOCKERFILE, INSTALL_DEPS,
                                set(RECORD["base_packages"] if base is None else base), VERSION)


def with_package(sbom: dict, name: str, depended_on_by: str | None = None) -> dict:
    """sbom plus an installed Debian package NAME, as cdxgen lists one (optionally a dependency
    of DEPENDED_ON_BY)."""
    sbom = copy.deepcopy(sbom)
    ref = f"pkg:deb/debian/{name}@1.0?arch=amd64"
    sbom["components"].append({"bom-ref": ref, "type": "library", "name": name, "version": "1.0",
                               "properties": [{"name": "aquasecurity:trivy:PkgType", "value": "debian"}]})
    sbom["dependencies"].append({"ref": ref, "dependsOn": []})
    if depended_on_by:
        owner = sbom_tool.installed_packages(sbom)[depended_on_by]["bom-ref"]
        next(d for d in sbom["dependencies"] if d["ref"] == owner)["dependsOn"].append(ref)
    return sbom


def without_package(sbom: dict, name: str) -> dict:
    sbom = copy.deepcopy(sbom)
    sbom["components"] = [c for c in sbom["components"]
                          if not (c["name"] == name and c in sbom_tool.installed_packages(sbom).values())]
    return sbom


# --- The record ------------------------------------------------------------------------------

def test_the_record_speaks_for_this_tree():
    binary = binary_under_test()
    needed = sbom_tool.needed_libraries(binary) if binary else None
    assert sbom_tool.check_record(RECORD, sbom_tool.input_digests(), needed) == []
    if binary is None:
        pytest.skip("inputs checked; no DELIVERYHUB_BIN to compare the libraries with")


@pytest.mark.parametrize("path", sbom_tool.IMAGE_INPUTS)
def test_the_record_check_fails_when_an_input_changed(path):
    digests = sbom_tool.input_digests()
    digests[path] = "0" * 64
    problems = sbom_tool.check_record(RECORD, digests, None)
    assert any(p.startswith(f"{path} changed") for p in problems), problems
    assert "sudo scripts/image.sh --test" in problems[-1]


def test_the_record_check_fails_when_the_libraries_changed():
    needed = RECORD["needed_libraries"] + ["libcurl.so.4"]
    problems = sbom_tool.check_record(RECORD, sbom_tool.input_digests(), needed)
    assert any("libraries changed" in p and "libcurl.so.4" in p for p in problems), problems


def test_the_record_check_fails_without_this_versions_sbom():
    for sbom in ("sbom/deliveryhub-9.9.9.cdx.json", "sbom/missing.cdx.json"):
        problems = sbom_tool.check_record({**RECORD, "sbom": sbom}, sbom_tool.input_digests(), None)
        assert any("SBOM" in p for p in problems), (sbom, problems)


def test_needed_libraries_ignore_what_the_sanitizer_build_adds():
    binary = binary_under_test()
    if binary is None:
        pytest.skip("no DELIVERYHUB_BIN")
    assert not any(n.startswith(("libasan", "libubsan", "libm.so")) for n in sbom_tool.needed_libraries(binary))


# --- The SBOM's policy -----------------------------------------------------------------------

def test_the_committed_sbom_is_this_versions_and_passes_the_policy():
    assert RECORD["sbom"] == str(sbom_tool.sbom_path(VERSION).relative_to(REPO))
    sbom = committed_sbom()
    assert policy(sbom) == []
    assert len(sbom_tool.installed_packages(sbom)) == RECORD["installed_packages"] > len(RECORD["base_packages"])


@pytest.mark.parametrize("name", ["libpq-dev", "gcc-12", "cmake", "binutils", "libsodium23-dbgsym"])
def test_the_policy_refuses_a_package_for_building(name):
    # Depended on by a runtime package, so only the build-only rule can catch it.
    problems = policy(with_package(committed_sbom(), name, depended_on_by="libpqxx-6.4"))
    assert problems == [f"{name}: a package for building only, in the runtime image"], problems


def test_the_policy_refuses_what_install_deps_installs_for_the_build():
    problems = policy(with_package(committed_sbom(), "curl", depended_on_by="libpqxx-6.4"))
    assert problems == ["curl: installed for the build (scripts/install-deps.sh build), in the runtime image"]


def test_the_policy_refuses_a_package_nothing_needs():
    problems = policy(with_package(committed_sbom(), "wget"))
    assert problems == ["wget: not in the base image and no runtime package depends on it"], problems


def test_the_policy_refuses_a_missing_runtime_package():
    problems = policy(without_package(committed_sbom(), "libsodium23"))
    assert "libsodium23: the Dockerfile installs it, the SBOM does not list it" in problems, problems


def test_the_policy_refuses_another_subject_or_an_empty_list():
    sbom = committed_sbom()
    other = copy.deepcopy(sbom)
    other["metadata"]["component"]["version"] = "0.0.1"
    assert any("not deliveryhub" in p for p in policy(other))
    empty = copy.deepcopy(sbom)
    empty["components"] = [c for c in empty["components"]
                           if c not in sbom_tool.installed_packages(empty).values()]
    assert any("no installed Debian package" in p for p in policy(empty))


def test_the_sbom_lists_what_the_binary_was_compiled_from():
    compiled = sbom_tool.compiled_in_packages(committed_sbom())
    assert "nlohmann-json3-dev" in compiled and any(n.startswith("libboost") for n in compiled), sorted(compiled)
    for name, component in compiled.items():  # each with its version and how many of its headers
        assert component["version"] and component["purl"].startswith(f"pkg:deb/debian/{name}@")
        assert int(sbom_tool._property(component, sbom_tool.COMPILED_IN)) > 0
    # Compiled in, not installed: the image's packages are judged apart from them.
    assert not set(compiled) & set(sbom_tool.installed_packages(committed_sbom())) - {"libc6-dev"}


def test_the_policy_refuses_an_sbom_without_the_binarys_sources():
    sbom = copy.deepcopy(committed_sbom())
    sbom["components"] = [c for c in sbom["components"] if c.get("bom-ref") != sbom_tool.BINARY_REF]
    assert any("compiled into the binary" in p for p in policy(sbom))
    sbom = copy.deepcopy(committed_sbom())
    binary = next(c for c in sbom["components"] if c.get("bom-ref") == sbom_tool.BINARY_REF)
    binary["components"] = [c for c in binary["components"] if not c["name"].startswith("libboost")]
    assert any("miss Boost" in p for p in policy(sbom))


def test_the_policy_needs_the_base_to_account_for_the_rest():
    """Without the base's list every base package is unexplained: the reachability rule works."""
    problems = policy(committed_sbom(), base=[])
    assert any(p.startswith("bash: not in the base image") for p in problems), problems
