// Runs after each Tab (a11y.js ran first in this page): which control has focus, how
// it looks focused, and how the control focused before looks now that it is not.
(previous) => {
  const { parse, over, background, ratio } = window.__contrast;
  const look = (el) => {
    const s = getComputedStyle(el);
    return `outline ${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}; shadow ${s.boxShadow}`;
  };
  const before = previous === null ? null
    : look(document.querySelector(`[data-tab-order="${previous}"]`));
  const el = document.activeElement;
  if (!el || el === document.body) return { order: null, before };
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
  // The ring is drawn around the control, on its container's background.
  const around = background(el.parentElement);
  return {
    order: el.dataset.tabOrder === undefined ? "untagged" : +el.dataset.tabOrder,
    what: el.outerHTML.slice(0, 120),
    look: look(el),
    indicated: outline || s.boxShadow !== "none",
    ring: outline ? ratio(over(parse(s.outlineColor), around), around) : null,
    before,
  };
}
