// Evaluates web form expressions with the browser runtime, for
// `tests/webform_agreement.rs`. Reads one JSON object per line on stdin:
//   { definition, script, samples: [tree...], cases: [[sample, function, target]...] }
// where a tree is `[[name, value, [children]]...]` (the root's children) and a
// target is a node number (pre-order over the primary instance, root = 0) or
// `[list, item index]` for an item of a choice list. Writes one line per form:
// `[result...]`, each `{t, v}` as the Rust side writes its values.
'use strict';

const path = require('path');
const vm = require('vm');
const readline = require('readline');

const RumboForms = require(path.resolve(__dirname, '../../../server/assets/webform.js'));
const E = RumboForms.engine;
const NOW = new Date(Date.UTC(2024, 5, 15, 10, 30, 0));

function build(env, tree) {
  const nodes = [env.inst.root];
  const add = (parent, children) => {
    for (const [name, value, kids] of children) {
      const node = env.inst.addChild(parent, name);
      node.value = value;
      nodes.push(node);
      add(node, kids);
    }
  };
  add(env.inst.root, tree);
  return nodes;
}

function repr(v) {
  if (typeof v === 'boolean') return { t: 'b', v };
  if (typeof v === 'number') return { t: 'n', v: isNaN(v) ? 'NaN' : (isFinite(v) ? v : (v > 0 ? 'Infinity' : '-Infinity')) };
  if (typeof v === 'string') return { t: 's', v };
  if (Array.isArray(v)) return { t: 'nodes', v: v.map(E.stringValue) };
  if (v instanceof E.XDate) return { t: 'date', v: E.toStr(v) };
  return { t: 'dt', v: E.toStr(v) };
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (!line.trim()) return;
  const job = JSON.parse(line);
  const definition = job.definition;
  vm.runInThisContext(job.script);
  const functions = RumboForms.functions(definition.expressions);
  const results = [];
  const envs = job.samples.map((tree) => {
    const env = E.environment(definition, { now: NOW, offset: 0 });
    return { env, nodes: build(env, tree) };
  });
  const lists = {};
  for (const list of definition.choices || []) lists[list.name] = list;
  for (const [sample, fn, target] of job.cases) {
    const { env, nodes } = envs[sample];
    let node;
    if (Array.isArray(target)) {
      const root = env.inst.secondaries[target[0]].children[0];
      node = root.children[target[1]];
    } else node = nodes[target];
    try {
      results.push(repr(env.evaluate(functions[fn], node)));
    } catch (e) {
      if (e instanceof E.XPathError) results.push({ t: 'err', v: e.message });
      else results.push({ t: 'crash', v: String(e && e.stack || e) });
    }
  }
  // A fresh form as the page starts it, turned into the record it would send.
  let record = null;
  try {
    const state = new E.FormState(definition, functions, { now: NOW, offset: 0 });
    state.dynamicDefaults(state.inst.root);
    state.recompute();
    record = state.record('uuid:00000000-0000-4000-8000-000000000000');
  } catch (e) {
    record = { crash: String(e && e.stack || e) };
  }
  process.stdout.write(JSON.stringify({ results, record }) + '\n');
});
