"""docs/runbook.md's commands are the ones the manifests support (issue 5, "Done when").

Reads the ```sh blocks of the runbook as a shell would split them (quotes, `\\` continuations,
`;`, `&&`, `||`, `|`, `$(…)`, `for … in …; do … done`, here-documents) and checks every
`kubectl` command against the objects of every variant that tests/k8s renders (conftest.py):

- `-k`/`cd`/`kustomize` paths under k8s/ exist and hold a kustomization; so do the
  `resources`/`components` of a kustomization.yaml that a block writes with a here-document;
- `-n NAMESPACE` is rendered, or named by the manifests (e.g. `monitoring`, whose objects are
  not ours and so are not checked further); a command about namespaced objects carries `-n`;
- `KIND/NAME` and `KIND NAME` (deployment, job, statefulset, service, configmap, hpa, pdb, …)
  exist in that namespace; Secrets, which no overlay renders, are the ones the manifests read;
- `-l` selectors match some pod template (or objects of the kind the command names);
- `-c CONTAINER` and `set image … CONTAINER=…` name a container of every workload the command
  reaches;
- Secret keys (`--from-literal`/`--from-file`, `/data/KEY` patches, `{.data.KEY}`) are keys the
  manifests read, and `create secret generic` gives every key they need;
- `kustomize edit set image NAME=…` names an image of that overlay's `images:`.

And every `--flag` of the runbook's text is one of deliveryhub's (`add_option` in
src/core/config/settings.cpp, what `deliveryhub --help` lists) or a kubectl flag, and every
`DELIVERYHUB_*` variable is one the code reads.

The self-tests at the end show that a runbook with a wrong name fails.
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from renders import ROOT

RUNBOOK = ROOT / "docs/runbook.md"

# --- reading the shell ----------------------------------------------------------------------


def sh_blocks(markdown: str) -> list[tuple[int, str]]:
    """(line number of the block's first line, text) of every ```sh block."""
    out = []
    for m in re.finditer(r"^```sh[ \t]*\n(.*?)^```", markdown, re.S | re.M):
        out.append((markdown.count("\n", 0, m.start(1)) + 1, m.group(1)))
    return out


def closing_paren(text: str, start: int) -> int:
    """Index of the `)` that closes the `$(` whose `(` is at text[start]."""
    depth, i, quote = 0, start, None
    while i < len(text):
        c = text[i]
        if quote == "'":
            if c == "'":
                quote = None
        elif c == "\\":
            i += 1
        elif c == "'" and quote is None:
            quote = "'"
        elif c == '"':
            quote = None if quote == '"' else '"'
        elif c == "(" and quote is None:
            depth += 1
        elif c == ")" and quote is None:
            depth -= 1
            if depth == 0:
                return i
        elif c == "$" and text[i + 1:i + 2] == "(" and quote == '"':
            # A substitution inside double quotes: its parentheses nest too.
            j = closing_paren(text, i + 1)
            i = j
        i += 1
    raise ValueError(f"unbalanced $( in: {text}")


def split_statements(line: str) -> list[str]:
    """Splits one logical line at unquoted ; && || | and strips an unquoted # comment."""
    out, current, i, quote = [], "", 0, None
    while i < len(line):
        c = line[i]
        if quote == "'":
            current += c
            if c == "'":
                quote = None
        elif c == "\\" and i + 1 < len(line):
            current += line[i:i + 2]
            i += 1
        elif c == "$" and line[i + 1:i + 2] == "(":
            j = closing_paren(line, i + 1)
            current += line[i:j + 1]
            i = j
        elif c == "'" and quote is None:
            quote = "'"
            current += c
        elif c == '"':
            quote = None if quote == '"' else '"'
            current += c
        elif quote is None and c == "#" and (not current or current[-1].isspace()):
            break
        elif quote is None and line.startswith(("&&", "||"), i):
            out.append(current)
            current = ""
            i += 1
        elif quote is None and c in ";|":
            out.append(current)
            current = ""
        else:
            current += c
        i += 1
    out.append(current)
    return [s.strip() for s in out if s.strip()]


def substitutions(statement: str) -> list[str]:
    """The commands inside the statement's $(…), outermost first."""
    out, i = [], 0
    while True:
        i = statement.find("$(", i)
        if i < 0:
            return out
        j = closing_paren(statement, i + 1)
        inner = statement[i + 2:j]
        out.append(inner)
        i = j + 1


@dataclass
class Block:
    commands: list[tuple[int, list[str]]] = field(default_factory=list)  # (line, words)
    heredocs: list[tuple[int, str, str]] = field(default_factory=list)   # (line, target, body)
    problems: list[str] = field(default_factory=list)


def logical_lines(first_line: int, text: str, block: Block) -> list[tuple[int, str]]:
    """Joins `\\` continuations; takes here-document bodies out (into block.heredocs)."""
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        number, line = first_line + i, lines[i]
        while line.endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line[:-1] + " " + lines[i].strip()
        i += 1
        heredoc = re.search(r"<<-?\s*(['\"]?)(\w+)\1", line)
        if heredoc:
            body = []
            while i < len(lines) and lines[i].strip() != heredoc.group(2):
                body.append(lines[i])
                i += 1
            i += 1  # the terminator
            target = re.search(r">\s*(\S+)", line[heredoc.end():]) or re.search(r">\s*(\S+)", line)
            block.heredocs.append((number, target.group(1) if target else "", "\n".join(body) + "\n"))
            line = line[:heredoc.start()] + line[heredoc.end():]
        out.append((number, line))
    return out


def expand(statements: list[tuple[int, str]], variables: dict[str, str], block: Block) -> None:
    """Runs through the statements: `for V in WORDS` … `do` … `done` repeat their body with $V
    set to each word; every other statement is split into words (its $(…) commands too)."""
    i = 0
    while i < len(statements):
        number, statement = statements[i]
        loop = re.fullmatch(r"for (\w+) in (.*)", statement)
        if loop:
            depth, j, body = 1, i + 1, []
            while j < len(statements):
                s = statements[j][1]
                if re.match(r"for \w+ in ", s):
                    depth += 1
                if s == "done":
                    depth -= 1
                    if depth == 0:
                        break
                body.append((statements[j][0], re.sub(r"^do\s+", "", s)))
                j += 1
            body = [(n, s) for n, s in body if s != "do"]
            for word in shlex.split(loop.group(2)):
                expand(body, {**variables, loop.group(1): word}, block)
            i = j + 1
            continue
        for name, value in variables.items():
            statement = re.sub(r"\$\{?" + name + r"\b\}?", value, statement)
        for inner in substitutions(statement):
            expand([(number, s) for s in split_statements(inner)], variables, block)
        try:
            words = shlex.split(statement.strip("() "))
        except ValueError as e:
            block.problems.append(f"line {number}: cannot split `{statement}`: {e}")
            words = []
        if words:
            block.commands.append((number, words))
        i += 1


def parse_block(first_line: int, text: str) -> Block:
    block = Block()
    statements = []
    for number, line in logical_lines(first_line, text, block):
        statements += [(number, s) for s in split_statements(line)]
    expand(statements, {}, block)
    return block


# --- what the manifests hold ----------------------------------------------------------------

WORKLOADS = ("Deployment", "StatefulSet", "Job", "DaemonSet")
KIND_WORDS = {
    "deployment": "Deployment", "deploy": "Deployment",
    "statefulset": "StatefulSet", "sts": "StatefulSet",
    "job": "Job", "daemonset": "DaemonSet", "ds": "DaemonSet",
    "service": "Service", "svc": "Service",
    "configmap": "ConfigMap", "cm": "ConfigMap",
    "secret": "Secret",
    "serviceaccount": "ServiceAccount", "sa": "ServiceAccount",
    "horizontalpodautoscaler": "HorizontalPodAutoscaler", "hpa": "HorizontalPodAutoscaler",
    "poddisruptionbudget": "PodDisruptionBudget", "pdb": "PodDisruptionBudget",
    "ingress": "Ingress", "ing": "Ingress",
    "networkpolicy": "NetworkPolicy", "netpol": "NetworkPolicy", "networkpolicies": "NetworkPolicy",
    "namespace": "Namespace", "ns": "Namespace",
    "servicemonitor": "ServiceMonitor", "prometheusrule": "PrometheusRule",
    "destinationrule": "DestinationRule", "authorizationpolicy": "AuthorizationPolicy",
    "peerauthentication": "PeerAuthentication",
    "pod": "Pod", "po": "Pod",
}
# Kinds whose objects a cluster makes itself (pods, events, …): a name of theirs is not checked.
CLUSTER_MADE = {"pod", "pods", "po", "event", "events", "ev", "node", "nodes", "no", "replicaset",
                "replicasets", "rs", "pvc", "persistentvolumeclaim", "persistentvolumeclaims",
                "endpoints", "endpointslice", "endpointslices"}
CLUSTER_SCOPED = {"Namespace"}


def kind_of(word: str) -> str | None:
    word = word.lower().split(".", 1)[0]
    if word in KIND_WORDS:
        return KIND_WORDS[word]
    if word.endswith("es") and word[:-2] in KIND_WORDS:
        return KIND_WORDS[word[:-2]]
    if word.endswith("s") and word[:-1] in KIND_WORDS:
        return KIND_WORDS[word[:-1]]
    return None


def pod_templates(o: dict) -> list[dict]:
    if o.get("kind") in WORKLOADS:
        return [o["spec"]["template"]]
    return []


def container_names(o: dict) -> set[str]:
    return {c["name"] for t in pod_templates(o) for c in t["spec"].get("initContainers", []) + t["spec"]["containers"]}


@dataclass
class Manifests:
    objects: list[dict]
    rendered_namespaces: set[str]
    named_namespaces: set[str]
    secrets_read: dict[str, dict[str, bool]]  # Secret -> key -> required
    tls_secrets: set[str]

    @classmethod
    def of(cls, objects: list[dict]) -> "Manifests":
        rendered = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
        rendered |= {o["metadata"].get("namespace") for o in objects} - {None}
        named = set(rendered)
        text = yaml.safe_dump_all(objects)
        named |= set(re.findall(r"kubernetes\.io/metadata\.name: (\S+)", text))
        named |= set(re.findall(r"/ns/([\w-]+)/sa/", text))
        for o in objects:
            for rule in o.get("spec", {}).get("rules", []) if o["kind"] == "AuthorizationPolicy" else []:
                for source in rule.get("from", []):
                    named |= set(source.get("source", {}).get("namespaces", []))
        secrets: dict[str, dict[str, bool]] = {}
        tls = set()

        def read(name: str, key: str | None, optional: bool) -> None:
            keys = secrets.setdefault(name, {})
            if key is not None:
                keys[key] = keys.get(key, False) or not optional

        for o in objects:
            if o["kind"] == "Secret":
                for key in list(o.get("data", {})) + list(o.get("stringData", {})):
                    read(o["metadata"]["name"], key, True)
            if o["kind"] == "Ingress":
                for t in o["spec"].get("tls", []):
                    tls.add(t["secretName"])
            for t in pod_templates(o):
                spec = t["spec"]
                for c in spec.get("initContainers", []) + spec["containers"]:
                    for e in c.get("env", []):
                        ref = e.get("valueFrom", {}).get("secretKeyRef")
                        if ref:
                            read(ref["name"], ref["key"], ref.get("optional", False))
                    for source in c.get("envFrom", []):
                        if "secretRef" in source:
                            read(source["secretRef"]["name"], None, True)
                for v in spec.get("volumes", []):
                    if "secret" in v:
                        s = v["secret"]
                        read(s["secretName"], None, True)
                        for item in s.get("items", []):
                            read(s["secretName"], item["key"], s.get("optional", False))
        return cls(objects, rendered, named, secrets, tls)

    def find(self, kind: str, name: str, namespace: str) -> list[dict]:
        return [o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name
                and (kind in CLUSTER_SCOPED or o["metadata"].get("namespace") == namespace)]

    def secret_names(self) -> set[str]:
        return set(self.secrets_read) | self.tls_secrets


# --- label selectors ------------------------------------------------------------------------


def selector_terms(selector: str) -> list[tuple[str, str, set[str]]]:
    """(key, op, values) for op in =, !=, in, notin, exists, !exists."""
    terms = []
    for term in re.split(r",(?![^(]*\))", selector):
        term = term.strip()
        m = re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)", term)
        if m:
            terms.append((m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}))
        elif "!=" in term:
            k, v = term.split("!=", 1)
            terms.append((k.strip(), "!=", {v.strip()}))
        elif "=" in term:
            k, v = re.split(r"==?", term, maxsplit=1)
            terms.append((k.strip(), "=", {v.strip()}))
        elif term.startswith("!"):
            terms.append((term[1:], "!exists", set()))
        else:
            terms.append((term, "exists", set()))
    return terms


