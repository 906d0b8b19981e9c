"""A model of the log pipeline of k8s/components/logging for tests/monitoring/test_log_pipeline.py:
Fluent Bit's tail (CRI multiline), parser filter and loki output, and the part of Loki's LogQL
that the runbook's queries use, each as documented by its project. No Fluent Bit or Loki binary
can be installed here (Debian packages neither; its `loki` is a genetics program), so the model
stands in for them (ADR 0035).

The model reads the configuration itself: the tail's path, tag and path_key; the parsers'
regexes and formats; the filters' order, match, key_name and reserve_data/preserve_key; the
output's labels, label_keys and remove_keys. A plugin or a setting that changes the records but
that the model does not know makes it raise, so a change of fluent-bit.yaml cannot silently pass
this test: teach the model the new setting (from Fluent Bit's documentation) first.
"""
from __future__ import annotations

import fnmatch
import glob
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path


class Unsupported(Exception):
    """A plugin, setting or LogQL construct the model does not know."""


# --- Fluent Bit -------------------------------------------------------------------------------

# Fluent Bit's built-in `cri` multiline parser: this regex, the time format "%Y-%m-%dT%H:%M:%S.%L%z"
# with the time kept in the record, parts (P) joined per stream until the final one (F).
CRI = re.compile(r"^(?P<time>.+?) (?P<stream>stdout|stderr) (?P<_p>F|P) (?P<log>.*)$")

KNOWN = {
    # What each plugin's settings may be without changing what the model computes for lines
    # shorter than the tail's buffer_max_size (buffers, offsets, timers, connections, retries).
    "tail": {"name", "tag", "path", "path_key", "multiline.parser", "db", "db.locking", "read_from_head",
             "refresh_interval", "rotate_wait", "buffer_max_size", "buffer_chunk_size", "skip_long_lines",
             "mem_buf_limit", "exclude_path"},
    "parser": {"name", "match", "key_name", "parser", "reserve_data", "preserve_key"},
    "loki": {"name", "match", "host", "port", "labels", "label_keys", "remove_keys", "line_format", "retry_limit",
             "tls", "tls.verify", "workers", "tenant_id"},
}


def onigmo_to_python(regex: str) -> str:
    """Fluent Bit's regexes are Onigmo's (Ruby): `(?<name>…)` is Python's `(?P<name>…)`."""
    return re.sub(r"\(\?<(?![=!])", "(?P<", regex)


def truthy(value) -> bool:
    return str(value).lower() in ("true", "on", "yes", "1")


def rfc3339_ns(text: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 time with up to nine fractional digits."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)", text)
    if not m:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    seconds = int(datetime.fromisoformat(m.group(1) + zone).timestamp())
    return seconds * 1_000_000_000 + int((m.group(2) or "0").ljust(9, "0"))


def substitute(env: dict, value) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: str(env.get(m.group(1), m.group(0))), str(value))


def clist(value) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(i).strip() for i in items if str(i).strip()]


def accessor(pattern: str) -> list[str]:
    """The keys of a record accessor: `$a['b']` -> ['a', 'b']."""
    m = re.fullmatch(r"\$([\w.-]+)((?:\['[^']+'\])*)", pattern.strip())
    if not m:
        raise Unsupported(f"record accessor {pattern!r}")
    return [m.group(1)] + re.findall(r"\['([^']+)'\]", m.group(2))


def lookup(record: dict, keys: list[str]):
    value = record
    for k in keys:
        if not isinstance(value, dict) or k not in value:
            return None
        value = value[k]
    return value


