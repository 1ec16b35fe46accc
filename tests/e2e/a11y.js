// Runs in a desk page: the accessibility checks that need no keyboard. Returns the
// problems found, and tags every control that Tab should reach, in document order,
// with data-tab-order (what the keyboard walk in the test compares against).
() => {
  const problems = [];
  const show = (el) => el.outerHTML.slice(0, 140);

  // The accessible name, by the rules a screen reader uses first.
  const nameOf = (el) => {
    const by = el.getAttribute("aria-labelledby");
    if (by) {
      const text = by.split(/\s+/).map((id) => document.getElementById(id)?.textContent || "")
        .join(" ").trim();
      if (text) return text;
    }
    const aria = (el.getAttribute("aria-label") || "").trim();
    if (aria) return aria;
    if (el.labels && el.labels.length) {
      const text = [...el.labels].map((label) => label.textContent).join(" ").trim();
      if (text) return text;
    }
    if (["button", "a", "summary"].includes(el.localName)) {
      const text = el.textContent.trim();
      if (text) return text;
      const img = el.querySelector("img[alt]");
      if (img && img.alt.trim()) return img.alt.trim();
    }
    if (el.localName === "input" && ["submit", "button", "reset"].includes(el.type)) {
      return (el.value || "").trim();
    }
    return (el.getAttribute("title") || "").trim();
  };

  const controls = "input:not([type=hidden]), select, textarea, button, a[href], summary";
  for (const el of document.querySelectorAll(controls)) {
    if (!nameOf(el)) problems.push(`no accessible name: ${show(el)}`);
  }
  for (const el of document.querySelectorAll("img:not([alt]), input[type=image]:not([alt])")) {
    problems.push(`image without alt: ${show(el)}`);
  }
  const h1s = document.querySelectorAll("h1").length;
  if (h1s !== 1) problems.push(`${h1s} h1 headings, not one`);
  if (!document.documentElement.lang) problems.push("no lang attribute on <html>");

  // Colours: a text's colour against the background it sits on.
  const parse = (value) => {
    const m = value.match(/rgba?\(([\d.]+),?\s*([\d.]+),?\s*([\d.]+)(?:,?\s*\/?\s*([\d.]+))?\)/);
    return m ? [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]] : [0, 0, 0, 0];
  };
  const over = (top, below) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + below[i] * (1 - a)).concat(1);
  };
  const background = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const colour = parse(getComputedStyle(node).backgroundColor);
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] >= 1) break;
    }
    return layers.reverse().reduce((below, top) => over(top, below), [255, 255, 255, 1]);
  };
  const luminance = ([r, g, b]) => {
    const channel = (v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  window.__contrast = { parse, over, background, ratio };

  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const el = text.parentElement;
    if (!text.textContent.trim() || seen.has(el) || el.closest("option, script, style")) continue;
    seen.add(el);
    const box = el.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1 || !el.checkVisibility({ visibilityProperty: true })) {
      continue;
    }
    if (el.closest(":disabled")) continue;
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && +style.fontWeight >= 700);
    const bg = background(el);
    const contrast = ratio(over(parse(style.color), bg), bg);
    if (contrast < (large ? 3 : 4.5)) {
      problems.push(`contrast ${contrast.toFixed(2)}:1 for "${text.textContent.trim()
        .slice(0, 40)}" (${style.color} on rgb(${bg.slice(0, 3).join(", ")})): ${show(el)}`);
    }
  }
  for (const el of document.querySelectorAll("[placeholder]")) {
    const bg = background(el);
    const colour = over(parse(getComputedStyle(el, "::placeholder").color), bg);
    if (ratio(colour, bg) < 4.5) {
      problems.push(`placeholder contrast ${ratio(colour, bg).toFixed(2)}:1: ${show(el)}`);
    }
  }

  // What Tab should reach: enabled, rendered, not taken out of the order.
  const focusable = "a[href], button, input:not([type=hidden]), select, textarea, summary, "
    + "[tabindex]";
  let order = 0;
  for (const el of document.querySelectorAll(focusable)) {
    el.removeAttribute("data-tab-order");
    if (el.disabled || el.tabIndex < 0 || !el.checkVisibility()) continue;
    if (el.localName === "summary" && el.parentElement.querySelector("summary") !== el) continue;
    if (el.type === "radio" && !el.checked && el.form
        && [...el.form.elements].some((o) => o.name === el.name && o.checked)) continue;
    el.dataset.tabOrder = order++;
  }
  return { problems, controls: order };
}