def selects(terms: list[tuple[str, str, set[str]]], labels: dict) -> bool:
    for key, op, values in terms:
        present, value = key in labels, labels.get(key)
        ok = {"=": present and value in values, "in": present and value in values,
              "!=": not present or value not in values, "notin": not present or value not in values,
              "exists": present, "!exists": not present}[op]
        if not ok:
            return False
    return True


# --- kubectl --------------------------------------------------------------------------------

VALUE_FLAGS = {"-n", "--namespace", "--cascade", "-l", "--selector", "-c", "--container", "-k", "--kustomize",
               "-f", "--filename", "-o", "--output", "--type", "-p", "--patch", "--for", "--timeout",
               "--replicas", "--tail", "--max-log-requests", "--to-revision", "--revision", "--cert",
               "--key", "--from-literal", "--from-file", "--from-env-file", "--sort-by",
               "--field-selector", "--since", "--context", "--dry-run", "--image", "--port",
               "--address", "--min", "--max", "--cpu-percent", "--grace-period"}
BOOLEAN_IN_LOGS = {"-f", "-p"}  # logs: --follow, --previous
# Verbs whose positionals are KIND/NAME or KIND NAME…
RESOURCE_VERBS = {"get", "describe", "delete", "patch", "scale", "edit", "label", "annotate", "wait",
                  "logs", "exec", "port-forward", "rollout", "set", "top", "autoscale", "expose"}
