// The WAI-ARIA tabs pattern: one tab in the Tab order (roving tabindex), arrow keys, Home
// and End move between the visible tabs and open them.
export function selectTab(tab, focus) {
  document.querySelectorAll(".tab").forEach((t) => {
    const on = t === tab;
    t.classList.toggle("active", on);
    t.setAttribute("aria-selected", on ? "true" : "false");
    t.tabIndex = on ? 0 : -1;
  });
  document.querySelectorAll(".panel").forEach((p) => { p.hidden = p.id !== tab.dataset.tab; });
  if (focus) tab.focus();
}
// Ctrl+Enter (Cmd+Enter) runs the open tab, as in the tools people already use
document.addEventListener("keydown", (e) => {
  if (!(e.ctrlKey || e.metaKey) || e.key !== "Enter") return;
  const panel = [...document.querySelectorAll(".panel")].find((p) => !p.hidden);
  const run = panel && panel.querySelector("button.run:not([disabled])");
  if (run) { e.preventDefault(); run.click(); }
});
document.querySelectorAll(".tab").forEach((tab) => {
  tab.onclick = () => selectTab(tab, false);
  tab.onkeydown = (e) => {
    const tabs = [...document.querySelectorAll(".tab")].filter((t) => !t.hidden);
    const i = tabs.indexOf(tab);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    selectTab(tabs[(next + tabs.length) % tabs.length], true);
  };
});