class FluentBit:
    """Runs one configuration (fluent-bit.yaml, parsed) over a node whose / is `root`."""

    def __init__(self, config: dict, root: Path):
        self.config, self.root = config, Path(root)
        self.env = {k: str(v) for k, v in (config.get("env") or {}).items()}
        self.parsers = {p["name"]: p for p in config.get("parsers") or []}
        pipeline = config.get("pipeline") or {}
        self.inputs, self.filters = pipeline.get("inputs") or [], pipeline.get("filters") or []
        self.outputs = pipeline.get("outputs") or []
        for section in (self.inputs, self.filters, self.outputs):
            for plugin in section:
                known = KNOWN.get(str(plugin.get("name")).lower())
                if known is None:
                    raise Unsupported(f"plugin {plugin.get('name')}")
                unknown = set(plugin) - known
                if unknown:
                    raise Unsupported(f"{plugin['name']} settings {sorted(unknown)}")
        self.collisions: list[str] = []  # a parsed key that was already in the record

    def prop(self, plugin: dict, key: str, default=None):
        return substitute(self.env, plugin[key]) if key in plugin else default

    # tail + multiline.parser cri
    def read(self) -> list[tuple[str, int, dict]]:
        """(tag, time in ns, record) of every line the tail inputs read, in file order."""
        events = []
        for tail in self.inputs:
            if str(tail.get("multiline.parser")).strip() != "cri":
                raise Unsupported(f"tail without multiline.parser cri: {tail.get('multiline.parser')}")
            excluded = clist(self.prop(tail, "exclude_path"))
            files = sorted({f for pattern in clist(self.prop(tail, "path"))
                            for f in glob.glob(str(self.root) + pattern)})
            for file in files:
                path = "/" + os.path.relpath(file, self.root)
                if any(fnmatch.fnmatch(path, e) for e in excluded):
                    continue
                tag = self.prop(tail, "tag", "tail.0").replace("*", path.lstrip("/").replace("/", "."))
                pending: dict[str, str] = {}  # stream -> the parts (P) so far
                for line in Path(file).read_text(encoding="utf-8").splitlines():
                    m = CRI.match(line)
                    if not m:
                        continue  # the cri parser drops what is not CRI
                    stream = m.group("stream")
                    if m.group("_p") == "P":
                        pending[stream] = pending.get(stream, "") + m.group("log")
                        continue
                    record = {}
                    if "path_key" in tail:
                        record[self.prop(tail, "path_key")] = path
                    record.update(time=m.group("time"), stream=stream, _p="F",
                                  log=pending.pop(stream, "") + m.group("log"))
                    events.append((tag, rfc3339_ns(m.group("time")), record))
        return events

    def parse(self, parser_name: str, text: str) -> dict | None:
        parser = self.parsers.get(parser_name)
        if parser is None:
            raise Unsupported(f"parser {parser_name} (not defined in the configuration)")
        if set(parser) - {"name", "format", "regex"}:
            raise Unsupported(f"parser {parser_name} settings {sorted(set(parser) - {'name', 'format', 'regex'})}")
        if parser["format"] == "regex":
            m = re.search(onigmo_to_python(parser["regex"]), text)
            return None if m is None else {k: v for k, v in m.groupdict().items() if v is not None}
        if parser["format"] == "json":
            try:
                value = json.loads(text)
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
        raise Unsupported(f"parser format {parser['format']}")

    def filter(self, tag: str, record: dict) -> dict:
        for f in self.filters:
            if not fnmatch.fnmatchcase(tag, self.prop(f, "match", "*")):
                continue
            key = self.prop(f, "key_name")
            if key not in record or not isinstance(record[key], str):
                continue
            parsed = self.parse(self.prop(f, "parser"), record[key])
            if parsed is None:
                continue  # no match: the record goes on unchanged
            kept = {k: v for k, v in record.items()
                    if k != key or truthy(f.get("preserve_key", False))} if truthy(f.get("reserve_data", False)) else (
                {key: record[key]} if truthy(f.get("preserve_key", False)) else {})
            self.collisions += [f"{k} (filter on {key})" for k in parsed if k in kept]
            record = {**parsed, **{k: v for k, v in kept.items() if k not in parsed}}
        return record

    def push(self) -> list[tuple[dict, int, str]]:
        """(stream labels, time in ns, line) of every entry the loki outputs send."""
        out = []
        for tag, ns, record in self.read():
            record = self.filter(tag, record)
            for o in self.outputs:
                if not fnmatch.fnmatchcase(tag, self.prop(o, "match", "*")):
                    continue
                if str(o.get("line_format", "json")) != "json":
                    raise Unsupported(f"line_format {o['line_format']}")
                labels, used = {}, []
                for entry in clist(self.prop(o, "labels")) + clist(self.prop(o, "label_keys")):
                    if entry.startswith("$"):
                        keys = accessor(entry)
                        name, value = "_".join(keys), lookup(record, keys)
                        used.append(keys)
                    else:
                        name, value = (s.strip() for s in entry.split("=", 1))
                        if value.startswith("$"):
                            used.append(accessor(value))
                            value = lookup(record, accessor(value))
                    if value not in (None, ""):  # a label without a value is left out
                        labels[re.sub(r"[^A-Za-z0-9_]", "_", name)] = str(value)
                if not labels:
                    labels = {"job": "fluent-bit"}
                # Keys made labels leave the line, and so do remove_keys.
                removed = {tuple(k) for k in used} | {tuple(accessor("$" + k.lstrip("$")))
                                                       for k in clist(self.prop(o, "remove_keys"))}
                line = {k: v for k, v in record.items() if (k,) not in removed}
                out.append((labels, ns, json.dumps(line, separators=(",", ":"), ensure_ascii=False)))
        return out


# --- Loki -------------------------------------------------------------------------------------