# Verbs that act in a namespace whatever their arguments.
NAMESPACED_VERBS = {"logs", "exec", "port-forward", "rollout", "scale", "set", "wait", "patch", "edit",
                    "autoscale", "expose"}


@dataclass
class Kubectl:
    verb: str = ""
    sub: list[str] = field(default_factory=list)
    positionals: list[str] = field(default_factory=list)
    flags: dict[str, list[str]] = field(default_factory=dict)
    after_dashdash: list[str] = field(default_factory=list)

    def values(self, *names: str) -> list[str]:
        return [v for n in names for v in self.flags.get(n, [])]

    def has(self, *names: str) -> bool:
        return any(n in self.flags for n in names)


def parse_kubectl(words: list[str]) -> Kubectl:
    k = Kubectl()
    i = 1
    rest: list[str] = []
    while i < len(words):
        w = words[i]
        if w == "--":
            k.after_dashdash = words[i + 1:]
            break
        if w.startswith("-") and w != "-":
            name, eq, value = w.partition("=")
            if not eq and re.fullmatch(r"-[nlck][^-=].*", w):  # -ndeliveryhub
                name, value, eq = w[:2], w[2:], "="
            takes = name in VALUE_FLAGS and not (rest[:1] == ["logs"] and name in BOOLEAN_IN_LOGS)
            if eq:
                k.flags.setdefault(name, []).append(value)
            elif takes and i + 1 < len(words):
                k.flags.setdefault(name, []).append(words[i + 1])
                i += 1
            else:
                k.flags.setdefault(name, []).append("")
        else:
            rest.append(w)
        i += 1
    if rest:
        k.verb = rest[0]
        rest = rest[1:]
        n_sub = {"rollout": 1, "set": 1, "top": 1, "config": 1}.get(k.verb, 0)
        if k.verb == "create" and rest[:1] == ["secret"]:
            n_sub = 2
        elif k.verb == "create":
            n_sub = 1
        k.sub, k.positionals = rest[:n_sub], rest[n_sub:]
    return k


