// Case page composer: live character counts, saved replies, focus on #composer,
// and SLA countdowns. No inline script: the Content-Security-Policy forbids it.
(function () {
  "use strict";

  // Characters as the server counts them: code points of the trimmed text
  // (an emoji is one, not two UTF-16 units).
  function length(text) {
    return Array.from(text.trim()).length;
  }

  function limitOf(counter) {
    var select = counter.dataset.visibilitySelect &&
      document.getElementById(counter.dataset.visibilitySelect);
    var visibility = select && select.value === "private" ? "private" : "public";
    return parseInt(counter.dataset["limit" + (visibility === "private" ? "Private" : "Public")], 10);
  }

  function updateCounter(counter) {
    var box = document.getElementById(counter.dataset.counterFor);
    if (!box) return;
    var used = length(box.value);
    var limit = limitOf(counter);
    var over = used - limit;
    var text = used + " of " + limit + " characters";
    if (over > 0) text += ": " + over + " over the limit";
    // Written only when it changes, so the live region is not re-announced for nothing.
    if (counter.textContent !== text) counter.textContent = text;
    counter.classList.toggle("over", over > 0);
    box.classList.toggle("over-limit", over > 0);
    box.setAttribute("aria-invalid", over > 0 ? "true" : "false");
  }

  function setUpCounters(root) {
    root.querySelectorAll("[data-counter-for]").forEach(function (counter) {
      var box = document.getElementById(counter.dataset.counterFor);
      if (!box || counter.dataset.ready) return;
      counter.dataset.ready = "1";
      box.addEventListener("input", function () { updateCounter(counter); });
      var select = counter.dataset.visibilitySelect &&
        document.getElementById(counter.dataset.visibilitySelect);
      if (select) select.addEventListener("change", function () { updateCounter(counter); });
      updateCounter(counter);
    });
  }

  // Puts text at the cursor (replacing any selection) and tells listeners
  // (the counter, the presence poll) that the draft changed.
  function insert(box, text) {
    var start = box.selectionStart, end = box.selectionEnd;
    if (typeof start !== "number") { start = end = box.value.length; }
    var before = box.value.slice(0, start), after = box.value.slice(end);
    var joined = before && !/\s$/.test(before) ? before + " " + text : before + text;
    box.value = joined + after;
    box.focus();
    box.setSelectionRange(joined.length, joined.length);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function setUpSavedReplies(root) {
    root.querySelectorAll("select[data-saved-reply-for]").forEach(function (select) {
      if (select.dataset.ready) return;
      select.dataset.ready = "1";
      select.addEventListener("change", function () {
        var url = select.value;
        var box = document.getElementById(select.dataset.savedReplyFor);
        var status = document.getElementById(select.id + "-status");
        if (!url || !box) return;
        if (status) status.textContent = "Inserting…";
        fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
          .then(function (response) {
            return response.json().then(function (body) { return { ok: response.ok, body: body }; });
          })
          .then(function (answer) {
            if (!answer.ok) throw new Error(answer.body.detail || "The saved reply could not be used.");
            insert(box, answer.body.text);
            if (status) status.textContent = "Inserted “" + answer.body.name + "”.";
          })
          .catch(function (error) {
            if (status) status.textContent = error.message || "The saved reply could not be loaded.";
          })
          .finally(function () { select.value = ""; });
      });
    });
  }

  // The inbox's "r" opens /cases/<id>/#composer: the first draft box takes the focus.
  function focusComposer() {
    if (window.location.hash !== "#composer") return;
    var box = document.querySelector("#composer textarea");
    if (box) box.focus();
  }

  function inWords(seconds) {
    if (seconds < 90) return Math.round(seconds) + " s";
    if (seconds < 90 * 60) return Math.round(seconds / 60) + " min";
    if (seconds < 36 * 3600) return (seconds / 3600).toFixed(1) + " h";
    return (seconds / 86400).toFixed(1) + " d";
  }

  function updateCountdowns() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-due]").forEach(function (span) {
      var due = Date.parse(span.dataset.due);
      if (isNaN(due)) return;
      var left = (due - now) / 1000;
      span.textContent = left >= 0 ? "in " + inWords(left) : inWords(-left) + " overdue";
      var clock = span.closest(".clock");
      if (clock) clock.classList.toggle("overdue", left < 0);
    });
  }

  function setUp(root) {
    setUpCounters(root);
    setUpSavedReplies(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUp(document);
    if (document.querySelector(".countdown[data-due]")) {
      updateCountdowns();
      window.setInterval(updateCountdowns, 30000);
    }
  });
  // After the browser's own scroll to the #composer fragment, which moves the focus
  // to the fragment's target (or the page) once the document has loaded.
  window.addEventListener("load", function () { window.setTimeout(focusComposer, 0); });
  window.addEventListener("hashchange", focusComposer);
  // Parts of the page htmx swaps in get the same behaviour.
  document.addEventListener("htmx:afterSettle", function (event) { setUp(event.target); });
})();
