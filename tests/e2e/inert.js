// Runs in a desk page: everything that would let hostile text act, as a list of
// problems (empty when the page is inert). `marker` is the corpus's mark.
(marker) => {
  const problems = [];
  const show = (el) => el.outerHTML.slice(0, 160);
  const own = location.origin;
  // Markup the desk never puts in a page's body: if one is there, text became markup.
  // (Charts are inline SVG: an injected one shows by its handlers and scripts.)
  const foreign = "script, iframe, frame, object, embed, math, base, meta, link, style, "
    + "video, audio, source, marquee, template, noscript, xmp";
  for (const el of document.body.querySelectorAll(foreign)) {
    problems.push(`unexpected <${el.localName}> in the body: ${show(el)}`);
  }
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on") || name.startsWith("hx-on")) {
        problems.push(`event handler attribute ${name}: ${show(el)}`);
      }
      // The mark may sit in a permalink (escaped, as a link's address) and nowhere
      // else but text.
      const permalink = el.localName === "a" && name === "href" && /^https?:\/\//i.test(attr.value);
      if (attr.value.includes(marker) && !permalink) {
        problems.push(`hostile text in the ${name} attribute: ${show(el)}`);
      }
    }
  }
  for (const el of document.querySelectorAll("[href], [src], [action], [formaction]")) {
    for (const name of ["href", "src", "action", "formaction"]) {
      const value = (el.getAttribute(name) || "").replace(/[\s\u0000-\u001f]/g, "").toLowerCase();
      if (/^(javascript|data|vbscript):/.test(value) && !(el.localName === "link" && name === "href")) {
        problems.push(`${name} with a script address: ${show(el)}`);
      }
    }
  }
  for (const a of document.querySelectorAll("a[href]")) {
    let url;
    try {
      url = new URL(a.getAttribute("href"), location.href);
    } catch {
      problems.push(`a link the browser cannot read: ${show(a)}`);
      continue;
    }
    if (url.origin === own) continue;
    const rel = (a.getAttribute("rel") || "").toLowerCase().split(/\s+/);
    if (!rel.includes("noopener") || !rel.includes("noreferrer")) {
      problems.push(`external link without rel="noopener noreferrer": ${show(a)}`);
    }
  }
  // A hostile name may be in the title as text; a payload that ran sets it to the mark.
  if (document.title === marker) problems.push("an injected script set the title");
  return problems;
}
