"""The page's only stylesheet, inlined so the exported file needs nothing else."""

STYLESHEET = """\
:root { color-scheme: light dark; --fg: #1d2125; --muted: #5f6b76; --bg: #ffffff;
  --card: #f6f8fa; --line: #d0d7de; --user: #0969da; --assistant: #1a7f37; --other: #8250df; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --card: #161b22; --line: #30363d;
    --user: #4493f8; --assistant: #3fb950; --other: #ab7df8; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 52rem; padding: 1.5rem 1rem 3rem; color: var(--fg);
  background: var(--bg); font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 1.6rem; margin: 0 0 .75rem; overflow-wrap: anywhere; }
dl.details { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem;
  margin: 0 0 2rem; color: var(--muted); font-size: .9rem; }
dl.details dt { font-weight: 600; }
dl.details dd { margin: 0; overflow-wrap: anywhere; }
.tag { display: inline-block; padding: 0 .45rem; border: 1px solid var(--line);
  border-radius: 1rem; }
.message { margin: 0 0 1rem; padding: .75rem 1rem; background: var(--card);
  border: 1px solid var(--line); border-left: 4px solid var(--other); border-radius: 6px; }
.message.user { border-left-color: var(--user); }
.message.assistant { border-left-color: var(--assistant); }
.message > header { display: flex; flex-wrap: wrap; gap: .3rem .8rem; align-items: baseline;
  color: var(--muted); font-size: .85rem; }
.speaker { color: var(--fg); font-weight: 700; font-size: 1rem; }
.incomplete { color: #bf8700; font-weight: 600; }
.content p { margin: .6rem 0; overflow-wrap: anywhere; }
pre { margin: .6rem 0; padding: .6rem .8rem; overflow-x: auto; background: var(--bg);
  border: 1px solid var(--line); border-radius: 6px; }
code { font: .875rem/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.tool-call, .tool-result { margin-top: .6rem; padding-left: .8rem;
  border-left: 3px solid var(--line); }
.tool-name { font-weight: 600; }
details { margin-top: .5rem; font-size: .9rem; }
summary { cursor: pointer; color: var(--muted); }
.empty { color: var(--muted); font-style: italic; }
@media print { .message { break-inside: avoid; } details { display: none; } }
"""
