"""What the browser sweeps and the first-hour journey check on every page they visit."""

# What sticks out past the edges of the viewport, and skip links without a target. What a box
# that fits clips or scrolls (a DSFR table scrolls inside its own container) does not count:
# it neither widens the page nor shows; neither does what is not rendered (a closed
# <details>, display: none).
LAYOUT_PROBLEMS = """() => {
  const width = window.innerWidth;
  const fits = (box) => box.left >= -0.5 && box.right <= width + 0.5;
  const clippedInside = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return fits(up.getBoundingClientRect());
    }
    return false;
  };
  const problems = [];
  const page = document.documentElement.scrollWidth;
  if (page > width) problems.push(`page ${page} px wide`);
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || fits(box) || !el.checkVisibility()) continue;
    if (clippedInside(el)) continue;
    const classes = String(el.className || "").trim().replace(/\\s+/g, ".");
    const name = el.tagName.toLowerCase() + (classes ? "." + classes : "");
    problems.push(`${name} from ${Math.round(box.left)} to ${Math.round(box.right)} px`);
  }
  for (const link of document.querySelectorAll(".fr-skiplinks a")) {
    const target = link.getAttribute("href").slice(1);
    if (!document.getElementById(target)) problems.push(`skip link to #${target}: no target`);
  }
  return problems;
}"""
