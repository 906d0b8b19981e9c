// Strict unknown-field check on top of @kubernetes-models' compiled validators, which accept
// unknown fields (so a typo such as `portz` would pass). For every key of an object, replace its
// value with one that no JSON schema type accepts (a Symbol) and validate again: a key that the
// schema knows yields an error at that key's path; a key it does not know yields none, and is
// reported. Known keys are walked into, so nested typos are found too.
const SENTINEL = Symbol("probe");
const escape = (k) => String(k).replace(/~/g, "~0").replace(/\//g, "~1");

function errorsOf(Model, data) {
  try {
    new Model(data).validate();
    return [];
  } catch (e) {
    if (!e.errors) throw e;
    return e.errors;
  }
}

export function unknownFields(Model, data) {
  const root = structuredClone(data);  // probed in place: each key is put back after its probe
  const unknown = [];
  const walk = (node, path) => {
    if (Array.isArray(node)) {
      node.forEach((v, i) => walk(v, [...path, i]));
      return;
    }
    if (!node || typeof node !== "object") return;
    for (const k of Object.keys(node)) {
      const p = [...path, k];
      const pointer = "/" + p.map(escape).join("/");
      const value = node[k];
      node[k] = SENTINEL;
      const known = errorsOf(Model, root).some(
        (e) => e.instancePath === pointer || e.instancePath.startsWith(pointer + "/"));
      node[k] = value;
      if (known) walk(value, p);
      else unknown.push(pointer);
    }
  };
  walk(root, []);
  return unknown;
}

// Every schema error, then every unknown field, as "path message" strings; [] when valid.
export function validateStrict(Model, data) {
  const errors = errorsOf(Model, data).map((e) => `${e.instancePath || "/"} ${e.message}`);
  for (const u of unknownFields(Model, data)) errors.push(`${u} is not a known field`);
  return errors;
}