def check_kubectl(words: list[str], m: Manifests, created: set[str]) -> list[str]:
    k = parse_kubectl(words)
    out: list[str] = []
    namespaces = k.values("-n", "--namespace")
    all_namespaces = k.has("-A", "--all-namespaces")
    namespace = namespaces[-1] if namespaces else None
    if namespace is not None and namespace not in m.named_namespaces:
        out.append(f"namespace {namespace} is neither rendered nor named by the manifests")
    ours = namespace in m.rendered_namespaces  # objects of other namespaces are not ours to check

    # Paths of kustomizations.
    for path in k.values("-k", "--kustomize") + ([k.positionals[0]] if k.verb == "kustomize" and k.positionals else []):
        out += path_problems(path, created)
    for path in k.values("-f", "--filename"):
        if path != "-" and path.startswith("k8s/") and not (ROOT / path).exists():
            out.append(f"{path} does not exist")

    # Which objects the command names.
    refs: list[tuple[str, str]] = []  # (kind word, name)
    kind_words: list[str] = []
    if k.verb in RESOURCE_VERBS:
        # A name from $(…) is that command's output; the command itself is checked on its own.
        positionals = [p for p in k.positionals if not p.startswith("$(")]
        if k.verb == "set":  # set image KIND/NAME CONTAINER=IMAGE…
            positionals = [p for p in positionals if "=" not in p]
        if k.verb == "top" and k.sub:
            kind_words.append(k.sub[0])
            positionals = []
        if positionals and "/" in positionals[0]:
            for p in positionals:
                if "/" in p and ":" not in p:
                    kw, _, name = p.partition("/")
                    refs.append((kw, name))
                    kind_words.append(kw)
        elif positionals and k.verb not in ("logs", "exec", "port-forward"):
            kinds = positionals[0].split(",")
            kind_words += kinds
            for name in positionals[1:]:
                if ":" in name or "=" in name:
                    continue
                refs += [(kw, name) for kw in kinds]
        elif positionals:  # logs/exec/port-forward POD
            refs.append(("pod", positionals[0]))
            kind_words.append("pod")
    if k.verb == "create" and k.sub[:1] == ["secret"] and k.positionals:
        refs.append(("secret", k.positionals[0]))
        kind_words.append("secret")
    if k.verb == "create" and k.sub == ["namespace"] and k.positionals:
        if k.positionals[0] not in m.rendered_namespaces:
            out.append(f"namespace {k.positionals[0]} is not rendered")

    selectors = k.values("-l", "--selector")
    containers = k.values("-c", "--container")
    namespaced = (k.verb in NAMESPACED_VERBS or bool(selectors) or bool(containers)
                  or any(kind_of(kw) not in CLUSTER_SCOPED and kw.lower() not in ("node", "nodes", "no")
                         for kw in kind_words))
    if k.verb == "apply" or (k.verb == "create" and k.sub == ["namespace"]) or k.verb in ("drain", "cordon", "uncordon"):
        namespaced = False
    if namespaced and namespace is None and not all_namespaces:
        out.append("no -n: it would act in the context's default namespace")
        return out
    if not ours and namespace is not None:
        return out

    # Objects named.
    workloads: list[dict] = []
    for kw, name in refs:
        if "$" in name:
            out.append(f"{kw}/{name}: a name from a variable cannot be checked")
            continue
        if kw.lower() in CLUSTER_MADE:
            continue
        kind = kind_of(kw)
        if kind is None:
            out.append(f"{kw}/{name}: unknown kind")
        elif kind == "Secret":
            if name not in m.secret_names():
                out.append(f"secret {name}: no manifest reads it")
        else:
            found = m.find(kind, name, namespace or "")
            if not found:
                out.append(f"{kw}/{name}: no {kind} {name} in namespace {namespace}")
            workloads += [o for o in found if o["kind"] in WORKLOADS]

    # Selectors.
    kinds_named = {kind_of(kw) for kw in kind_words} - {None, "Pod"}
    for selector in selectors:
        terms = selector_terms(selector)
        if kinds_named:
            labelled = [o["metadata"].get("labels", {}) for o in m.objects
                        if o["kind"] in kinds_named and o["metadata"].get("namespace") == namespace]
            if not any(selects(terms, labels) for labels in labelled):
                out.append(f"-l {selector}: selects no {'/'.join(sorted(kinds_named))} in namespace {namespace}")
        else:
            matched = [o for o in m.objects if o["metadata"].get("namespace") == namespace
                       and any(selects(terms, t["metadata"].get("labels", {})) for t in pod_templates(o))]
            if not matched:
                out.append(f"-l {selector}: selects no pod in namespace {namespace}")
            workloads += matched

    # Containers.
    for container in containers:
        if workloads:
            for w in workloads:
                if container not in container_names(w):
                    out.append(f"-c {container}: {w['kind']} {w['metadata']['name']} has no container {container}")
        elif not any(container in container_names(o) for o in m.objects if o["metadata"].get("namespace") == namespace):
            out.append(f"-c {container}: no workload in namespace {namespace} has that container")
    if k.verb == "set" and k.sub == ["image"]:
        for pair in [p for p in k.positionals if "=" in p]:
            container = pair.split("=", 1)[0]
            for w in workloads:
                if container != "*" and container not in container_names(w):
                    out.append(f"set image {container}=…: {w['kind']} {w['metadata']['name']} has no container {container}")

    # Secret keys.
    secrets = [name for kw, name in refs if kind_of(kw) == "Secret"]
    for secret in secrets:
        read = m.secrets_read.get(secret, {})
        given = set()
        for value in k.values("--from-literal", "--from-file"):
            key = value.split("=", 1)[0] if "=" in value else Path(value).name
            given.add(key)
        given |= set(re.findall(r'"/data/([^"/]+)"', " ".join(k.values("-p", "--patch"))))
        given |= {key.replace("\\.", ".") for key in
                  re.findall(r"\{\.data\.((?:[\w-]|\\\.)+)\}", " ".join(k.values("-o", "--output")))}
        for key in sorted(given - set(read)):
            out.append(f"secret {secret}: no manifest reads the key {key}")
        if k.verb == "create" and k.sub == ["secret", "generic"]:
            for key in sorted(key for key, required in read.items() if required and key not in given):
                out.append(f"secret {secret}: misses the key {key}, which the manifests need")
        if k.verb == "create" and k.sub == ["secret", "tls"] and secret not in m.tls_secrets:
            out.append(f"secret {secret}: no Ingress has it as its TLS Secret")
    return out


