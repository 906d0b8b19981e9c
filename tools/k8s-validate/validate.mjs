// Validates a multi-document YAML stream (stdin, or the files named) offline: every object by
// its apiVersion and kind against the Kubernetes, prometheus-operator and Istio models, with
// unknown fields rejected (strict.mjs). An object of a kind without a model is an error, so
// nothing passes unchecked. Prints one line per object (after "== FILE" when given several) and
// "N passed, N failed" over all; exits 1 on any failure or when there is no object at all.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { validateStrict } from "./strict.mjs";

const models = {
  "v1": await import("kubernetes-models/v1"),
  "apps/v1": await import("kubernetes-models/apps/v1"),
  "batch/v1": await import("kubernetes-models/batch/v1"),
  "autoscaling/v2": await import("kubernetes-models/autoscaling/v2"),
  "policy/v1": await import("kubernetes-models/policy/v1"),
  "storage.k8s.io/v1": await import("kubernetes-models/storage.k8s.io/v1"),
  "networking.k8s.io/v1": await import("kubernetes-models/networking.k8s.io/v1"),
  "rbac.authorization.k8s.io/v1": await import("kubernetes-models/rbac.authorization.k8s.io/v1"),
  "monitoring.coreos.com/v1": await import("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1"),
  "security.istio.io/v1": await import("@kubernetes-models/istio/security.istio.io/v1"),
  "networking.istio.io/v1": await import("@kubernetes-models/istio/networking.istio.io/v1"),
};

const inputs = process.argv.length > 2 ? process.argv.slice(2) : [0];
const seen = new Map();  // the same object in several renders is checked once
let passed = 0;
let failed = 0;
for (const input of inputs) {
  if (inputs.length > 1) console.log(`== ${input}`);
  for (const doc of parseAllDocuments(readFileSync(input, "utf8"))) {
    if (doc.errors.length) {
      failed++;
      console.log(`FAIL YAML: ${doc.errors[0].message}`);
      continue;
    }
    const object = doc.toJS();
    if (object === null || object === undefined) continue;
    const name = `${object.apiVersion} ${object.kind} ${object.metadata?.name ?? "(no name)"}`;
    const Model = Object.hasOwn(models, object.apiVersion) ? models[object.apiVersion][object.kind] : undefined;
    const key = JSON.stringify(object);
    if (!seen.has(key)) {
      seen.set(key, Model ? validateStrict(Model, object) : ["no model for this apiVersion and kind"]);
    }
    const errors = seen.get(key);
    if (errors.length) {
      failed++;
      console.log(`FAIL ${name}: ${errors.join("; ")}`);
    } else {
      passed++;
      console.log(`ok   ${name}`);
    }
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed || passed === 0 ? 1 : 0);
