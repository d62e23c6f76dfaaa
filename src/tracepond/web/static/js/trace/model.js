// A trace tree flattened into arrays (iterative: parent chains can be 50k deep), with
// per-subtree totals and the list of visible rows for a set of collapsed nodes.

const INFERENCE = new Set(["llm", "embedding"]);

export function buildModel(data) {
  const nodes = [];
  const stack = [];
  for (let i = data.roots.length - 1; i >= 0; i--) stack.push([data.roots[i], -1, 0]);
  while (stack.length) {
    const [span, parent, depth] = stack.pop();
    const index = nodes.length;
    const view = span.view || null;
    nodes.push({
      index, parent, depth, span, view,
      id: span.span_id,
      name: span.name,
      category: (view && view.category) || span.category || "unknown",
      start: span.start_time_unix_nano,
      end: span.end_time_unix_nano,
      error: span.status && span.status.code === "error",
      children: [],
      totals: null,
      searchText: null,
    });
    if (parent >= 0) nodes[parent].children.push(index);
    const children = span.children || [];
    for (let i = children.length - 1; i >= 0; i--) stack.push([children[i], index, depth + 1]);
  }
  computeTotals(nodes);
  let start = Infinity;
  let end = -Infinity;
  for (const n of nodes) {
    if (n.start < start) start = n.start;
    if (n.end > end) end = n.end;
  }
  const byId = new Map(nodes.map((n) => [n.id, n]));
  return { nodes, byId, start, end: Math.max(end, start + 1), roots: nodes.filter((n) => n.parent < 0) };
}

// The same model from /api/traces/{id}/skeleton: a flat depth-first list (parents before their
// children, each with depth and subtree totals) without payloads; a node's `span` is the
// skeleton entry until the detail panel fetches the full span. Pages of the list are appended
// in order with appendSkeleton, so the top of a huge trace shows before the rest has arrived.
export function buildSkeletonModel(skeleton) {
  const s = skeleton.summary || {};
  const model = { nodes: [], byId: new Map(), roots: [], path: [],
    start: s.start_time_unix_nano ?? Infinity, end: s.end_time_unix_nano ?? -Infinity };
  appendSkeleton(model, skeleton.nodes);
  return model;
}

export function appendSkeleton(model, list) {
  const { nodes, path } = model; // path[depth] = index of the last node seen at that depth
  for (const s of list) {
    const index = nodes.length;
    const depth = s.depth;
    const parent = depth > 0 && path.length >= depth ? path[depth - 1] : -1;
    path.length = Math.min(path.length, depth);
    path.push(index);
    const t = s.subtree || {};
    const hasUsage = (t.total_tokens || 0) > 0 || (t.cost !== null && t.cost !== undefined);
    const node = {
      index, parent, depth: parent < 0 ? 0 : depth, span: s, view: null,
      id: s.span_id,
      name: s.name,
      category: s.category || "unknown",
      start: s.start_time_unix_nano,
      end: s.end_time_unix_nano,
      error: s.status === "error",
      children: [],
      totals: { tokens: hasUsage ? (t.total_tokens ?? null) : null, cost: t.cost ?? null,
        errors: t.error_count ?? 0, hasUsage },
      searchText: null,
    };
    nodes.push(node);
    model.byId.set(node.id, node);
    if (parent >= 0) nodes[parent].children.push(index);
    else model.roots.push(node);
    if (node.start < model.start) model.start = node.start;
    if (node.end > model.end) model.end = node.end;
  }
  model.end = Math.max(model.end, model.start + 1);
  return model;
}

// The same model from /api/traces/{id}/skeleton/compact: the skeleton's nodes as columns
// (one array per field), times after `origin_ns`. Node times are kept relative to the trace's
// start (model.start is 0), which a JavaScript number holds exactly; pages are appended with
// appendCompact.
export function buildCompactModel(data) {
  const s = data.summary || {};
  const model = { nodes: [], byId: new Map(), roots: [], path: [], origin: data.origin_ns,
    start: 0, end: s.duration_ns ?? -Infinity };
  appendCompact(model, data);
  return model;
}