def path_problems(path: str, created: set[str]) -> list[str]:
    if path in created:
        return []
    full = ROOT / path
    if not full.is_dir():
        return [f"{path}: no such folder"]
    if not (full / "kustomization.yaml").is_file():
        return [f"{path}: no kustomization.yaml"]
    return []


def check_kustomize(words: list[str], cwd: str | None) -> list[str]:
    """`kustomize edit set image NAME=…` in an overlay: NAME is one of its images."""
    if words[1:4] != ["edit", "set", "image"] or cwd is None:
        return []
    kustomization = yaml.safe_load((ROOT / cwd / "kustomization.yaml").read_text())
    names = {i["name"] for i in kustomization.get("images", [])}
    return [f"kustomize edit set image {w.split('=')[0]}: {cwd} pins no image of that name"
            for w in words[4:] if "=" in w and w.split("=")[0] not in names]


def check_runbook(markdown: str, m: Manifests) -> tuple[list[str], int]:
    """(problems, number of kubectl commands checked)."""
    problems, count = [], 0
    for first_line, text in sh_blocks(markdown):
        block = parse_block(first_line, text)
        problems += block.problems
        created = set()
        for number, target, body in block.heredocs:
            if target.endswith("/kustomization.yaml"):
                folder = target.rsplit("/", 1)[0]
                created.add(folder)
                for ref in (yaml.safe_load(body) or {}).get("resources", []) + \
                        (yaml.safe_load(body) or {}).get("components", []):
                    resolved = (ROOT / folder / ref).resolve()
                    if not (resolved / "kustomization.yaml").is_file():
                        problems.append(f"line {number}: {target}: {ref} holds no kustomization")
        cwd = None
        last_line = None
        for number, words in block.commands:
            if number != last_line:
                cwd, last_line = None, number  # a `cd` lasts for its own line (a subshell)
            line = " ".join(words)
            found = []
            for w in words:
                hit = re.search(r"k8s/(?:overlays|components)/[\w.-]+", w)
                if hit and not (ROOT / hit.group(0) / "kustomization.yaml").is_file():
                    found.append(f"{hit.group(0)}: no such kustomization")
            if words[0] == "cd" and len(words) > 1:
                cwd = words[1]
                if not (ROOT / cwd).is_dir():
                    found.append(f"cd {cwd}: no such folder")
            elif words[0] == "kustomize":
                found += check_kustomize(words, cwd)
                if words[1:2] == ["build"] and len(words) > 2:
                    found += path_problems(words[2], created)
            elif words[0] == "kubectl":
                count += 1
                found += check_kubectl(words, m, created)
            elif words[0] == "mkdir":
                created |= {w for w in words[1:] if not w.startswith("-")}
            problems += [f"line {number}: `{line}`: {p}" for p in found]
    # Several variants render the same object: say each problem once.
    return list(dict.fromkeys(problems)), count