class Loki:
    """Stores pushed entries by stream and answers the LogQL the runbook uses: a stream selector
    (=, !=, =~, !~), line filters (|=, !=), `| json` and label filters (=, !=, =~, !~)."""

    def __init__(self):
        self.streams: dict[tuple, list[tuple[int, str]]] = {}

    def push(self, entries: list[tuple[dict, int, str]]) -> None:
        for labels, ns, line in entries:
            stream = self.streams.setdefault(tuple(sorted(labels.items())), [])
            if (ns, line) not in stream:  # Loki drops an entry identical to one it has
                stream.append((ns, line))

    @staticmethod
    def matchers(text: str) -> list[tuple[str, str, str]]:
        out, rest = [], text.strip()
        while rest:
            m = re.match(r'\s*([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)', rest)
            if not m:
                raise Unsupported(f"matchers {text!r}")
            out.append((m.group(1), m.group(2), json.loads('"' + m.group(3) + '"')))
            rest = rest[m.end():]
        return out

    @staticmethod
    def holds(op: str, value: str | None, wanted: str) -> bool:
        value = "" if value is None else value
        return {"=": value == wanted, "!=": value != wanted,
                "=~": re.fullmatch(wanted, value) is not None, "!~": re.fullmatch(wanted, value) is None}[op]

    @staticmethod
    def flatten(value: dict, prefix: str = "") -> dict:
        """`| json`'s labels: nested objects joined by `_`, other values as their JSON text."""
        out = {}
        for k, v in value.items():
            name = re.sub(r"[^A-Za-z0-9_]", "_", prefix + k)
            if isinstance(v, dict):
                out.update(Loki.flatten(v, name + "_"))
            else:
                out[name] = v if isinstance(v, str) else json.dumps(v)
        return out

    def query(self, logql: str) -> list[dict]:
        """Entries as Loki's query_range answers a log query: [{"stream": labels, "values": [[ns, line]]}],
        forward in time."""
        m = re.match(r"\s*\{([^}]*)\}(.*)$", logql, re.S)
        if not m:
            raise Unsupported(f"query {logql!r}")
        selector, stages = self.matchers(m.group(1)), m.group(2)
        steps = []
        while stages.strip():
            s = stages.lstrip()
            if s.startswith("|= ") or s.startswith("!= "):
                sm = re.match(r'(\|=|!=)\s*"((?:[^"\\]|\\.)*)"', s)
                steps.append(("line", sm.group(1), json.loads('"' + sm.group(2) + '"')))
            elif re.match(r"\|\s*json\b", s):
                sm = re.match(r"\|\s*json\b(?!\s*\w+\s*=)", s)
                steps.append(("json",))
            else:
                sm = re.match(r'\|\s*([A-Za-z_]\w*\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*")', s)
                if not sm:
                    raise Unsupported(f"pipeline stage {s[:40]!r}")
                steps.append(("label", *self.matchers(sm.group(1))[0]))
            stages = s[sm.end():]
        results: dict[tuple, list] = {}
        for key, entries in self.streams.items():
            labels = dict(key)
            if not all(self.holds(op, labels.get(name), value) for name, op, value in selector):
                continue
            for ns, line in entries:
                extracted, keep = dict(labels), True
                for step in steps:
                    if step[0] == "line":
                        keep = (step[2] in line) == (step[1] == "|=")
                    elif step[0] == "json":
                        try:
                            fields = self.flatten(json.loads(line))
                        except ValueError:
                            extracted["__error__"] = "JSONParserErr"
                            continue
                        for k, v in fields.items():
                            extracted[k + "_extracted" if k in labels else k] = v
                    else:
                        keep = self.holds(step[2], extracted.get(step[1]), step[3])
                    if not keep:
                        break
                if keep:
                    results.setdefault(tuple(sorted(extracted.items())), []).append([str(ns), line])
        return [{"stream": dict(k), "values": sorted(v, key=lambda e: int(e[0]))}
                for k, v in sorted(results.items(), key=lambda kv: min(int(e[0]) for e in kv[1]))]


def cri_lines(lines: list[str], stream: str, start_ns: int, split_longest: bool = True) -> list[str]:
    """`lines` as a CRI runtime writes them to a container's log file, one nanosecond apart; the
    longest is split into a partial (P) and a final (F) part, as a runtime splits long lines."""
    longest = max(range(len(lines)), key=lambda i: len(lines[i])) if lines and split_longest else -1
    out = []
    for i, line in enumerate(lines):
        ns = start_ns + i
        stamp = datetime.fromtimestamp(ns // 1_000_000_000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        stamp += f".{ns % 1_000_000_000:09d}Z"
        if i == longest:
            half = len(line) // 2
            out.append(f"{stamp} {stream} P {line[:half]}")
            out.append(f"{stamp} {stream} F {line[half:]}")
        else:
            out.append(f"{stamp} {stream} F {line}")
    return out
