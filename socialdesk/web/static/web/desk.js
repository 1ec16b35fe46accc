// Inbox: keyboard shortcuts and bulk selection (no inline script: the CSP forbids it).
(function () {
  "use strict";

  var current = null; // the case row the keys act on

  function table() { return document.getElementById("inbox-table"); }

  function rows() {
    var t = table();
    return t ? Array.prototype.slice.call(t.querySelectorAll("tbody tr[data-case]")) : [];
  }

  function checked() {
    var t = table();
    return t ? t.querySelectorAll("tbody input[name=ids]:checked").length : 0;
  }

  function typing(el) {
    if (!el || !el.tagName) { return false; }
    if (el.isContentEditable) { return true; }
    var tag = el.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select") { return true; }
    if (tag !== "input") { return false; }
    return ["checkbox", "radio", "button", "submit", "reset"].indexOf(el.type) < 0;
  }

  function mark(row) {
    rows().forEach(function (r) { r.classList.remove("current"); r.removeAttribute("aria-current"); });
    current = row;
    if (row) {
      row.classList.add("current");
      row.setAttribute("aria-current", "true");
      row.focus();
    }
  }

  function move(step) {
    var all = rows();
    if (!all.length) { return; }
    var index = all.indexOf(current);
    index = index < 0 ? (step > 0 ? 0 : all.length - 1)
      : Math.max(0, Math.min(all.length - 1, index + step));
    mark(all[index]);
  }

  function rowAction(action) {
    var form = document.getElementById("row-action");
    if (!current || !form) { return; }
    form.elements.action.value = action;
    form.elements.ids.value = current.getAttribute("data-case");
    form.submit();
  }

  function toggle(row) {
    var box = row && row.querySelector("input[name=ids]");
    if (!box) { return; }
    box.checked = !box.checked;
    box.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function updateSelection() {
    var label = document.querySelector("[data-selected-count]");
    var n = checked();
    if (label) { label.textContent = n ? n + " selected" : ""; }
    var all = document.querySelector("[data-select-all]");
    if (all) { all.checked = n > 0 && n === rows().length; }
  }

  function showBulkFields() {
    var action = document.getElementById("bulk_action");
    if (!action) { return; }
    document.querySelectorAll("[data-bulk-for]").forEach(function (el) {
      el.hidden = el.getAttribute("data-bulk-for") !== action.value;
    });
  }

  document.addEventListener("keydown", function (event) {
    if (!table() || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typing(event.target)) { return; }
    var dialog = document.getElementById("shortcuts");
    if (dialog && dialog.open) { return; }
    var key = event.key;
    if (key === "?") {
      if (dialog && dialog.showModal) { dialog.showModal(); event.preventDefault(); }
      return;
    }
    if (key === "j" || key === "k") { move(key === "j" ? 1 : -1); event.preventDefault(); return; }
    if (!current || !document.body.contains(current)) { current = null; return; }
    var url = current.getAttribute("data-url");
    if (key === "o" || (key === "Enter" && event.target === current)) {
      window.location.assign(url);
    } else if (key === "r") {
      window.location.assign(url + "#composer");
    } else if (key === "a") {
      rowAction("assign_me");
    } else if (key === "e") {
      rowAction("resolve");
    } else if (key === "x") {
      toggle(current);
    } else {
      return;
    }
    event.preventDefault();
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-select-all]")) {
      rows().forEach(function (r) {
        var box = r.querySelector("input[name=ids]");
        if (box) { box.checked = el.checked; }
      });
    }
    if (el.id === "bulk_action") { showBulkFields(); }
    if (table() && table().contains(el)) { updateSelection(); }
  });

  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("#inbox-table tbody tr[data-case]");
    if (row) { current = row; rows().forEach(function (r) { r.classList.toggle("current", r === row); }); }
  });

  // Live updates: the poll answers a notice; the rows are swapped only while the
  // agent has nothing selected and no focus in the table, else the notice waits.
  // After settling: htmx has then wired up the notice's button.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "inbox-live") { return; }
    var show = target.querySelector("[data-inbox-show]");
    var t = table();
    var busy = checked() > 0 || (t && t.contains(document.activeElement));
    if (show && !busy) { show.click(); }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "inbox-results") {
      current = null;
      showBulkFields();
      updateSelection();
      tick();
    }
  });

  // SLA countdowns, ticked between polls: the server's wording, from data-due.
  function span(seconds) {
    var minutes = Math.max(1, Math.round(seconds / 60));
    if (minutes < 60) { return minutes + " min"; }
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours < 48) { return hours + " h" + (minutes ? " " + minutes + " min" : ""); }
    var days = Math.floor(hours / 24);
    hours = hours % 24;
    return days + " d" + (hours ? " " + hours + " h" : "");
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) { return; }
      var seconds = (due - now) / 1000;
      el.textContent = seconds < 0 ? "overdue " + span(-seconds) : span(seconds) + " left";
      el.classList.toggle("overdue", seconds < 0);
      el.classList.toggle("soon", seconds >= 0 && seconds <= 3600);
      el.classList.toggle("ok", seconds > 3600);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    showBulkFields();
    updateSelection();
    if (table()) { window.setInterval(tick, 30000); }
  });
}());