# --- deliveryhub's flags and variables -----------------------------------------------------

# kubectl flags the runbook's text may name, besides the ones that take a value.
KUBECTL_BOOLEAN_FLAGS = {"--prefix", "--previous", "--follow", "--ignore-daemonsets", "--delete-emptydir-data",
                         "--all-namespaces", "--ignore-not-found", "--show-labels"}


def binary_names(src: Path) -> tuple[set[str], set[str]]:
    """(the flags of src/core/config/settings.cpp and of the modules' settings in the module graph,
    every DELIVERYHUB_* string literal of src/)."""
    flags = set(re.findall(r'add_(?:option|flag)\("(--[a-z0-9-]+)', (src / "core/config/settings.cpp").read_text()))
    graph = json.loads((src.parent / "docs/modules.json").read_text())
    flags |= {setting["flag"] for module in graph["modules"] for setting in module["settings"]}
    variables = set()
    for path in list(src.rglob("*.cpp")) + list(src.rglob("*.hpp")):
        variables |= set(re.findall(r'"(DELIVERYHUB_[A-Z0-9_]+)"', path.read_text(errors="replace")))
    return flags, variables


def name_problems(markdown: str, flags: set[str], variables: set[str]) -> list[str]:
    """Flags in the text outside code blocks, variables anywhere, that the binary does not know."""
    text = re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)
    out = [f"{flag}: neither a deliveryhub flag nor a kubectl flag"
           for flag in sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text)))
           if flag not in flags | VALUE_FLAGS | KUBECTL_BOOLEAN_FLAGS]
    out += [f"{variable}: not read by deliveryhub"
            for variable in sorted(set(re.findall(r"\bDELIVERYHUB_[A-Z0-9_]+", markdown))) if variable not in variables]
    return out


