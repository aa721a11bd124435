// Clameur: small keyboard and form helpers; HTMX does the rest.
(function () {
  "use strict";

  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  // "/" focuses the query box, Escape leaves it and closes open menus.
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typing(event.target)) {
      var box = document.getElementById("query-box") || document.getElementById("query-text");
      if (box) {
        event.preventDefault();
        box.focus();
        box.select();
      }
    } else if (event.key === "Escape") {
      document.querySelectorAll("details.menu[open]").forEach(function (menu) {
        menu.removeAttribute("open");
        var summary = menu.querySelector("summary");
        if (summary && menu.contains(document.activeElement)) summary.focus();
      });
      if (document.activeElement && document.activeElement.id === "query-box") document.activeElement.blur();
    }
  });

  // Clicking elsewhere closes open menus.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // Selects marked data-autosubmit submit their form when changed (workspace switch).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.hasAttribute && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
  });

  // On narrow screens the filter panel starts folded, so the posts come first.
  document.querySelectorAll("details[data-collapse-below]").forEach(function (panel) {
    if (window.innerWidth < Number(panel.getAttribute("data-collapse-below"))) panel.removeAttribute("open");
  });

  // A correction re-renders its post's card: keyboard focus goes back to the control whose
  // menu was used (the new card has the same ids), not to the top of the page.
  var refocus = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var menu = event.target.closest && event.target.closest("details.pick");
    var summary = menu && menu.querySelector("summary[id]");
    if (summary) refocus = summary;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!refocus) return;
    var control = document.getElementById(refocus.id);
    if (!control || control === refocus) return;  // another request settled; not swapped yet
    refocus = null;
    control.focus();
  });

  // New posts fade their highlight after a while; the "N new posts" note too.
  document.addEventListener("htmx:afterSettle", function () {
    var news = document.getElementById("live-news");
    if (news && news.classList.contains("is-visible")) {
      clearTimeout(news._hide);
      news._hide = setTimeout(function () { news.classList.remove("is-visible"); }, 6000);
    }
  });
  // The inbox: j/k move through the list, r replies, e resolves, a assigns to me, ? lists them.
  function inboxRows() {
    return Array.prototype.slice.call(document.querySelectorAll("#inbox-list .conversation-row"));
  }
  function openRow(row) {
    if (!row) return;
    var link = row.querySelector(".row-link");
    inboxRows().forEach(function (each) { each.classList.toggle("is-selected", each === row); });
    if (link) { link.click(); link.focus(); }
  }
  // A mouse click selects its row as j/k do.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#inbox-list .row-link");
    if (!link) return;
    var row = link.closest(".conversation-row");
    inboxRows().forEach(function (each) { each.classList.toggle("is-selected", each === row); });
  });
  // The list refreshes itself every few seconds: it keeps the row the agent has selected since
  // the page was drawn, not the one selected when it was drawn.
  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt || event.detail.elt.id !== "inbox-list") return;
    var row = document.querySelector("#inbox-list .conversation-row.is-selected");
    var thread = document.querySelector("#conversation .thread[data-thread]");
    var selected = row ? row.getAttribute("data-conversation") : thread && thread.getAttribute("data-thread");
    if (!selected) return;
    var url = new URL(event.detail.path, window.location.origin);
    url.searchParams.set("c", selected);
    event.detail.path = url.pathname + url.search;
  });
  // The bulk-action bar says how many rows are ticked (inbox.css shows it once one is).
  function bulkCount() {
    var label = document.querySelector("#bulk [data-bulk-count]");
    if (!label) return;
    var count = document.querySelectorAll("#inbox-list .row-check:checked").length;
    label.textContent = label.getAttribute(count === 1 ? "data-one" : "data-other").replace("{n}", count);
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("#inbox-list .row-check")) bulkCount();
  });
  // The list's refresh redraws the rows: the ticks, the keyboard focus and the scroll position
  // are carried over to the new ones.
  var kept = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "inbox-list") return;
    var active = document.activeElement;
    var row = active && active.closest && active.closest("#inbox-list .conversation-row");
    var scroller = document.querySelector("#inbox-list .conversation-list");
    kept = {
      ticked: Array.prototype.map.call(
        document.querySelectorAll("#inbox-list .row-check:checked"), function (box) { return box.value; }),
      focused: row ? row.getAttribute("data-conversation") : null,
      control: active && active.classList && active.classList.contains("row-check") ? ".row-check" : ".row-link",
      scroll: scroller ? scroller.scrollTop : 0,
    };
  });
  // In the same task as the swap: nothing ever sees the new rows unticked.
  document.addEventListener("htmx:afterSwap", function (event) {
    var list = event.target;
    if (!kept || list.id !== "inbox-list" || !list.isConnected) return;
    var before = kept;
    kept = null;
    before.ticked.forEach(function (id) {
      var box = list.querySelector(".row-check[value='" + id + "']");
      if (box) box.checked = true;
    });
    var scroller = list.querySelector(".conversation-list");
    if (scroller) scroller.scrollTop = before.scroll;
    if (before.focused && (document.activeElement === document.body || !document.activeElement)) {
      var control = list.querySelector("[data-conversation='" + before.focused + "'] " + before.control);
      if (control) control.focus({ preventScroll: true });
    }
    bulkCount();
  });
  // A bulk action done: the ticks go (the list comes back without them), and so does the
  // refusal of an earlier one.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "bulk") {
      var notice = document.getElementById("inbox-notice");
      if (notice) notice.textContent = "";
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.elt || event.detail.elt.id !== "bulk" || !event.detail.successful) return;
    document.querySelectorAll("#inbox-list .row-check:checked").forEach(function (box) { box.checked = false; });
    if (kept) kept.ticked = [];
    bulkCount();
  });
  // A conversation opened from the list: on a narrow screen it replaces the list (inbox.css),
  // and the keyboard focus goes to it.
  document.addEventListener("htmx:afterSwap", function (event) {
    // Fired on the pane and on each element put in it: once is enough.
    if (!event.detail.target || event.detail.target.id !== "conversation" || event.target !== event.detail.target) return;
    var inbox = document.querySelector("[data-inbox]");
    if (!inbox) return;
    inbox.classList.add("is-reading");
    var from = event.detail.requestConfig && event.detail.requestConfig.elt;
    var list = document.getElementById("inbox-list");
    if (!from || !from.closest || !from.closest("#inbox-list") || !list) return;
    if (window.getComputedStyle(list).display !== "none") return;  // side by side: nothing moves
    inbox.scrollIntoView({ block: "start" });
    event.detail.target.focus({ preventScroll: true });
  });
  function clickKey(key) {
    var button = document.querySelector("#conversation [data-key='" + key + "']");
    if (button) button.click();
  }
  document.addEventListener("keydown", function (event) {
    if (!document.querySelector("[data-inbox]")) return;
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var rows = inboxRows();
    var current = rows.findIndex(function (row) { return row.classList.contains("is-selected"); });
    if (event.key === "j") { openRow(rows[Math.min(rows.length - 1, current + 1)]); }
    else if (event.key === "k") { openRow(rows[Math.max(0, current - 1)]); }
    else if (event.key === "e") { clickKey("e"); }
    else if (event.key === "a") { clickKey("a"); }
    else if (event.key === "r") {
      var reply = document.querySelector("#conversation textarea[name=body]");
      if (reply) reply.focus();
    }
    else if (event.key === "?") { var dialog = document.getElementById("shortcuts"); if (dialog) dialog.showModal(); }
    else { return; }
    event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-shortcuts-open]")) {
      var dialog = document.getElementById("shortcuts");
      if (dialog) dialog.showModal();
    }
  });
  // While an agent writes in a conversation's reply box, colleagues see "… is typing".
  document.addEventListener("input", function (event) {
    if (!event.target.closest || !event.target.closest("#conversation .reply-form")) return;
    var state = document.querySelector("#conversation [data-presence-state]");
    if (!state) return;
    state.value = "typing";
    clearTimeout(state._stop);
    state._stop = setTimeout(function () { state.value = "viewing"; }, 5000);
  });
  // Saved replies fill the composer; the composer counts characters against the network's limit.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.matches || !target.matches("select[data-fill]") || !target.value) return;
    var box = document.querySelector(target.getAttribute("data-fill"));
    if (box) { box.value = target.value; box.dispatchEvent(new Event("input", { bubbles: true })); box.focus(); }
    target.value = "";
  });
  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest(".reply-form[data-limit]");
    if (!form || event.target.name !== "body") return;
    var limit = parseInt(form.getAttribute("data-limit"), 10);
    var count = form.querySelector("[data-count]");
    if (!limit || !count) return;
    var text = event.target.value;
    var left = limit - (form.getAttribute("data-network") === "x" ? xLength(text) : Array.from(text).length);
    count.textContent = left + " / " + limit;
    count.classList.toggle("is-over", left < 0);
  });
  // The publishing composer counts the text against the limit of every chosen network.
  function publishCounts(form) {
    var out = form.querySelector("[data-counts]");
    var box = form.querySelector("textarea[name=body]");
    if (!out || !box) return;
    var limits = JSON.parse(form.getAttribute("data-limits") || "{}");
    var names = JSON.parse(form.getAttribute("data-network-names") || "{}");
    var networks = [];
    form.querySelectorAll("input[name=account]:checked").forEach(function (input) {
      var network = input.getAttribute("data-network");
      if (networks.indexOf(network) < 0) networks.push(network);
    });
    out.textContent = "";
    networks.forEach(function (network) {
      var limit = limits[network];
      if (!limit) return;
      var text = box.value;
      var left = limit - (network === "x" ? xLength(text) : Array.from(text).length);
      var badge = document.createElement("span");
      badge.className = "badge net-" + network + (left < 0 ? " is-over" : "");
      var words = form.getAttribute(left < 0 ? "data-over" : "data-left") || "%(network)s %(num)s";
      badge.textContent = words.replace("%(network)s", names[network] || network)
        .replace("%(num)s", String(Math.abs(left)));
      out.appendChild(badge);
    });
  }
  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var form = event.target.closest && event.target.closest(".publish-form");
      if (form) publishCounts(form);
    });
  });
  document.querySelectorAll(".publish-form").forEach(publishCounts);
  // X weighs a post (twitter-text 3): a URL counts 23, Latin and punctuation 1, other
  // characters (CJK, emoji) 2; an emoji with its modifiers and joined parts counts once.
  var X_URL = /(?:https?:\/\/|www\.)[^\s<>"]+/gi;
  function xWeight(code) {
    return code <= 4351 || (code >= 8192 && code <= 8205) || (code >= 8208 && code <= 8223) ||
      (code >= 8242 && code <= 8247) ? 1 : 2;
  }
  function xLength(text) {
    var urls = 0;
    text = text.normalize("NFC").replace(X_URL, function () { urls += 1; return ""; });
    var total = urls * 23, joined = false;
    Array.from(text).forEach(function (char) {
      var code = char.codePointAt(0);
      if (code === 0x200d) { joined = true; return; }
      if (code === 0xfe0f || code === 0xfe0e || (code >= 0x1f3fb && code <= 0x1f3ff)) return;
      if (joined) { joined = false; return; }
      total += xWeight(code);
    });
    return total;
  }
  // Forms marked data-confirm ask before they are sent (deleting a rule).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute && form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
  // On a rule's form, t tries the rule on the latest messages.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "t" || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var button = document.querySelector("#rule-form [data-key='t']");
    if (button) { event.preventDefault(); button.click(); }
  });
  // A suggested reply fills the composer, ready to edit.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-fill-text]");
    if (!button) return;
    var box = document.getElementById("reply-body");
    if (!box) return;
    box.value = button.getAttribute("data-fill-text");
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  });
})();
