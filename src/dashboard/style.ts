/** The page's stylesheet, inlined and allowed by its hash. No `style` attributes anywhere: the CSP would refuse them. */
export const STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --fg: #1d2330; --muted: #5b6475; --card: #fff; --line: #d9dde5;
  --accent: #2563eb; --ok: #15803d; --warn: #b45309; --bad: #b91c1c; }
@media (prefers-color-scheme: dark) { :root { --bg: #12151b; --fg: #e3e7ee; --muted: #98a2b3; --card: #1b2029;
  --line: #2c3340; --accent: #60a5fa; --ok: #4ade80; --warn: #fbbf24; --bad: #f87171; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; justify-content: space-between;
  padding: 10px 16px; border-bottom: 1px solid var(--line); background: var(--card); }
h1 { font-size: 18px; margin: 0; }
h2 { font-size: 15px; margin: 0 0 8px; }
main { padding: 12px 16px; display: grid; gap: 16px; }
.badges { display: flex; flex-wrap: wrap; gap: 6px; }
.badge { border: 1px solid var(--line); border-radius: 999px; padding: 2px 10px; font-size: 12px; color: var(--muted); }
.badge[data-state="connected"] { color: var(--ok); border-color: var(--ok); }
.badge[data-state="reconnecting"], .badge[data-state="connecting"] { color: var(--warn); border-color: var(--warn); }
.badge[data-state="unauthorized"], .badge[data-state="forbidden"], .badge[data-state="error"] { color: var(--bad); border-color: var(--bad); }
.badge.drops { color: var(--bad); border-color: var(--bad); }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 8px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; }
.tile .label { font-weight: 600; }
.tile .name, .tile .sub, .muted { color: var(--muted); font-size: 12px; }
.tile .value { font-size: 22px; font-variant-numeric: tabular-nums; }
.tile svg { display: block; width: 100%; height: 28px; }
.tile polyline { fill: none; stroke: var(--accent); stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 8px; }
.controls input { flex: 1 1 240px; min-width: 0; }
input, select, button { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--card); color: var(--fg); }
button { cursor: pointer; }
button[aria-pressed="true"] { border-color: var(--warn); color: var(--warn); }
.table { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { position: sticky; top: 0; background: var(--card); }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; color: var(--muted); }
td.type { white-space: nowrap; font-family: ui-monospace, monospace; }
td.values { font-family: ui-monospace, monospace; font-size: 12px; overflow-wrap: anywhere; }
td.values .k { color: var(--muted); }
td.values .kv { margin-right: 10px; }
.lvl { font-weight: 600; text-transform: uppercase; font-size: 11px; }
.lvl-error { color: var(--bad); } .lvl-warn { color: var(--warn); } .lvl-info { color: var(--accent); }
.lvl-debug, .lvl-trace { color: var(--muted); }
`;
