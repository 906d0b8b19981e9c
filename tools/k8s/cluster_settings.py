#!/usr/bin/env python3
"""Reads, checks and sets the cluster's settings, k8s/cluster/settings/settings.env (ADR 0040).

  tools/k8s/cluster_settings.py check            every key there, each value well-formed (an empty
                                                 trusted-proxies allowed: the committed file's)
  tools/k8s/cluster_settings.py check --deploy   the same, and trusted-proxies set: what a deploy
                                                 needs (the deploy job runs it)
  tools/k8s/cluster_settings.py set KEY=VALUE…   checks each value as a deploy would, then rewrites
                                                 those lines in place (comments kept); exits 1 and
                                                 changes nothing when one is wrong
  tools/k8s/cluster_settings.py get KEY          prints the value

`--file PATH` reads another file. The deploy job (.github/workflows/ci-cd.yml) sets
trusted-proxies from its environment's variable DELIVERYHUB_TRUSTED_PROXIES with `set` before it
renders the overlay, so an unset, malformed or placeholder value stops the deploy before it
reaches the cluster. tests/k8s reuses the checks on the rendered ConfigMap. Python 3.11 standard
library only.
"""
from __future__ import annotations

import argparse
import ipaddress
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "k8s/cluster/settings/settings.env"
KEYS = ("trusted-proxies", "ingress-namespace", "ingress-service-account", "ingress-pod-name",
        "ingress-class", "ingress-upstream-keepalive-seconds", "storage-class")
# Pod networks that are some distribution's default, never a production cluster's controller
# addresses: kind's and kubeadm's with flannel (the committed placeholder until ADR 0040), k3s's.
DEFAULT_POD_NETWORKS = {ipaddress.ip_network("10.244.0.0/16"), ipaddress.ip_network("10.42.0.0/16")}
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
LABEL_VALUE = re.compile(r"(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")


def read(path: Path = SETTINGS) -> dict[str, str]:
    """KEY=VALUE lines (as kustomize's env files: `#` starts a comment line, no quoting)."""
    settings = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"{path}: not KEY=VALUE: {line!r}")
        settings[key.strip()] = value
    return settings


def trusted_proxies_problems(value: str) -> list[str]:
    """What is wrong with a --trusted-proxy list for a cluster: unset, not what the binary reads
    (comma-separated addresses or CIDRs, no spaces: it exits 2 at start otherwise), everything
    (/0: any peer could name any client), loopback (only the Istio sidecar's 127.0.0.6 connects
    from there, and the manifests add it themselves), or a distribution's default pod network."""
    if not value.strip(","):
        return ["trusted-proxies is unset: no proxy would be trusted, and every client would look like "
                "the ingress controller (one address for the login throttle and the connection cap)"]
    out = []
    for item in value.split(","):
        if not item:
            out.append(f"trusted-proxies: an empty item in {value!r} (the binary skips it)")
            continue
        if item != item.strip():
            out.append(f"trusted-proxies: {item!r} has spaces: the binary refuses it (exit 2)")
            continue
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError:
            out.append(f"trusted-proxies: {item!r} is not an address or CIDR: the binary refuses it (exit 2)")
            continue
        if network.prefixlen == 0:
            out.append(f"trusted-proxies: {item} trusts every peer: anyone could name any client")
        elif network.is_loopback:
            out.append(f"trusted-proxies: {item} is loopback, not the ingress controller's pods")
        elif network in DEFAULT_POD_NETWORKS:
            out.append(f"trusted-proxies: {item} is a distribution's default pod network (kind, kubeadm with "
                       "flannel, k3s), not this cluster's ingress controller")
    return out


def problems(settings: dict[str, str], deploy: bool = False) -> list[str]:
    out = [f"{key}: missing" for key in KEYS if key not in settings]
    out += [f"{key}: not a setting (one of {', '.join(KEYS)})" for key in settings if key not in KEYS]
    proxies = settings.get("trusted-proxies", "")
    if deploy or proxies:
        out += trusted_proxies_problems(proxies)
    for key, pattern, what in (("ingress-namespace", DNS_LABEL, "a namespace name"),
                               ("ingress-service-account", DNS_SUBDOMAIN, "a ServiceAccount name"),
                               ("ingress-pod-name", LABEL_VALUE, "a label value"),
                               ("ingress-class", DNS_SUBDOMAIN, "an IngressClass name"),
                               ("storage-class", DNS_SUBDOMAIN, "a StorageClass name")):
        if key in settings and not pattern.fullmatch(settings[key]):
            out.append(f"{key}: {settings[key]!r} is not {what}")
    keepalive = settings.get("ingress-upstream-keepalive-seconds")
    if keepalive is not None and not (keepalive.isdigit() and int(keepalive) > 0):
        out.append(f"ingress-upstream-keepalive-seconds: {keepalive!r} is not a number of seconds")
    return out


def assign(path: Path, assignments: list[str]) -> list[str]:
    """Sets KEY=VALUE pairs in the file, checked as for a deploy; writes nothing on a problem."""
    settings = read(path)
    changes = {}
    for pair in assignments:
        key, sep, value = pair.partition("=")
        if not sep:
            return [f"{pair!r}: not KEY=VALUE"]
        changes[key] = value
    # Every problem names its key first; only the changed keys' are this command's business.
    found = [p for p in problems({**settings, **changes}, deploy="trusted-proxies" in changes)
             if re.match(r"[a-z-]+", p).group(0) in changes]
    if found:
        return found
    lines = path.read_text().splitlines(keepends=True)
    for i, line in enumerate(lines):
        key = line.partition("=")[0].strip()
        if not line.lstrip().startswith("#") and key in changes:
            lines[i] = f"{key}={changes[key]}\n"
    path.write_text("".join(lines))
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=SETTINGS, help="the settings file")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="check every setting")
    check.add_argument("--deploy", action="store_true", help="trusted-proxies must be set too")
    setter = sub.add_parser("set", help="check and set KEY=VALUE pairs")
    setter.add_argument("pairs", nargs="+", metavar="KEY=VALUE")
    getter = sub.add_parser("get", help="print one setting")
    getter.add_argument("key", choices=KEYS)
    args = parser.parse_args()
    if args.command == "get":
        print(read(args.file).get(args.key, ""))
        return 0
    found = assign(args.file, args.pairs) if args.command == "set" else problems(read(args.file), args.deploy)
    for problem in found:
        print(f"{args.file}: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
