// The tree beside the waterfall, one row per visible span, rendering only the rows in view
// (a 20,000-span trace costs the same to scroll as a 20-span one). Rows are placed absolutely
// and kept while they stay in view, so a scroll builds, styles and lays out only the rows that
// come into view. Keyboard: up/down move, left collapses or goes to the parent, right expands
// or goes to the first child, enter toggles.
import { h } from "../dom.js";
import * as fmt from "../format.js";
import { visibleRows, ancestors } from "./model.js";
import { categoryLabel } from "./words.js";

export const ROW_HEIGHT = 24;
const OVERSCAN = 12;
const MAX_INDENT_DEPTH = 40;
// Room for one time label ("123.4ms") and a gap on the waterfall's axis.
const TICK_SPACING = 80;

export class Timeline {
  constructor(model, { onSelect, total = null }) {
    this.model = model;
    this.onSelect = onSelect;
    this.collapsed = new Set();
    this.matches = new Set();
    this.selected = -1;
    this.rows = [];
    this.position = new Map(); // node index -> row number
    this.drawn = new Map(); // row number -> its element, for the rows in the DOM
    this.first = -1;
    this.last = -1;
    this.spacer = h("div", { class: "tl-spacer" });
    this.window = h("div", { class: "tl-window" });
    this.body = h("div", { class: "tl-body", tabindex: "0", role: "tree", "aria-label": "Spans" },
      this.spacer, this.window);
    this.element = h("div", { class: "timeline" }, this.header(), this.body);
    this.body.addEventListener("scroll", () => this.schedule(), { passive: true });
    this.body.addEventListener("keydown", (e) => this.key(e));
    this.window.addEventListener("click", (e) => this.click(e));
    new ResizeObserver(() => this.schedule(true)).observe(this.body);
    // Huge traces open with the first three levels expanded.
    this.huge = (total ?? model.nodes.length) > 5000;
    this.folded = new Set(); // nodes already collapsed once because the trace is huge
    this.grow(0);
  }

  // Nodes from `from` on are new (the first ones, or a later page of the skeleton).
  grow(from) {
    const nodes = this.model.nodes;
    if (this.huge) {
      for (let i = from; i < nodes.length; i++) {
        const p = nodes[i].parent;
        if (p >= 0 && nodes[p].depth >= 2 && !this.folded.has(p)) {
          this.folded.add(p);
          this.collapsed.add(p);
        }
      }
    }
    this.refresh();
  }

  header() {
    const axis = h("div", { class: "tl-axis" });
    // As many time labels as fit the axis's width, so that they never overlap.
    let drawnFor = -1;
    new ResizeObserver(() => {
      const width = axis.clientWidth;
      if (width === drawnFor) return;
      drawnFor = width;
      axis.replaceChildren(...this.ticks(width));
    }).observe(axis);
    return h("div", { class: "tl-row tl-head" },
      h("div", { class: "tl-name", text: "Span" }),
      h("div", { class: "num", text: "Duration", title: "Duration of the span" }),
      h("div", { class: "num", text: "Tokens", title: "Tokens of the subtree (each model call counted once)" }),
      h("div", { class: "num", text: "Cost", title: "Cost of the subtree" }),
      axis);
  }

  ticks(width) {
    const total = this.model.end - this.model.start;
    const intervals = Math.max(1, Math.min(4, Math.floor(width / TICK_SPACING)));
    const out = [];
    for (let i = 0; i <= intervals; i++) {
      const f = i / intervals;
      const tick = h("span", { class: `tick${i === intervals ? " last" : ""}`, text: fmt.duration(Math.round(total * f)) });
      tick.style.left = `${f * 100}%`;
      out.push(tick);
    }
    return out;
  }

  refresh() {
    this.rows = visibleRows(this.model, this.collapsed);
    this.position = new Map(this.rows.map((index, row) => [index, row]));
    this.spacer.style.height = `${this.rows.length * ROW_HEIGHT}px`;
    this.schedule(true);
  }