# --- the tests ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def manifests(renders) -> Manifests:
    return Manifests.of([o for objects in renders.values() for o in objects])


def test_every_kubectl_command_of_the_runbook_is_one_the_manifests_support(manifests):
    problems, count = check_runbook(RUNBOOK.read_text(), manifests)
    assert problems == []
    assert count >= 40, f"only {count} kubectl commands found: is the parser still reading the sh blocks?"


def test_the_runbook_covers_what_issue_5_asks_for():
    commands = [" ".join(w) for _, text in sh_blocks(RUNBOOK.read_text())
                for _, w in parse_block(0, text).commands]
    for wanted in ("kubectl apply -k k8s/overlays/split", "create secret generic deliveryhub-secrets",
                   "wait --for=condition=complete job/deliveryhub-migrate", "rollout status deployment/orders",
                   "rollout undo deployment/orders", "set image deployment/orders", "patch hpa orders",
                   "logs -l app.kubernetes.io/component=orders", "port-forward deployment/orders 8080:8080",
                   "path\":\"/data/jwt-signing-key.pem", "ALTER ROLE deliveryhub", "rollout restart deployment"):
        assert any(wanted in c for c in commands) or wanted in RUNBOOK.read_text(), wanted


def test_the_runbooks_deliveryhub_flags_and_variables_are_real():
    flags, variables = binary_names(ROOT / "src")
    assert {"--jwt-key-file", "--jwt-verify-key-file", "--jwks-refresh", "--access-token-ttl"} <= flags
    assert name_problems(RUNBOOK.read_text(), flags, variables) == []