export function appendCompact(model, data) {
  const { nodes, path, byId, roots } = model;
  const c = data.columns;
  const strings = data.strings;
  const text = (code) => (code === null ? null : strings[code]);
  const count = c.span_id.length;
  for (let i = 0; i < count; i++) {
    const index = nodes.length;
    const depth = c.depth[i];
    const parent = depth > 0 && path.length >= depth ? path[depth - 1] : -1;
    path.length = Math.min(path.length, depth);
    path.push(index);
    const id = c.span_id[i];
    const start = c.start[i];
    const end = start + c.duration[i];
    const tokens = c.total_tokens[i];
    const cost = c.cost[i];
    const hasUsage = tokens > 0 || cost !== null;
    const flags = c.flags[i];
    const status = text(c.status[i]);
    const node = {
      index, parent, depth: parent < 0 ? 0 : depth, view: null, id,
      name: c.name[i],
      category: text(c.category[i]) || "unknown",
      start, end,
      error: status === "error",
      // What the detail panel and the search read before the span's payload is fetched.
      span: { span_id: id, name: c.name[i], kind: text(c.kind[i]), service_name: text(c.service[i]),
        model: text(c.model[i]), status, orphan: (flags & 1) !== 0, cycle: (flags & 2) !== 0 },
      children: [],
      totals: { tokens: hasUsage ? tokens : null, cost, errors: c.error_count[i], hasUsage },
      searchText: null,
    };
    nodes.push(node);
    byId.set(id, node);
    if (parent >= 0) nodes[parent].children.push(index);
    else roots.push(node);
    if (start < model.start) model.start = start;
    if (end > model.end) model.end = end;
  }
  model.end = Math.max(model.end, model.start + 1);
  return model;
}

// Tokens and cost count each model call once: a subtree's usage is its descendants' when any
// of them reports usage, else its own (LLM/embedding spans only), as the API's trace totals do.
function computeTotals(nodes) {
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    const given = n.span.totals || n.span.subtree_totals;
    if (given) {
      n.totals = { tokens: given.total_tokens ?? given.tokens ?? null, cost: given.cost ?? null,
        errors: given.error_count ?? given.errors ?? 0, hasUsage: true };
      continue;
    }
    let tokens = 0;
    let cost = 0;
    let costSeen = false;
    let usageBelow = false;
    let errors = n.error ? 1 : 0;
    for (const c of n.children) {
      const t = nodes[c].totals;
      errors += t.errors;
      if (t.hasUsage) {
        usageBelow = true;
        tokens += t.tokens || 0;
      }
      if (t.cost !== null) {
        cost += t.cost;
        costSeen = true;
      }
    }
    const own = ownUsage(n);
    if (!usageBelow && own) {
      tokens = own.tokens;
      usageBelow = own.tokens !== null;
    }
    if (!costSeen && own && own.cost !== null) {
      cost = own.cost;
      costSeen = true;
    }
    n.totals = { tokens: usageBelow ? tokens : null, cost: costSeen ? cost : null, errors, hasUsage: usageBelow };
  }
}

function ownUsage(n) {
  const v = n.view;
  if (!v || !INFERENCE.has(v.category)) return null;
  const u = v.usage;
  const tokens = u ? (u.total_tokens ?? ((u.input_tokens ?? 0) + (u.output_tokens ?? 0))) : null;
  return { tokens, cost: v.cost ?? null };
}

// Indices of the rows shown, depth first, skipping the descendants of collapsed nodes.
export function visibleRows(model, collapsed) {
  const out = [];
  const stack = [];
  for (let i = model.roots.length - 1; i >= 0; i--) stack.push(model.roots[i].index);
  while (stack.length) {
    const index = stack.pop();
    out.push(index);
    if (collapsed.has(index)) continue;
    const children = model.nodes[index].children;
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return out;
}

export function ancestors(model, index) {
  const out = [];
  for (let p = model.nodes[index].parent; p >= 0; p = model.nodes[p].parent) out.push(p);
  return out;
}

// Nodes whose name, ids, service, category, model or attributes contain `text`.
export function search(model, text) {
  const needle = text.toLowerCase();
  const out = [];
  for (const n of model.nodes) {
    n.searchText ??= searchTextOf(n).toLowerCase();
    if (n.searchText.includes(needle)) out.push(n.index);
  }
  return out;
}

function searchTextOf(n) {
  const s = n.span;
  const parts = [n.name, n.id, s.service_name, n.category, s.status && s.status.message, s.model];
  if (n.view) parts.push(n.view.model, n.view.tool && n.view.tool.name);
  if (s.attributes) parts.push(safeJson(s.attributes));
  return parts.filter(Boolean).join("\n");
}

function safeJson(value) {
  try {
    return JSON.stringify(value);
  } catch {
    return "";
  }
}