  schedule(force = false) {
    // Forced: rows changed (selection, folding, matches), so every drawn row is rebuilt.
    if (force) this.first = -1;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  draw() {
    const top = this.body.scrollTop;
    const height = this.body.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    if (first === this.first && last === this.last) return;
    const drawn = this.drawn;
    if (this.first < 0) {
      this.window.replaceChildren();
      drawn.clear();
    }
    for (const [row, el] of drawn) {
      if (row < first || row >= last) {
        el.remove();
        drawn.delete(row);
      }
    }
    // New rows above the kept ones go first, below them last: the DOM stays in row order.
    const above = document.createDocumentFragment();
    const below = document.createDocumentFragment();
    const kept = drawn.size ? Math.min(...drawn.keys()) : last;
    for (let row = first; row < last; row++) {
      if (drawn.has(row)) continue;
      const el = this.rowElement(this.model.nodes[this.rows[row]]);
      el.style.top = `${row * ROW_HEIGHT}px`;
      drawn.set(row, el);
      (row < kept ? above : below).append(el);
    }
    this.window.prepend(above);
    this.window.append(below);
    this.first = first;
    this.last = last;
  }

  rowElement(n) {
    const m = this.model;
    const total = m.end - m.start;
    const open = !this.collapsed.has(n.index);
    const classes = ["tl-row", `cat-${n.category}`];
    if (n.index === this.selected) classes.push("selected");
    if (n.error) classes.push("error");
    if (this.matches.has(n.index)) classes.push("match");
    const toggle = n.children.length
      ? h("button", { type: "button", class: "toggle", tabindex: "-1", "aria-label": open ? "Collapse" : "Expand",
        text: open ? "▾" : "▸" })
      : h("span", { class: "toggle leaf" });
    const name = h("div", { class: "tl-name", title: n.name },
      toggle,
      h("span", { class: "cat", text: categoryLabel(n.category) }),
      h("span", { class: "label", text: n.name }),
      n.depth > MAX_INDENT_DEPTH ? h("span", { class: "depth", text: `depth ${n.depth}` }) : null,
      n.totals.errors ? h("span", { class: "err-count", title: `${n.totals.errors} error span(s) in this subtree`,
        text: `⚠ ${n.totals.errors}` }) : null,
      !open ? h("span", { class: "hidden-count", text: `+${n.children.length}` }) : null);
    name.style.paddingLeft = `${4 + Math.min(n.depth, MAX_INDENT_DEPTH) * 14}px`;
    const left = ((n.start - m.start) / total) * 100;
    const width = ((n.end - n.start) / total) * 100;
    const bar = h("div", { class: "bar", title: `${n.name} · ${fmt.duration(n.end - n.start)}` });
    bar.style.left = `${left}%`;
    bar.style.width = `${Math.max(width, 0)}%`;
    const label = h("span", { class: "bar-label", text: fmt.duration(n.end - n.start) });
    // After the bar when there is room, else before it; a bar spanning nearly the whole axis
    // has its label inside, so that it never spills over the cost column on narrow screens.
    const after = left + width <= 75;
    const before = !after && left >= 20;
    if (after) label.style.left = `${left + width}%`;
    else if (before) label.style.right = `${100 - left}%`;
    else label.style.left = `${left}%`;
    label.classList.toggle("before", before);
    label.classList.toggle("inside", !after && !before);
    return h("div", { class: classes.join(" "), role: "treeitem", "data-index": n.index, "data-span-id": n.id,
      "aria-selected": n.index === this.selected ? "true" : "false", "aria-level": n.depth + 1,
      "aria-expanded": n.children.length ? String(open) : null },
      name,
      h("div", { class: "num", text: fmt.duration(n.end - n.start) }),
      h("div", { class: "num", text: n.totals.tokens === null ? "" : fmt.count(n.totals.tokens) }),
      h("div", { class: "num", text: n.totals.cost === null ? "" : fmt.cost(n.totals.cost) }),
      h("div", { class: "tl-bars" }, bar, label));
  }

  click(event) {
    const rowEl = event.target.closest(".tl-row");
    if (!rowEl) return;
    const index = Number(rowEl.dataset.index);
    if (event.target.closest(".toggle")) this.toggle(index);
    else this.select(index);
    this.body.focus({ preventScroll: true });
  }

  key(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const n = this.model.nodes[this.selected];
    const row = this.position.get(this.selected) ?? -1;
    const go = (r) => this.select(this.rows[Math.max(0, Math.min(this.rows.length - 1, r))]);
    switch (event.key) {
      case "ArrowDown": go(row + 1); break;
      case "ArrowUp": go(row <= 0 ? 0 : row - 1); break;
      case "PageDown": go(row + Math.floor(this.body.clientHeight / ROW_HEIGHT)); break;
      case "PageUp": go(row - Math.floor(this.body.clientHeight / ROW_HEIGHT)); break;
      case "Home": go(0); break;
      case "End": go(this.rows.length - 1); break;
      case "ArrowRight":
        if (!n) go(0);
        else if (n.children.length && this.collapsed.has(n.index)) this.toggle(n.index);
        else if (n.children.length) this.select(n.children[0]);
        break;
      case "ArrowLeft":
        if (!n) break;
        if (n.children.length && !this.collapsed.has(n.index)) this.toggle(n.index);
        else if (n.parent >= 0) this.select(n.parent);
        break;
      case "Enter":
        if (n && n.children.length) this.toggle(n.index);
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  toggle(index) {
    if (this.collapsed.has(index)) this.collapsed.delete(index);
    else this.collapsed.add(index);
    this.refresh();
  }

  expandAll() {
    this.collapsed.clear();
    this.refresh();
  }

  collapseAll() {
    for (const n of this.model.nodes) if (n.children.length) this.collapsed.add(n.index);
    // Roots stay open so the first level shows.
    for (const r of this.model.roots) this.collapsed.delete(r.index);
    if (this.selected >= 0 && !this.position.has(this.selected)) this.selected = -1;
    this.refresh();
  }

  reveal(index) {
    let changed = false;
    for (const a of ancestors(this.model, index)) changed = this.collapsed.delete(a) || changed;
    if (changed) this.refresh();
  }

  select(index, { notify = true } = {}) {
    if (index === undefined || index < 0) return;
    this.reveal(index);
    this.selected = index;
    this.scrollTo(index);
    this.schedule(true);
    if (notify) this.onSelect(this.model.nodes[index]);
  }

  scrollTo(index) {
    const row = this.position.get(index);
    if (row === undefined) return;
    const top = row * ROW_HEIGHT;
    const view = this.body.clientHeight;
    if (top < this.body.scrollTop) this.body.scrollTop = top;
    else if (top + ROW_HEIGHT > this.body.scrollTop + view) this.body.scrollTop = top + ROW_HEIGHT - view;
  }

  setMatches(indices) {
    this.matches = new Set(indices);
    let changed = false;
    const seen = new Set();
    const nodes = this.model.nodes;
    for (const index of indices) {
      for (let p = nodes[index].parent; p >= 0 && !seen.has(p); p = nodes[p].parent) {
        seen.add(p);
        changed = this.collapsed.delete(p) || changed;
      }
    }
    if (changed) this.refresh();
    else this.schedule(true);
  }
}