def test_the_name_check_fails_on_a_made_up_flag_or_variable():
    flags, variables = binary_names(ROOT / "src")
    text = "Pass `--jwt-verify-keys-file`, or DELIVERYHUB_JWT_VERIFY_KEYS, not `--tail` (kubectl's).\n" \
           "```sh\nkubectl -n deliveryhub logs deployment/orders --since-time=x\n```\n"
    assert name_problems(text, flags, variables) == [
        "--jwt-verify-keys-file: neither a deliveryhub flag nor a kubectl flag",
        "DELIVERYHUB_JWT_VERIFY_KEYS: not read by deliveryhub"]


GOOD = """
```sh
kubectl -n deliveryhub rollout status deployment/orders --timeout=5m
```
"""


def test_the_checker_passes_a_correct_runbook(manifests):
    assert check_runbook(GOOD, manifests) == ([], 1)


@pytest.mark.parametrize("text, problem", [
    ("kubectl -n deliveryhub rollout status deployment/order --timeout=5m", "no Deployment order"),
    ("for d in customers payment; do\n  kubectl -n deliveryhub rollout status deployment/$d\ndone",
     "no Deployment payment"),
    ("kubectl -n delivery-hub get pods", "namespace delivery-hub"),
    ("kubectl rollout undo deployment/orders", "no -n"),
    ("kubectl -n deliveryhub logs -l app.kubernetes.io/component=order --tail=10", "selects no pod"),
    ("kubectl -n deliveryhub logs -l app=orders", "selects no pod"),
    ("kubectl -n deliveryhub logs -l app.kubernetes.io/name=deliveryhub -c deliveryhub", "has no container deliveryhub"),
    ("kubectl -n deliveryhub logs deployment/orders -c app", "has no container app"),
    ("kubectl -n deliveryhub set image deployment/orders orders=ghcr.io/x/y:1", "has no container orders"),
    ("kubectl -n deliveryhub wait --for=condition=complete job/migrate", "no Job migrate"),
    ("kubectl -n deliveryhub exec statefulset/postgresql -c postgres -- psql", "no StatefulSet postgresql"),
    ("kubectl apply -k k8s/overlays/splitt", "no such folder"),
    ("kubectl -n deliveryhub patch secret deliveryhub-secrets --type json "
     "-p '[{\"op\":\"replace\",\"path\":\"/data/db-password\",\"value\":\"eA==\"}]'", "the key db-password"),
    ("kubectl -n deliveryhub create secret generic deliveryhub-secrets --from-literal=database-password=x",
     "misses the key jwt-signing-key.pem"),
    ("kubectl -n deliveryhub get secret deliveryhub-secret", "secret deliveryhub-secret"),
    ("kubectl -n deliveryhub port-forward \"$(kubectl -n deliveryhub get pods -l app.kubernetes.io/component=ordres "
     "-o name | head -n 1)\" 8080:8080", "selects no pod"),
    ("(cd k8s/overlays/split && kustomize edit set image dh=ghcr.io/x/y:1)", "pins no image"),
    ("kubectl -n deliveryhub scale hpa/orders --replicas=3\nkubectl -n deliveryhub get hpa payments",
     "no HorizontalPodAutoscaler payments"),
])
def test_the_checker_fails_a_runbook_with_a_wrong_name(manifests, text, problem):
    problems, _ = check_runbook(f"# Runbook\n\n```sh\n{text}\n```\n", manifests)
    assert any(problem in p for p in problems), problems
